"""Synthetic data (first part of issue 4): specs, samplers, expressions, references, rules, seeds, export."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from test_cli import run as run_cli

from llmkit.synth import GenerationFailed, SpecError, parse_spec, resolve_spec, run, template_names


def _generate(spec, tmp_path, fmt="csv"):
    return list(run(spec, tmp_path, fmt))


def test_templates_give_exact_rows_that_keep_their_rules(tmp_path):
    assert set(template_names()) >= {"customers", "orders"}
    spec = resolve_spec("customers", rows=3000, seed=5)
    progress = _generate(spec, tmp_path)
    assert progress[-1].done == progress[-1].total == 3000
    rows = list(csv.DictReader((tmp_path / "customers.csv").open()))
    assert len(rows) == 3000
    assert len({r["email"] for r in rows}) == 3000 and all(r["email"].endswith("@example.com") for r in rows)
    assert all(r["email"].startswith(r["first_name"].lower()[:1]) for r in rows)  # derived from the row
    segments = [r["segment"] for r in rows]
    assert 0.6 < segments.count("consumer") / 3000 < 0.8  # weights 0.7 / 0.25 / 0.05


def test_references_and_foreign_keys_in_sqlite(tmp_path):
    spec = resolve_spec("orders", rows=100, seed=2)
    _generate(spec, tmp_path, "sqlite")
    db = sqlite3.connect(tmp_path / "orders.sqlite")
    assert db.execute("select count(*) from customers").fetchone()[0] == 100
    assert db.execute("select count(*) from orders").fetchone()[0] == 300
    orphans = db.execute("select count(*) from orders where customer_id not in (select customer_id from customers)")
    assert orphans.fetchone()[0] == 0 and db.execute("PRAGMA foreign_key_check").fetchall() == []
    bad_totals = db.execute("select count(*) from orders where abs(total - round(quantity * unit_price, 2)) > 1e-9")
    assert bad_totals.fetchone()[0] == 0
    assert db.execute("select min(quantity) from orders").fetchone()[0] >= 1


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    for name, seed in (("a", 9), ("b", 9), ("c", 10)):
        _generate(resolve_spec("orders", rows=80, seed=seed), tmp_path / name, "jsonl")
    read = lambda name: (tmp_path / name / "orders.jsonl").read_bytes()  # noqa: E731
    assert read("a") == read("b") and read("a") != read("c")
    first = json.loads(read("a").splitlines()[0])
    assert set(first) == {"order_id", "customer_id", "quantity", "unit_price", "total", "order_date"}


def _spec(columns, rules=None, rows=10):
    return {"tables": [{"name": "t", "rows": rows, "columns": columns, "rules": rules or []}]}


@pytest.mark.parametrize(
    "spec, where, why",
    [
        ({"tables": "x"}, "spec.tables", "expected list"),
        (_spec([{"name": "a", "sampler": "gaussian"}]), "tables[0].columns[0].sampler", "unknown sampler"),
        (_spec([{"name": "a", "sampler": "normal", "mean": 0, "std": 0}]), "tables[0].columns[0].std", "> 0"),
        (
            _spec([{"name": "a", "sampler": "choice", "values": [1, 2], "weights": [1]}]),
            "columns[0].weights",
            "one weight per value",
        ),
        (
            _spec([{"name": "a", "kind": "expression", "expression": "b + 1"}]),
            "columns[0].expression",
            "unknown column 'b'",
        ),
        (
            _spec(
                [
                    {"name": "a", "kind": "expression", "expression": "b"},
                    {"name": "b", "kind": "expression", "expression": "a"},
                ]
            ),
            "tables[0].columns",
            "cyclic",
        ),
        (
            _spec([{"name": "a", "kind": "expression", "expression": "__import__('os')"}]),
            "columns[0].expression",
            "unknown function",
        ),
        (
            _spec([{"name": "a", "kind": "reference", "table": "nope", "column": "id"}]),
            "columns[0].table",
            "unknown table",
        ),
        (
            _spec([{"name": "a", "sampler": "date", "start": "2024-02-01", "end": "2024-01-01"}]),
            "columns[0].start",
            "after end",
        ),
        (
            _spec([{"name": "a", "sampler": "integer", "min": 0, "max": 5}], [{"unique": "b"}]),
            "rules[0].unique",
            "unknown column",
        ),
    ],
)
def test_spec_errors_name_the_field_and_the_reason(spec, where, why):
    with pytest.raises(SpecError) as error:
        parse_spec(spec)
    assert where in error.value.path and why in str(error.value)


def test_impossible_rules_fail_with_the_reason(tmp_path):
    tiny_domain = parse_spec(_spec([{"name": "a", "sampler": "choice", "values": [1, 2, 3]}], [{"unique": "a"}]))
    with pytest.raises(GenerationFailed, match="unique over 10 rows is impossible.*only 3 distinct"):
        _generate(tiny_domain, tmp_path)
    never = parse_spec(_spec([{"name": "q", "sampler": "poisson", "lam": 1}], [{"check": "q > 50"}]))
    with pytest.raises(GenerationFailed, match="only 0 of 10 rows meet the rules"):
        _generate(never, tmp_path)
    unknown_provider = parse_spec(_spec([{"name": "a", "sampler": "faker", "provider": "no_such_thing"}]))
    with pytest.raises(SpecError, match="unknown Faker provider 'no_such_thing'"):
        _generate(unknown_provider, tmp_path)


def test_cli_synth(tmp_path):
    assert run_cli("synth", "templates").stdout.split() == template_names()
    assert "tables:" in run_cli("synth", "show", "orders").stdout
    result = run_cli("synth", "run", "orders", "--rows", "20", "--seed", "1", "-o", str(tmp_path), "--format", "csv")
    assert result.returncode == 0 and "80 rows in 2 table(s)" in result.stderr
    assert len((tmp_path / "orders.csv").read_text().splitlines()) == 61
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables:\n  - name: t\n    rows: 5\n    columns:\n      - {name: a, sampler: gaussian}\n")
    failed = run_cli("synth", "run", str(bad), "-o", str(tmp_path / "x"))
    assert failed.returncode == 1 and "tables[0].columns[0].sampler" in failed.stderr

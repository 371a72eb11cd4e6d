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
    from llmkit.synth.expressions import FUNCTIONS

    assert all(r["email"].startswith(FUNCTIONS["slug"](r["first_name"])) for r in rows)  # derived from the row
    countries = {"en_US": "US", "de_DE": "DE", "fr_FR": "FR", "pl_PL": "PL"}  # per-row locale: consistent rows
    assert all(r["country"] == countries[r["locale"]] for r in rows if r["locale"] in countries)
    assert len({r["locale"] for r in rows}) >= 8
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
    assert [line.split()[0] for line in run_cli("synth", "templates").stdout.splitlines()] == template_names()
    assert "tables:" in run_cli("synth", "show", "orders").stdout
    result = run_cli("synth", "run", "orders", "--rows", "20", "--seed", "1", "-o", str(tmp_path), "--format", "csv")
    assert result.returncode == 0 and "80 rows in 2 table(s)" in result.stderr
    assert len((tmp_path / "orders.csv").read_text().splitlines()) == 61
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables:\n  - name: t\n    rows: 5\n    columns:\n      - {name: a, sampler: gaussian}\n")
    failed = run_cli("synth", "run", str(bad), "-o", str(tmp_path / "x"))
    assert failed.returncode == 1 and "tables[0].columns[0].sampler" in failed.stderr


# ---- second part: new column kinds, templates, resume, export formats, LLM columns, report ----------


def _rows(path):
    return list(csv.DictReader(path.open(newline="", encoding="utf-8")))


def test_locales_are_checked():
    with pytest.raises(SpecError, match=r"tables\[0\]\.locale: expected a Faker locale"):
        parse_spec({"tables": [{"name": "t", "rows": 1, "locale": 5, "columns": [{"name": "a", "sampler": "uuid"}]}]})
    spec = parse_spec({"tables": [{"name": "t", "rows": 3, "locale": ["en_US", "xx_XX"],
                                   "columns": [{"name": "a", "sampler": "faker", "provider": "name"}]}]})  # fmt: skip
    with pytest.raises(SpecError, match="Faker has no locale 'xx_XX'"):
        list(run(spec, __import__("pathlib").Path(__import__("tempfile").mkdtemp()), "csv"))


@pytest.mark.parametrize(
    "column, where, why",
    [
        ({"name": "a", "kind": "llm"}, "columns[1].prompt", "missing"),
        ({"name": "a", "kind": "llm", "prompt": "x", "temprature": 1}, "columns[1].temprature", "unknown option"),
        ({"name": "a", "kind": "llm", "prompt": "as {persona}"}, "columns[1].prompt", "no personas"),
        ({"name": "a", "kind": "llm", "prompt": "about {nope}"}, "columns[1].prompt", "unknown column 'nope'"),
        ({"name": "a", "kind": "llm_object", "prompt": "x", "schema": {"type": "string"}}, "columns[1].schema", "type: object"),
        ({"name": "a", "kind": "timeseries", "entity": "id"}, "columns[1].entity", "reference column"),
        ({"name": "a", "kind": "timeseries", "entity": "id", "role": "time", "start": "2024-01-01", "every": "2w"},
         "columns[1].every", "1d, 6h"),
        ({"name": "a", "kind": "hierarchy", "key": "b", "fanout": 3}, "columns[1].key", "sequence column"),
    ],
)  # fmt: skip
def test_new_column_kinds_validate_with_field_paths(column, where, why):
    spec = _spec(
        [{"name": "id", "sampler": "sequence"}, column, {"name": "b", "sampler": "integer", "min": 0, "max": 9}]
    )
    with pytest.raises(SpecError) as error:
        parse_spec(spec)
    assert where in error.value.path and why in str(error.value), str(error.value)


def test_all_templates_run_and_keep_their_rules_and_keys(tmp_path):
    from llmkit.synth.report import build_report

    for name in ("customers", "orders", "employees", "healthcare", "transactions"):
        spec = resolve_spec(name, rows=120, seed=3)
        _generate(spec, tmp_path / name)
        report = build_report(tmp_path / name, spec)
        for table in spec.tables:
            entry = report["tables"][table.name]
            assert entry["rows"] == table.rows
            assert all(rule["violations"] == 0 for rule in entry["rules"]), entry["rules"]
            assert all(check["orphans"] == 0 for check in entry["referential_integrity"])
        _generate(spec, tmp_path / f"{name}-db", "sqlite")  # foreign keys declared (manager_id into the same table)
        db = sqlite3.connect(tmp_path / f"{name}-db" / f"{name}.sqlite")
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_hierarchy_time_series_and_fraud_share(tmp_path):
    _generate(resolve_spec("employees", rows=60, seed=1), tmp_path / "e")
    staff = {int(r["employee_id"]): r for r in _rows(tmp_path / "e" / "employees.csv")}
    assert staff[1]["manager_id"] == "" and staff[1]["title"] == "Chief Executive"
    for row in list(staff.values())[1:]:
        boss = staff[int(row["manager_id"])]
        assert int(row["level"]) == int(boss["level"]) + 1 and float(row["salary"]) < float(boss["salary"]) * 1.3
    _generate(resolve_spec("transactions", rows=100, seed=1), tmp_path / "t")
    rows = _rows(tmp_path / "t" / "transactions.csv")
    assert len(rows) == 4000
    fraud = [r for r in rows if r["is_fraud"] == "True"]
    assert 0.01 < len(fraud) / len(rows) < 0.03
    assert all(r["channel"] == "card_not_present" and r["merchant_country"] not in ("GB", "IE", "FR") for r in fraud)
    normal = [float(r["amount"]) for r in rows if r["is_fraud"] == "False"]
    assert sum(float(r["amount"]) for r in fraud) / len(fraud) > 5 * sum(normal) / len(normal)
    by_account: dict[str, list[str]] = {}
    for row in rows:
        if row["is_fraud"] == "False":
            by_account.setdefault(row["account_id"], []).append(row["booked_at"])
    assert all(times == sorted(times) for times in by_account.values())  # each account's series is ordered


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "sqlite", "parquet"])
def test_killed_run_resumes_to_the_same_bytes(tmp_path, fmt):
    def spec():
        data = resolve_spec("orders", rows=300, seed=4)
        for table in data.tables:
            table.batch_rows = 100
        return data

    list(run(spec(), tmp_path / "whole", fmt))
    events = run(spec(), tmp_path / "killed", fmt)
    for _ in range(5):  # customers 3 batches, then 2 of 9 order batches: then the process "dies"
        next(events)
    events.close()
    if fmt in ("csv", "jsonl"):  # and it died in the middle of writing the next batch
        with (tmp_path / "killed" / f"orders.{fmt}").open("a") as handle:
            handle.write("half a row,")
    resumed = list(run(spec(), tmp_path / "killed", fmt))
    assert resumed[0].table == "orders" and resumed[0].done == 300  # picked up after the 2 finished batches
    summary = json.loads((tmp_path / "killed" / "synth-run.json").read_text())
    assert summary["resumed_batches"] == 5
    from llmkit.synth.report import load_tables

    whole, killed = load_tables(tmp_path / "whole"), load_tables(tmp_path / "killed")
    assert whole == killed and len(killed["orders"]) == 900
    if fmt in ("csv", "jsonl"):
        for name in ("customers", "orders"):
            assert (tmp_path / "whole" / f"{name}.{fmt}").read_bytes() == (
                tmp_path / "killed" / f"{name}.{fmt}"
            ).read_bytes()


def test_parquet_and_hf_datasets_export(tmp_path):
    datasets = pytest.importorskip("datasets")
    _generate(resolve_spec("orders", rows=30, seed=2), tmp_path, "hf")
    loaded = datasets.load_from_disk(str(tmp_path / "dataset"))
    assert loaded["customers"].num_rows == 30 and loaded["orders"].num_rows == 90
    assert set(loaded["orders"].column_names) == {
        "order_id",
        "customer_id",
        "quantity",
        "unit_price",
        "total",
        "order_date",
    }


class _ScriptedEngine:
    """Stands in for a model that misbehaves on purpose (a real one cannot be told to): replies come
    from `reply(prompt_text, attempt_seed)`."""

    def __init__(self, reply):
        from llmkit.config import load_settings

        self.settings = load_settings()
        self.reply = reply
        self.prompts: list[str] = []
        self.models: list[str] = []

    def resolve(self, model):
        from llmkit.models.catalog import Catalog

        return Catalog.load(self.settings).resolve(model or self.settings.default_model)

    def backend_name(self, entry, backend=None):
        return backend or "transformers"

    def json_backend(self, model=None, backend=None):
        return backend or "transformers"  # the fake writes every reply itself: no grammar backend to move to

    def capabilities(self, model=None, backend=None):
        from llmkit.generation import BackendCapabilities

        return BackendCapabilities()  # unconstrained, as transformers: replies are validated and retried

    def generate_many(self, prompts, params, *, model=None, backend=None):
        from llmkit.generation.types import GenerationResult, GenerationStats

        for index, (prompt, one) in enumerate(zip(prompts, params, strict=True)):
            text = prompt[-1].content
            self.prompts.append(text)
            self.models.append(model)
            stats = GenerationStats("fake", "transformers", 1, 5, 0.0, 0.0, 0.0, "stop")
            yield index, GenerationResult(self.reply(text, one.seed), stats)


def _llm_spec(columns, rows=6):
    return parse_spec(
        {"seed": 1, "tables": [{"name": "t", "rows": rows, "batch_rows": 3, "columns": [
            {"name": "id", "sampler": "sequence"}, {"name": "colour", "sampler": "choice", "values": ["red", "blue"]},
            *(columns if isinstance(columns, list) else [columns])]}]}
    )  # fmt: skip


def test_llm_rows_that_stay_invalid_fail_the_run_and_keep_finished_batches(tmp_path):
    # Valid JSON for the first three rows (one batch), then never again.
    def reply(prompt, seed):
        return '{"label": "fine"}' if "row 1 " in prompt or "row 2 " in prompt or "row 3 " in prompt else "{oops"

    column = {"name": "obj", "kind": "llm_object", "prompt": "Label row {id} in {colour}.", "retries": 2,
              "schema": {"type": "object", "properties": {"label": {"type": "string"}}}}  # fmt: skip
    engine = _ScriptedEngine(reply)
    with pytest.raises(GenerationFailed, match=r"only 3 of 6 rows.*obj: \d+ rows without a valid reply"):
        list(run(_llm_spec(column), tmp_path, "csv", engine=engine))
    assert [r["label"] for r in _rows(tmp_path / "t.csv")] == ["fine"] * 3  # the finished batch is kept
    summary = json.loads((tmp_path / "synth-run.json").read_text())["llm"][0]
    assert summary["invalid"] > 0 and summary["retries"] > 0 and summary["invalid_examples"][0] == "{oops"
    assert "JSON Schema" in engine.prompts[0] and '"label"' in engine.prompts[0]  # the schema is in the prompt


def test_near_duplicate_llm_text_is_replaced_and_personas_rotate(tmp_path):
    calls = {"n": 0}

    def reply(prompt, seed):
        calls["n"] += 1
        return "The very same sentence every time." if calls["n"] % 2 else f"A fresh sentence number {calls['n']}."

    column = {"name": "note", "kind": "llm", "prompt": "Write about {colour} as {persona}.",
              "personas": ["a chef", "a pilot"], "models": ["smollm2-135m-instruct", "qwen2-0.5b-instruct"]}  # fmt: skip
    engine = _ScriptedEngine(reply)
    list(run(_llm_spec(column), tmp_path, "csv", engine=engine))
    assert set(engine.models) == {"smollm2-135m-instruct", "qwen2-0.5b-instruct"}  # rotated across rows
    notes = [r["note"] for r in _rows(tmp_path / "t.csv")]
    assert len(notes) == 6 and len(set(notes)) == 6
    assert {"a chef", "a pilot"} <= {p.split(" as ")[1].rstrip(".") for p in engine.prompts}
    assert json.loads((tmp_path / "synth-run.json").read_text())["llm"][0]["near_duplicates"] > 0


@pytest.mark.slow
@pytest.mark.llamacpp
def test_llm_columns_with_the_embedded_model(tmp_path):
    from llmkit.generation.backends.base import backend_installed

    if not backend_installed("llamacpp"):
        pytest.skip("no llama.cpp runtime: pip install 'llmkit[llamacpp]'")
    column = {"name": "product", "kind": "llm_object", "prompt": "Invent a {colour} product for a shop.",
              "max_tokens": 80, "schema": {"type": "object", "properties": {
                  "product_name": {"type": "string", "minLength": 3, "maxLength": 40},
                  "price": {"type": "number"}}}}  # fmt: skip
    blurb = {"name": "blurb", "kind": "llm", "prompt": "One sentence about a {colour} lamp.", "max_tokens": 40}
    spec = _llm_spec([column, blurb], rows=4)
    for name in ("a", "b"):
        list(run(spec, tmp_path / name, "jsonl"))
    rows = [json.loads(line) for line in (tmp_path / "a" / "t.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(
        3 <= len(r["product_name"]) <= 40 and isinstance(r["price"], (int, float)) for r in rows
    )
    assert all(r["blurb"].strip() for r in rows)
    stats = {s["column"]: s for s in json.loads((tmp_path / "a" / "synth-run.json").read_text())["llm"]}
    assert stats["product"]["backend"] == "llamacpp" and stats["product"]["constrained"]
    assert stats["product"]["json_rate"] == 1.0  # grammar-constrained: every reply parses
    assert stats["blurb"]["backend"] == "transformers"
    assert (tmp_path / "a" / "t.jsonl").read_bytes() == (tmp_path / "b" / "t.jsonl").read_bytes()  # seeded


def test_report_finds_violations_orphans_and_scores_similarity(tmp_path):
    from llmkit.synth.report import build_report, ks_complement, tv_complement, write_report

    spec = resolve_spec("orders", rows=50, seed=8)
    _generate(spec, tmp_path / "data")
    orders = tmp_path / "data" / "orders.csv"
    lines = orders.read_text().splitlines()
    parts = lines[1].split(",")
    parts[1], parts[4] = "99999", "123456.0"  # an orphan key and a total that breaks the check rule
    orders.write_text("\n".join([lines[0], ",".join(parts), *lines[2:]]) + "\n")
    report = build_report(tmp_path / "data", spec, reference=orders)
    table = report["tables"]["orders"]
    check = next(r for r in table["rules"] if r["rule"].startswith("check"))
    assert check["violations"] == 1 and check["examples"][0]["total"] == 123456.0
    assert table["referential_integrity"][0]["orphans"] == 1
    assert report["reference"]["overall"] == 1.0  # a table against itself
    assert table["columns"]["quantity"]["completeness"] == 1.0
    assert ks_complement([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0 and ks_complement([1, 2], [5, 6]) == 0.0
    assert abs(ks_complement([1, 2, 3, 4], [3, 4, 5, 6]) - 0.5) < 1e-9
    assert tv_complement(["a", "a", "b", "b"], ["a", "b", "b", "b"]) == 0.75
    json_path, html_path = write_report(report, tmp_path / "out" / "report")
    assert json.loads(json_path.read_text())["tables"]["orders"]["rows"] == 150
    assert "<svg" in html_path.read_text() and "1 orphans" in html_path.read_text()


def test_similarity_scores_match_values_computed_by_hand():
    """SDMetrics' definitions worked out by hand on tables small enough to check on paper."""
    from llmkit.synth.report.metrics import (
        contingency_similarity,
        correlation_similarity,
        ks_complement,
        similarity,
        tv_complement,
    )
    from llmkit.synth.report.tables import Column

    # TV: shares a .50/.25/.25 vs .25/.75/0 -> distance (.25 + .50 + .25) / 2 = .5
    assert tv_complement(["a", "a", "b", "c"], ["a", "b", "b", "b"]) == pytest.approx(0.5)
    # KS: empirical CDFs of [1..5] and [2, 2, 6] differ most at x = 5: 1.0 vs 2/3
    assert ks_complement([1, 2, 3, 4, 5], [2, 2, 6]) == pytest.approx(2 / 3)
    # Pearson of (1,2,3,4) and (1,3,2,4): sum dx*dy = 4, sum dx^2 = sum dy^2 = 5 -> 0.8; against 1.0 -> 1 - 0.2 / 2
    assert correlation_similarity(([1, 2, 3], [1, 2, 3]), ([1, 2, 3, 4], [1, 3, 2, 4])) == pytest.approx(0.9)
    assert correlation_similarity(([1, 2, 3], [1, 2, 3]), ([1, 2, 3], [3, 2, 1])) == pytest.approx(0.0)
    # joint shares (a,x) .25 (a,y) .25 (b,x) .50 vs (a,x) .50 (b,y) .25 (b,x) .25 -> distance 1.0 / 2
    real, fake = [("a", "x"), ("a", "y"), ("b", "x"), ("b", "x")], [("a", "x"), ("a", "x"), ("b", "y"), ("b", "x")]
    assert contingency_similarity(real, fake) == pytest.approx(0.5)

    # A whole report: c (categories) and n (numbers, binned on the reference's 10 equal bins over 0..10).
    reference = [Column("c", "categorical", ["x", "x", "y", "y"]), Column("n", "numeric", [0.0, 10.0, 0.0, 10.0])]
    synthetic = [Column("c", "categorical", ["x", "x", "y", "y"]), Column("n", "numeric", [0.0, 10.0, 20.0, 20.0])]
    scores = similarity(synthetic, reference)
    # shapes: c identical -> 1; n KS at x = 10: 1.0 vs .5 -> .5
    assert scores["column_shapes"]["columns"] == {"c": pytest.approx(1.0), "n": pytest.approx(0.5)}
    # c ~ n: the reference's bins put 20 in the last bin (9): (x,0) (x,9) (y,9) (y,9) against (x,0) (x,9) (y,0)
    # (y,9) -> distance (.25 + .25) / 2 -> .75 (the synthetic column's own edges would give .5)
    assert scores["column_pair_trends"]["pairs"] == {"c ~ n": pytest.approx(0.75)}
    assert scores["overall"] == pytest.approx((0.75 + 0.75) / 2)


def test_spec_json_schema_is_published_in_docs():
    from pathlib import Path

    from llmkit.synth.schema import spec_json_schema

    published = Path(__file__).parents[1] / "docs" / "synth-spec.schema.json"
    assert json.loads(published.read_text()) == spec_json_schema()


def test_a_new_column_kind_is_one_registration(tmp_path, monkeypatch):
    """A kind registered from outside parses with field paths, draws, and appears in the schema."""
    from llmkit.synth import kinds
    from llmkit.synth.draw import ColumnDrawer
    from llmkit.synth.schema import spec_json_schema

    class Constant(ColumnDrawer):
        def __init__(self, column, context):
            self.name, self.value = column.name, column.params["value"]

        def draw(self, slots, drawn):
            return {self.name: [self.value] * len(slots)}

    def parse(column, path):
        if not isinstance(column.params.get("value"), str):
            raise SpecError(f"{path}.value", "expected text")

    shape = {"title": "constant", "properties": {"kind": {"const": "constant"}}, "required": ["name", "kind"]}
    monkeypatch.setitem(kinds._KINDS, "constant", kinds.ColumnKind("constant", parse, Constant, lambda: shape))
    with pytest.raises(SpecError) as error:
        parse_spec(_spec([{"name": "c", "kind": "constant", "value": 1}]))
    assert error.value.path == "tables[0].columns[0].value"
    _generate(
        parse_spec(_spec([{"name": "id", "sampler": "sequence"}, {"name": "c", "kind": "constant", "value": "x"}])),
        tmp_path,
    )
    assert {r["c"] for r in _rows(tmp_path / "t.csv")} == {"x"}
    columns = spec_json_schema()["properties"]["tables"]["items"]["properties"]["columns"]["items"]["anyOf"]
    assert columns[-1]["title"] == "constant" and "hidden" in columns[-1]["properties"]


def test_cli_synth_parquet_report_and_reference(tmp_path):
    pytest.importorskip("pyarrow")
    result = run_cli("synth", "run", "healthcare", "--rows", "30", "-o", str(tmp_path / "h"), "--format", "parquet",
                     "--report", str(tmp_path / "h" / "quality"))  # fmt: skip
    assert result.returncode == 0 and "rule violations 0, orphan keys 0" in result.stderr
    assert (tmp_path / "h" / "quality.html").is_file() and (
        tmp_path / "h" / "encounters" / "part-00000.parquet"
    ).is_file()
    _generate(resolve_spec("healthcare", rows=30, seed=99), tmp_path / "ref")
    report = run_cli("synth", "report", str(tmp_path / "h"), "--spec", "healthcare",
                     "--reference", str(tmp_path / "ref" / "encounters.csv"))  # fmt: skip
    assert report.returncode == 0 and "similarity to" in report.stderr
    scores = json.loads((tmp_path / "h" / "report.json").read_text())["reference"]
    assert 0.5 < scores["overall"] < 1.0  # same generator, other seed: close, not identical


def test_unknown_model_in_an_llm_column_fails_before_generating(tmp_path):
    from llmkit import Engine
    from llmkit.errors import UnknownModelError

    column = {"name": "note", "kind": "llm", "prompt": "About {colour}.", "model": "no-such-model-7b"}
    with pytest.raises(UnknownModelError, match="no-such-model-7b"):
        list(run(_llm_spec(column), tmp_path, "csv", engine=Engine()))
    assert not (tmp_path / "t.csv").exists() or len(_rows(tmp_path / "t.csv")) == 0


def test_product_reviews_template_into_sqlite_with_foreign_keys(tmp_path):
    """The LLM template's structure end to end (products as JSON, reviews whose sentiment must agree with
    the rating, parent columns brought along, one SQLite database with foreign keys) with scripted replies;
    the real model runs it in `llmkit demo` and test_llm_columns_with_the_embedded_model."""
    import random

    words = "lamp kettle colour weight handle box delivery price size cable manual button light sound".split()

    def reply(prompt, seed):
        rng = random.Random(seed)
        if "JSON Schema" in prompt:
            return json.dumps({"product_name": f"Item {seed}", "description": "A thing that does what it says."})
        mood = "great, I love it" if "very happy" in prompt else "terrible, it broke" if "unhappy" in prompt else "okay"
        return f"The {' '.join(rng.sample(words, 6))} is {mood}. Bought it {rng.randint(2, 40)} days ago."

    spec = resolve_spec("product_reviews", rows=4, seed=3)
    list(run(spec, tmp_path, "sqlite", engine=_ScriptedEngine(reply)))
    db = sqlite3.connect(tmp_path / "product_reviews.sqlite")
    db.execute("PRAGMA foreign_keys = ON")
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    rows = db.execute(
        "SELECT r.rating, r.review, r.product_name, p.product_name FROM reviews r JOIN products p USING (product_id)"
    )
    rows = rows.fetchall()
    assert len(rows) == spec.tables[1].rows and all(mine == theirs for _, _, mine, theirs in rows)
    from llmkit.synth.expressions import sentiment

    assert all(rating == 3 or (rating >= 4) == (sentiment(text) >= 0) for rating, text, _, _ in rows)
    assert "tone" not in [d[1] for d in db.execute("PRAGMA table_info(reviews)")]  # hidden column


@pytest.mark.slow
def test_product_reviews_on_the_embedded_model(tmp_path, engine):
    """One small real run of the LLM template: products invented by the embedded SmolLM2 as JSON under the
    schema, reviews written by it; the foreign keys hold and every review's sentiment agrees with its
    rating (the template's check rule, computed again here)."""
    from llmkit.synth.expressions import sentiment

    spec = resolve_spec("product_reviews", rows=2, seed=3)
    list(run(spec, tmp_path, "sqlite", engine=engine))
    db = sqlite3.connect(tmp_path / "product_reviews.sqlite")
    db.execute("PRAGMA foreign_keys = ON")
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    products = db.execute("SELECT product_id, product_name, description FROM products").fetchall()
    assert len(products) == 2 and all(3 <= len(name) <= 40 and len(text) >= 15 for _, name, text in products)
    rows = db.execute(
        "SELECT r.rating, r.review, r.product_name, p.product_name FROM reviews r JOIN products p USING (product_id)"
    ).fetchall()
    assert len(rows) == spec.tables[1].rows and all(mine == theirs for _, _, mine, theirs in rows)
    assert all(len(text) >= 30 for _, text, _, _ in rows)
    for rating, text, _, _ in rows:
        assert rating == 3 or (rating >= 4 and sentiment(text) >= 0) or (rating <= 2 and sentiment(text) <= 0), text
    stats = {s["column"]: s for s in json.loads((tmp_path / "synth-run.json").read_text())["llm"]}
    assert stats["product"]["valid_rate"] > 0 and stats["review"]["requests"] >= len(rows)


def test_run_progress_events_serialise_like_every_other_stream(tmp_path):
    from llmkit.events import to_json_line

    events = list(run(resolve_spec("customers", rows=5), tmp_path / "out", "csv"))
    lines = [json.loads(to_json_line(event)) for event in events]
    assert lines and all(line["type"] == "synth.progress" for line in lines)
    assert lines[-1] == {"type": "synth.progress", "table": "customers", "done": 5, "total": 5}

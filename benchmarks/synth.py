"""Synthetic data speed, diversity and LLM validity, side by side with the named references, in one run.

    .venv/bin/python benchmarks/synth.py [--rows 20000] [--rounds 3] [--million] [--llm-rows 96] [--json-rows 48]
                                         [--json out.json]

1. Sampler-only customers table (the `customers` template in en_US, 10 fields: id, first/last name, email from the
   name, city, country code, signup date, weighted segment, lognormal value, opt-in), written to CSV, vs
   plain Faker and plain Mimesis loops producing the same 10 fields and writing them with csv.DictWriter (into
   memory; llmkit writes a file). Every side makes the same number of rows, best of `--rounds`, the order
   rotating every round. llmkit runs twice: with its default Faker pools (2,000 seeded draws per column,
   sampled per row) and with pools as large as the table (a provider call per row, as the loops make). Each
   side's output is measured for diversity: distinct values per column, and the duplicate rate of full names
   and of emails; the headline compares sides at equal diversity (llmkit pools = rows).
   Targets: llmkit rows/s >= Mimesis and >= 10x Faker.
2. --million: 1,000,000 customer rows through `llmkit synth run` in a fresh process; peak RSS (target
   < 500 MB).
3. LLM columns with the embedded model (SmolLM2-135M): a free-text `llm` column, one row at a time
   (batch_size 1) vs batched (batch_size 32) on the transformers backend, each warmed up the same way, in the
   order A B B A, medians (target: batched >= 2x rows/min); an `llm_object` column on llama.cpp with and
   without the JSON-Schema grammar, one reply per row and no retries: JSON validity (target 100 %
   constrained) and schema validity.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ["customer_id", "first_name", "last_name", "email", "city", "country", "signup_date", "segment",
          "lifetime_value", "marketing_opt_in"]  # fmt: skip
SEGMENTS, WEIGHTS = ["consumer", "small_business", "enterprise"], [0.7, 0.25, 0.05]


def slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", ".", text.lower()).strip(".")


def _loop(rows: int, person) -> tuple[float, str]:
    """(rows/s, the CSV text) of a plain loop: `person()` gives (first, last, city, country, signup ISO date);
    the numbers come from `random`; rows go through csv.DictWriter into memory."""
    rng = random.Random(7)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    began = time.perf_counter()
    for i in range(1, rows + 1):
        first, last, city, country, signup = person()
        writer.writerow({
            "customer_id": i, "first_name": first, "last_name": last,
            "email": f"{slug(first)}.{slug(last)}{i}@example.com", "city": city, "country": country,
            "signup_date": signup, "segment": rng.choices(SEGMENTS, WEIGHTS)[0],
            "lifetime_value": round(min(rng.lognormvariate(5.5, 1.0), 1e5), 2), "marketing_opt_in": rng.random() < 0.42,
        })  # fmt: skip
    return rows / (time.perf_counter() - began), out.getvalue()


def faker_loop(rows: int) -> tuple[float, str]:
    import datetime as dt

    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(7)
    start, end = dt.date(2019, 1, 1), dt.date(2025, 12, 31)
    return _loop(rows, lambda: (fake.first_name(), fake.last_name(), fake.city(), fake.current_country_code(),
                                fake.date_between(start, end).isoformat()))  # fmt: skip


def mimesis_loop(rows: int) -> tuple[float, str]:
    from mimesis import Address, Datetime, Locale, Person
    from mimesis.enums import CountryCode

    person, address, when = Person(Locale.EN, seed=7), Address(Locale.EN, seed=7), Datetime(Locale.EN, seed=7)
    return _loop(rows, lambda: (person.first_name(), person.last_name(), address.city(),
                                address.country_code(CountryCode.A2), when.date(start=2019, end=2025).isoformat()))  # fmt: skip


def llmkit_rows(rows: int, pool: int | None = None) -> tuple[float, str]:
    """llmkit's public path (spec parsing, Faker pools, rules, a CSV file on disk); `pool` sets every Faker
    column's pool size (None: the default 2,000)."""
    import yaml

    from llmkit.synth import parse_spec, run
    from llmkit.synth.service import template_path

    data = yaml.safe_load(template_path("customers").read_text())
    data["tables"][0].update(rows=rows, locale="en_US")  # the references' locale: the same 10 fields
    data["seed"] = 7
    if pool:
        for column in data["tables"][0]["columns"]:
            if column.get("sampler") == "faker":
                column["pool"] = pool
    spec = parse_spec(data)
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        for _ in run(spec, Path(folder), "csv", resume=False):
            pass
        seconds = time.perf_counter() - began
        return rows / seconds, (Path(folder) / "customers.csv").read_text()


def diversity(csv_text: str) -> dict:
    """Distinct values per column, and the duplicate rate (1 - distinct / rows) of full names and emails."""
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    distinct = {c: len({r[c] for r in rows}) for c in ("first_name", "last_name", "city", "country", "signup_date")}
    names = len({(r["first_name"], r["last_name"]) for r in rows})
    emails = len({r["email"] for r in rows})
    return {
        "rows": len(rows),
        "distinct": distinct,
        "full_name_duplicate_rate": round(1 - names / len(rows), 4),
        "email_duplicate_rate": round(1 - emails / len(rows), 4),
    }


def sampler_comparison(rows: int, rounds: int) -> dict:
    """Every side makes `rows` rows, best of `rounds`, the order rotating (and reversing) every round."""
    sides = {
        "llmkit (pool 2,000)": lambda: llmkit_rows(rows),
        "llmkit (pool = rows)": lambda: llmkit_rows(rows, pool=rows),
        "mimesis": lambda: mimesis_loop(rows),
        "faker": lambda: faker_loop(rows),
    }
    rates: dict[str, list[float]] = {name: [] for name in sides}
    outputs: dict[str, str] = {}
    for round_number in range(rounds):
        order = list(sides)[round_number % len(sides) :] + list(sides)[: round_number % len(sides)]
        for name in order if round_number % 2 == 0 else reversed(order):
            rate, outputs[name] = sides[name]()
            rates[name].append(rate)
        print(f"  round {round_number + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in rates.items()), flush=True)
    return {
        name: {
            "rows_per_s_best": round(max(values)),
            "rows_per_s_median": round(statistics.median(values)),
            "rows_per_s_all": [round(v) for v in values],
            **diversity(outputs[name]),
        }
        for name, values in rates.items()
    }


def million() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "llmkit", "synth", "run", "customers", "--rows", "1000000", "-o", folder]
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds = time.perf_counter() - began
        size = (Path(folder) / "customers.csv").stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # this process ran no other child
    return {"rows": 1_000_000, "seconds": round(seconds, 1), "peak_rss_mb": round(peak_mb), "csv_mb": round(size / 1e6)}


def _llm_spec(column: dict, rows: int) -> dict:
    return {"name": "bench", "seed": 5, "tables": [{"name": "t", "rows": rows, "batch_rows": rows, "columns": [
        {"name": "id", "sampler": "sequence"},
        {"name": "category", "sampler": "choice", "values": ["kitchen", "garden", "toys", "office", "outdoor"]},
        column]}]}  # fmt: skip


def llm_columns(rows: int, json_rows: int) -> dict:
    from llmkit.generation.service import Engine
    from llmkit.synth import parse_spec, run
    from llmkit.synth.llm import LlmColumn

    engine = Engine()
    engine.backend_for(None, "transformers")
    text_column = {"name": "review", "kind": "llm", "max_tokens": 48, "near_duplicate": False,
                   "prompt": "Write a two-sentence customer review of a {category} product."}  # fmt: skip
    results: dict = {}

    def timed(batch: int, n: int) -> tuple[float, dict]:
        engine.settings = dataclasses.replace(engine.settings, batch_size=batch)
        engine.backend_for(None, "transformers").batch_size = batch
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            list(run(parse_spec(_llm_spec(text_column, n)), Path(folder), "csv", engine=engine, resume=False))
            seconds = time.perf_counter() - began
            return seconds, json.loads((Path(folder) / "synth-run.json").read_text())["llm"][0]

    sides = {"one row at a time": 1, "batched": 32}
    for batch in sides.values():  # the same warm-up on both sides: 4 rows at that batch size
        timed(batch, 4)
    runs: dict[str, list[tuple[float, dict]]] = {label: [] for label in sides}
    for label in ("one row at a time", "batched", "batched", "one row at a time"):  # A B B A
        runs[label].append(timed(sides[label], rows))
        print(f"  {label}: {rows / runs[label][-1][0] * 60:.1f} rows/min", flush=True)
    for label, pairs in runs.items():
        per_min = [rows / seconds * 60 for seconds, _ in pairs]
        stats = pairs[-1][1]
        results[label] = {"rows": rows, "rows_per_min_median": round(statistics.median(per_min), 1),
                          "rows_per_min_all": [round(v, 1) for v in per_min],
                          "tokens": stats["completion_tokens"], "valid_rate": stats["valid_rate"]}  # fmt: skip
    object_column = {"name": "product", "kind": "llm_object", "max_tokens": 96, "retries": 0, "backend": "llamacpp",
                     "prompt": "Invent one product sold in the {category} category.",
                     "schema": {"type": "object", "properties": {
                         "product_name": {"type": "string", "minLength": 3, "maxLength": 40},
                         "price": {"type": "number", "minimum": 1, "maximum": 5000},
                         "in_stock": {"type": "boolean"}}}}  # fmt: skip
    for label, constrained in (("JSON, grammar-constrained", True), ("JSON, unconstrained", False))[
        : 2 * bool(json_rows)
    ]:
        rows = json_rows
        # One reply per row, no retries: the rates are the model's own, not what retries make of them.
        spec = parse_spec(_llm_spec({**object_column, "constrained": constrained}, rows))
        table = spec.tables[0]
        column = LlmColumn(table.columns[-1], table, spec.seed, engine, None)
        rows_in = [
            {"id": i + 1, "category": ["kitchen", "garden", "toys", "office", "outdoor"][i % 5]} for i in range(rows)
        ]
        began = time.perf_counter()
        column.fill(rows_in, list(range(rows)))
        stats = column.stats.to_dict()
        results[label] = {"requests": stats["requests"], "json_rate": stats["json_rate"],
                          "schema_valid_rate": stats["valid_rate"], "seconds": round(time.perf_counter() - began, 1)}  # fmt: skip
    return results


def print_sampler_table(sides: dict) -> None:
    equal = sides["llmkit (pool = rows)"]["rows_per_s_best"]
    print(
        f"{'generator':<22} {'rows/s best':>11} {'median':>8} {'llmkit(pool=rows) / it':>23} "
        f"{'first':>6} {'last':>6} {'city':>6} {'full-name dup':>13} {'email dup':>9}"
    )
    for name, side in sides.items():
        d = side["distinct"]
        print(
            f"{name:<22} {side['rows_per_s_best']:>11,} {side['rows_per_s_median']:>8,} "
            f"{equal / side['rows_per_s_best']:>22.2f}x {d['first_name']:>6} {d['last_name']:>6} {d['city']:>6} "
            f"{side['full_name_duplicate_rate']:>13.2%} {side['email_duplicate_rate']:>9.2%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--million", action="store_true")
    parser.add_argument("--llm-rows", type=int, default=96)
    parser.add_argument("--json-rows", type=int, default=48)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    report: dict = {}
    if args.rows:
        print(f"Sampler-only customers, 10 fields, CSV, {args.rows} rows a side, best of {args.rounds}:")
        sides = report["customers"] = sampler_comparison(args.rows, args.rounds)
        print_sampler_table(sides)
    if args.million:
        report["million"] = million()
        m = report["million"]
        print(
            f"\n1,000,000 rows: {m['seconds']} s, peak RSS {m['peak_rss_mb']} MB (target < 500), CSV {m['csv_mb']} MB"
        )
    if args.llm_rows:
        report["llm"] = llm_columns(args.llm_rows, args.json_rows)
        print(
            f"\nLLM columns, embedded SmolLM2-135M ({args.llm_rows} rows of free text; {args.json_rows} JSON objects)"
        )
        for label, row in report["llm"].items():
            print(f"  {label:<28} " + ", ".join(f"{k} {v}" for k, v in row.items()))
        one, many = report["llm"]["one row at a time"], report["llm"]["batched"]
        ratio = many["rows_per_min_median"] / one["rows_per_min_median"]
        print(f"  batched / one at a time: {ratio:.2f}x rows/min (medians)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""The quality report of a generated dataset: JSON for machines, a standalone HTML page for people.

Per table: completeness per column; uniqueness (key columns, duplicate rows, near-duplicate texts);
consistency (each rule of the spec re-checked on the written data, with examples of violations);
referential integrity (orphan keys); distributions (histograms, top values, text lengths); text diversity
(distinct-1/2); with a reference CSV, SDMetrics' column-shape and column-pair-trend scores; and, from the
run's synth-run.json, each LLM column's validity rate, retries and near-duplicates.

tables.py reads the outputs back, metrics.py measures, checks.py re-checks rules and keys, html.py
renders; this module puts the report together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError
from llmkit.synth.report.checks import orphan_keys, rule_checks
from llmkit.synth.report.html import render_html
from llmkit.synth.report.metrics import (
    column_profile,
    contingency_similarity,
    correlation_similarity,
    distribution,
    ks_complement,
    near_duplicate_rate,
    similarity,
    tv_complement,
)
from llmkit.synth.report.tables import Column, columns_of, load_tables, read_reference, typed_rows
from llmkit.synth.spec import DatasetSpec


def build_report(
    data: Path, spec: DatasetSpec | None = None, reference: Path | None = None, near_duplicate: float = 0.8
) -> dict[str, Any]:
    raw_tables = load_tables(data)
    if spec is not None and Path(data).is_file() and len(raw_tables) == len(spec.tables) == 1:
        raw_tables = {spec.tables[0].name: next(iter(raw_tables.values()))}  # `-o people.csv` holds that table
    tables = {name: columns_of(rows) for name, rows in raw_tables.items()}
    typed = {name: typed_rows(columns) for name, columns in tables.items()}
    report: dict[str, Any] = {"data": str(data), "tables": {}}
    for name, columns in tables.items():
        entry = _table_entry(columns, raw_tables[name], typed[name], near_duplicate)
        spec_table = spec.table(name) if spec else None
        if spec_table is not None:
            entry["rules"] = rule_checks(spec_table, typed[name])
            entry["referential_integrity"] = orphan_keys(spec_table, typed[name], typed)
        report["tables"][name] = entry
    if reference is not None:
        report["reference"] = _against_reference(Path(reference), tables)
    run_file = (Path(data) if Path(data).is_dir() else Path(data).parent) / "synth-run.json"
    if run_file.is_file():
        report["run"] = json.loads(run_file.read_text(encoding="utf-8"))
    return report


def _table_entry(
    columns: list[Column], raw: list[dict[str, Any]], rows: list[dict[str, Any]], near_duplicate: float
) -> dict[str, Any]:
    count = len(rows)
    entry: dict[str, Any] = {"rows": count, "columns": {}}
    for column in columns:
        entry["columns"][column.name] = column_profile(column, count, near_duplicate)
    fingerprints = [json.dumps(r, default=str, sort_keys=True) for r in raw]
    entry["duplicate_row_rate"] = round(1 - len(set(fingerprints)) / count, 4) if count else 0.0
    return entry


def _against_reference(reference: Path, tables: dict[str, list[Column]]) -> dict[str, Any]:
    real = read_reference(reference)
    names = {c.name for c in real}
    # The table the reference describes: same name as the file, else the one sharing most columns.
    table = (
        reference.stem
        if reference.stem in tables
        else max(tables, key=lambda t: len(names & {c.name for c in tables[t]}))
    )
    shared = sorted(names & {c.name for c in tables[table]})
    if not shared:
        found = ", ".join(sorted(names)[:8]) or "none (an empty file)"
        raise InvalidInputError(
            f"{reference}: the reference shares no column with the generated data (its columns: {found}; "
            f"{table}'s: {', '.join(c.name for c in tables[table][:8])}); compare a CSV of the same table"
        )
    scores = similarity(tables[table], real)
    if scores["overall"] is None:
        raise InvalidInputError(
            f"{reference}: the columns it shares with {table} ({', '.join(shared)}) are keys or free text, "
            "which the similarity scores do not compare"
        )
    return {"file": str(reference), "table": table, **scores}


def write_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """`out` without suffix: writes out.json and out.html."""
    from llmkit.synth.output import OutputError

    out = Path(out)
    json_path, html_path = out.with_suffix(".json"), out.with_suffix(".html")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
        html_path.write_text(render_html(report), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{exc.filename or out}: cannot write the report: {exc.strerror or exc}") from exc
    return json_path, html_path


__all__ = [
    "Column",
    "build_report",
    "columns_of",
    "contingency_similarity",
    "correlation_similarity",
    "distribution",
    "ks_complement",
    "load_tables",
    "near_duplicate_rate",
    "render_html",
    "similarity",
    "tv_complement",
    "write_report",
]

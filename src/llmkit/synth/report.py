"""The quality report of a generated dataset: JSON for machines, a standalone HTML page for people.

Per table: completeness per column; uniqueness (key columns, duplicate rows, near-duplicate texts);
consistency (each rule of the spec re-checked on the written data, with examples of violations);
referential integrity (orphan keys); distributions (histograms, top values, text lengths); text diversity
(distinct-1/2); with a reference CSV, SDMetrics' column-shape and column-pair-trend scores (KSComplement /
TVComplement; CorrelationSimilarity / ContingencySimilarity, as SDMetrics' QualityReport defines them);
and, from the run's synth-run.json, each LLM column's validity rate, retries and near-duplicates.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError
from llmkit.synth.export import plain_value
from llmkit.synth.generate import rule_predicates, value_key
from llmkit.synth.spec import DatasetSpec
from llmkit.synth.text import NearDuplicateIndex, distinct_n

TEXT_MIN_LENGTH = 25  # a string column whose values average this many characters is free text
CATEGORY_LIMIT = 50  # more distinct strings than this (and not text): an identifier-like column
BINS = 10


@dataclass
class Column:
    name: str
    kind: str  # numeric | datetime | boolean | categorical | text | id
    values: list[Any]  # typed; None where empty


# ---- loading ----------------------------------------------------------------------------------------


def load_tables(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Rows per table from a run's folder (CSV, JSONL, Parquet parts, SQLite) or one CSV, JSONL, Parquet or
    SQLite file. A file that cannot be read as its suffix says fails naming the file."""
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"{path}: no such file or folder")
    files = [path] if path.is_file() else sorted(path.iterdir())
    tables: dict[str, list[dict[str, Any]]] = {}
    for file in files:
        try:
            tables.update(_load_one(file))
        except (OSError, UnicodeDecodeError, ValueError, csv.Error, sqlite3.DatabaseError) as exc:
            raise InvalidInputError(f"{file}: cannot read it as {file.suffix.lstrip('.') or 'data'}: {exc}") from exc
    if not tables:
        raise InvalidInputError(f"{path}: no CSV, JSONL, Parquet or SQLite tables found")
    return tables


def _load_one(file: Path) -> dict[str, list[dict[str, Any]]]:
    if file.suffix == ".csv":
        with file.open(newline="", encoding="utf-8") as handle:
            return {file.stem: list(csv.DictReader(handle))}
    if file.suffix == ".jsonl":
        with file.open(encoding="utf-8") as handle:
            return {file.stem: [json.loads(line) for line in handle if line.strip()]}
    if file.suffix in (".sqlite", ".db") and file.is_file():
        db = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {}
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                cursor = db.execute(f'SELECT * FROM "{name}"')
                names = [d[0] for d in cursor.description]
                tables[name] = [dict(zip(names, row, strict=True)) for row in cursor]
            return tables
        finally:
            db.close()
    if file.suffix == ".parquet" and file.is_file():
        import pyarrow.parquet as pq

        return {file.stem: pq.read_table(file).to_pylist()}
    if file.is_dir() and any(file.glob("part-*.parquet")):
        import pyarrow.parquet as pq

        return {file.name: [r for part in sorted(file.glob("part-*.parquet")) for r in pq.read_table(part).to_pylist()]}
    if file.is_dir() and file.name == "parquet":
        return load_tables(file)
    return {}


def _typed(raw: Any) -> Any:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        return raw
    if raw in ("True", "False", "true", "false"):
        return raw.lower() == "true"
    try:
        number = float(raw)
        return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number
    except ValueError:
        pass
    if len(raw) >= 10 and raw[4] == "-" and raw[7] == "-":
        try:
            value = dt.datetime.fromisoformat(raw)
            return value.date() if len(raw) == 10 else value
        except ValueError:
            pass
    return raw


def columns_of(rows: list[dict[str, Any]]) -> list[Column]:
    names = list(rows[0]) if rows else []
    out = []
    for name in names:
        values = [_typed(row.get(name)) for row in rows]
        out.append(Column(name, _kind(values), values))
    return out


def _kind(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "categorical"
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "numeric"
    if all(isinstance(v, (dt.date, dt.datetime)) for v in present):
        return "datetime"
    strings = [str(v) for v in present]
    if sum(map(len, strings)) / len(strings) >= TEXT_MIN_LENGTH:
        return "text"
    return "categorical" if len(set(strings)) <= CATEGORY_LIMIT else "id"


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dt.date):
        return float(value.toordinal())
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, (int, float)) else None


# ---- measures ---------------------------------------------------------------------------------------


def _histogram(numbers: list[float], edges: list[float] | None = None) -> tuple[list[float], list[int]]:
    import numpy as np

    if edges is None:
        counts, found = np.histogram(numbers, bins=20)
        return found.tolist(), counts.tolist()
    counts, _ = np.histogram(np.clip(numbers, edges[0], edges[-1]), bins=edges)
    return edges, counts.tolist()


def distribution(column: Column) -> dict[str, Any]:
    present = [v for v in column.values if v is not None]
    if not present:
        return {}
    if column.kind in ("numeric", "datetime"):
        import numpy as np

        numbers = np.array([_number(v) for v in present])
        edges, counts = _histogram(numbers.tolist())
        result = {
            "min": plain_value(min(present)),
            "max": plain_value(max(present)),
            "histogram": {"edges": edges, "counts": counts},
        }
        if column.kind == "numeric":
            result.update(mean=float(numbers.mean()), std=float(numbers.std()), median=float(np.median(numbers)))
        return result
    if column.kind == "text":
        lengths = [len(str(v)) for v in present]
        texts = [str(v) for v in present]
        return {
            "mean_length": sum(lengths) / len(lengths),
            "distinct_1": round(distinct_n(texts, 1), 4),
            "distinct_2": round(distinct_n(texts, 2), 4),
        }
    counts: dict[str, int] = {}
    for value in present:
        counts[str(value)] = counts.get(str(value), 0) + 1
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:10]
    return {"distinct": len(counts), "top": [{"value": k, "share": round(v / len(present), 4)} for k, v in top]}


def near_duplicate_rate(texts: list[str], threshold: float = 0.8) -> float:
    index = NearDuplicateIndex(threshold)
    refused = sum(not index.add(text) for text in texts)
    return refused / len(texts) if texts else 0.0


def _shares(values: list[Any]) -> dict[Any, float]:
    counts: dict[Any, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return {k: v / len(values) for k, v in counts.items()} if values else {}


def tv_complement(real: list[Any], synthetic: list[Any]) -> float:
    """1 - total variation distance of the category frequencies (SDMetrics TVComplement)."""
    r, s = _shares([str(v) for v in real]), _shares([str(v) for v in synthetic])
    return 1 - 0.5 * sum(abs(r.get(k, 0) - s.get(k, 0)) for k in set(r) | set(s))


def ks_complement(real: list[float], synthetic: list[float]) -> float:
    """1 - the two-sample Kolmogorov-Smirnov statistic (SDMetrics KSComplement)."""
    import numpy as np

    a, b = np.sort(np.asarray(real, float)), np.sort(np.asarray(synthetic, float))
    if not len(a) or not len(b):
        return 0.0
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(1 - np.max(np.abs(cdf_a - cdf_b)))


def correlation_similarity(real: tuple[list[float], list[float]], synthetic: tuple[list[float], list[float]]) -> float:
    """1 - |Pearson(real) - Pearson(synthetic)| / 2 (SDMetrics CorrelationSimilarity)."""
    import numpy as np

    def pearson(x: list[float], y: list[float]) -> float:
        if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
            return 0.0
        return float(np.corrcoef(x, y)[0, 1])

    return 1 - abs(pearson(*real) - pearson(*synthetic)) / 2


def contingency_similarity(real: list[tuple], synthetic: list[tuple]) -> float:
    """1 - total variation distance of the joint frequencies of two columns (SDMetrics ContingencySimilarity)."""
    r, s = _shares(real), _shares(synthetic)
    return 1 - 0.5 * sum(abs(r.get(k, 0) - s.get(k, 0)) for k in set(r) | set(s))


def _discrete(column: Column, real: Column) -> list[Any]:
    """Categories as they are; numbers and dates binned on the reference's edges (as SDMetrics does)."""
    if column.kind not in ("numeric", "datetime"):
        return [str(v) for v in column.values]
    import numpy as np

    numbers = [_number(v) for v in real.values if v is not None]
    edges = np.histogram_bin_edges(numbers, bins=BINS) if numbers else np.array([0.0, 1.0])
    return [None if v is None else int(np.clip(np.searchsorted(edges, _number(v), "right") - 1, 0, BINS - 1))
            for v in column.values]  # fmt: skip


def similarity(synthetic: list[Column], reference: list[Column]) -> dict[str, Any]:
    """Column shapes and column pair trends against a reference table (columns matched by name)."""
    by_name = {c.name: c for c in reference}
    pairs = [(c, by_name[c.name]) for c in synthetic if c.name in by_name and c.kind not in ("id", "text")]
    shapes: dict[str, float] = {}
    for mine, theirs in pairs:
        if mine.kind in ("numeric", "datetime") and theirs.kind == mine.kind:
            real = [_number(v) for v in theirs.values if v is not None]
            fake = [_number(v) for v in mine.values if v is not None]
            shapes[mine.name] = round(ks_complement(real, fake), 4)
        else:
            shapes[mine.name] = round(tv_complement(_present(theirs.values), _present(mine.values)), 4)
    trends: dict[str, float] = {}
    for i, (a, ra) in enumerate(pairs):
        for b, rb in pairs[i + 1 :]:
            numeric = all(c.kind in ("numeric", "datetime") for c in (a, ra, b, rb))
            if numeric:
                score = correlation_similarity(_both(ra, rb), _both(a, b))
            else:
                real = list(zip(_discrete(ra, ra), _discrete(rb, rb), strict=True))
                fake = list(zip(_discrete(a, ra), _discrete(b, rb), strict=True))
                score = contingency_similarity(real, fake)
            trends[f"{a.name} ~ {b.name}"] = round(score, 4)
    shape_score = sum(shapes.values()) / len(shapes) if shapes else None
    trend_score = sum(trends.values()) / len(trends) if trends else None
    scores = [s for s in (shape_score, trend_score) if s is not None]
    return {
        "column_shapes": {"score": shape_score, "columns": shapes},
        "column_pair_trends": {"score": trend_score, "pairs": trends},
        "overall": sum(scores) / len(scores) if scores else None,
    }


def _present(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def _both(a: Column, b: Column) -> tuple[list[float], list[float]]:
    kept = [
        (_number(x), _number(y)) for x, y in zip(a.values, b.values, strict=True) if x is not None and y is not None
    ]
    return [x for x, _ in kept], [y for _, y in kept]


def _rule_checks(spec_table: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each rule re-checked on the written rows with the generator's own tests (`rule_predicates`)."""
    checks = []
    for rule in spec_table.rules:
        seen: dict[str, set] = {rule.column: set()} if rule.kind == "unique" else {}
        test = rule_predicates([rule], seen)[0]
        bad: list[dict[str, Any]] = []
        for row in rows:
            try:
                ok = test(row)
            except Exception:  # noqa: BLE001 - a column missing from the file counts as a violation
                ok = False
            if not ok:
                bad.append(row)
            for values in seen.values():
                values.add(value_key(row.get(rule.column)))
        label = (
            rule.expression.source
            if rule.expression
            else f"{rule.column} {json.dumps(rule.params) if rule.params else ''}"
        )
        checks.append({
            "rule": f"{rule.kind}: {label.strip()}",
            "violations": len(bad),
            "examples": [{k: plain_value(v) for k, v in r.items()} for r in bad[:3]],
        })  # fmt: skip
    return checks


def build_report(
    data: Path, spec: DatasetSpec | None = None, reference: Path | None = None, near_duplicate: float = 0.8
) -> dict[str, Any]:
    raw_tables = load_tables(data)
    if spec is not None and Path(data).is_file() and len(raw_tables) == len(spec.tables) == 1:
        raw_tables = {spec.tables[0].name: next(iter(raw_tables.values()))}  # `-o people.csv` holds that table
    tables = {name: columns_of(rows) for name, rows in raw_tables.items()}
    typed_rows = {
        name: [dict(zip([c.name for c in cols], values, strict=True)) for values in zip(*[c.values for c in cols], strict=True)]
        for name, cols in tables.items()
    }  # fmt: skip
    report: dict[str, Any] = {"data": str(data), "tables": {}}
    for name, columns in tables.items():
        rows = typed_rows[name]
        count = len(rows)
        entry: dict[str, Any] = {"rows": count, "columns": {}}
        for column in columns:
            missing = sum(v is None for v in column.values)
            info: dict[str, Any] = {
                "kind": column.kind,
                "completeness": round(1 - missing / count, 4) if count else 0.0,
                "distinct": len({value_key(v) for v in column.values if v is not None}),
                "distribution": distribution(column),
            }
            if column.kind == "text":
                texts = [str(v) for v in column.values if v is not None]
                info["near_duplicate_rate"] = round(near_duplicate_rate(texts, near_duplicate), 4)
            entry["columns"][column.name] = info
        fingerprints = [json.dumps(r, default=str, sort_keys=True) for r in raw_tables[name]]
        entry["duplicate_row_rate"] = round(1 - len(set(fingerprints)) / count, 4) if count else 0.0
        spec_table = spec.table(name) if spec else None
        if spec_table is not None:
            entry["rules"] = _rule_checks(spec_table, rows)
            entry["referential_integrity"] = _integrity(spec_table, rows, typed_rows)
        report["tables"][name] = entry
    if reference is not None:
        report["reference"] = _against_reference(Path(reference), tables)
    run_file = (Path(data) if Path(data).is_dir() else Path(data).parent) / "synth-run.json"
    if run_file.is_file():
        report["run"] = json.loads(run_file.read_text(encoding="utf-8"))
    return report


def _integrity(spec_table: Any, rows: list[dict[str, Any]], typed: dict[str, list[dict[str, Any]]]) -> list[dict]:
    results = []
    for column in spec_table.columns:
        if column.kind != "reference" or column.params["table"] not in typed:
            continue
        parents = {value_key(r.get(column.params["column"])) for r in typed[column.params["table"]]}
        orphans = [r[column.name] for r in rows if value_key(r.get(column.name)) not in parents]
        results.append({
            "column": column.name,
            "references": f"{column.params['table']}.{column.params['column']}",
            "orphans": len(orphans),
            "examples": [plain_value(v) for v in orphans[:3]],
        })  # fmt: skip
    return results


def _against_reference(reference: Path, tables: dict[str, list[Column]]) -> dict[str, Any]:
    if not reference.is_file():
        raise InvalidInputError(f"{reference}: reference CSV not found")
    try:
        with reference.open(newline="", encoding="utf-8") as handle:
            real = columns_of(list(csv.DictReader(handle)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"{reference}: cannot read the reference as a UTF-8 CSV file: {exc}") from exc
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


# ---- HTML -------------------------------------------------------------------------------------------


def _bars(labels: list[str], values: list[float], width: int = 360, height: int = 120) -> str:
    """An inline SVG bar chart (no JavaScript, no external files)."""
    if not values:
        return ""
    top = max(values) or 1
    step = width / len(values)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = (height - 16) * value / top
        bars.append(
            f'<rect x="{i * step + 1:.1f}" y="{height - 16 - h:.1f}" width="{max(step - 2, 1):.1f}" height="{h:.1f}">'
            f"<title>{html.escape(label)}: {value:g}</title></rect>"
        )
    ends = f'<text x="0" y="{height - 2}">{html.escape(labels[0])}</text>'
    ends += f'<text x="{width}" y="{height - 2}" text-anchor="end">{html.escape(labels[-1])}</text>'
    return f'<svg width="{width}" height="{height}" class="chart">{"".join(bars)}{ends}</svg>'


def _chart(info: dict[str, Any]) -> str:
    dist = info.get("distribution") or {}
    if "histogram" in dist:
        edges, counts = dist["histogram"]["edges"], dist["histogram"]["counts"]
        labels = [f"{e:.4g}" for e in edges[:-1]]
        if info["kind"] == "datetime":
            labels = [str(dist["min"])] + [""] * (len(counts) - 2) + [str(dist["max"])]
        return _bars(labels, counts)
    if "top" in dist:
        return _bars([t["value"] for t in dist["top"]], [t["share"] for t in dist["top"]])
    return ""


def render_html(report: dict[str, Any]) -> str:
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Synthetic data quality report</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;"
        "margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
        ".chart rect{fill:#4a7bd0}.chart text{font-size:10px}.bad{color:#b00020;font-weight:bold}",
        "</style></head><body><h1>Synthetic data quality report</h1>",
        f"<p>Data: <code>{esc(report['data'])}</code></p>",
    ]
    for name, table in report["tables"].items():
        parts.append(
            f"<h2>{esc(name)} ({table['rows']} rows)</h2><p>Duplicate rows: {table['duplicate_row_rate']:.2%}</p>"
        )
        parts.append(
            "<table><tr><th>column</th><th>kind</th><th>complete</th><th>distinct</th><th>details</th><th>distribution</th></tr>"
        )
        for column, info in table["columns"].items():
            dist = info["distribution"]
            details = ", ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in dist.items()
                if k in ("mean", "std", "min", "max", "mean_length", "distinct_1", "distinct_2")
            )
            if "near_duplicate_rate" in info:
                details += f", near-duplicates {info['near_duplicate_rate']:.1%}"
            parts.append(
                f"<tr><td>{esc(column)}</td><td>{info['kind']}</td><td>{info['completeness']:.1%}</td>"
                f"<td>{info['distinct']}</td><td>{esc(details)}</td><td>{_chart(info)}</td></tr>"
            )
        parts.append("</table>")
        if table.get("rules"):
            parts.append("<h3>Rules</h3><table><tr><th>rule</th><th>violations</th><th>examples</th></tr>")
            for rule in table["rules"]:
                css = " class='bad'" if rule["violations"] else ""
                examples = esc(json.dumps(rule["examples"], default=str)[:400])
                parts.append(
                    f"<tr><td>{esc(rule['rule'])}</td><td{css}>{rule['violations']}</td><td>{examples}</td></tr>"
                )
            parts.append("</table>")
        for check in table.get("referential_integrity", []):
            css = " class='bad'" if check["orphans"] else ""
            parts.append(
                f"<p>{esc(check['column'])} → {esc(check['references'])}: <span{css}>{check['orphans']} orphans</span></p>"
            )
    if "reference" in report:
        ref = report["reference"]
        parts.append(f"<h2>Similarity to {esc(ref['file'])} (table {esc(ref['table'])})</h2>")
        for key, label in (("column_shapes", "Column shapes"), ("column_pair_trends", "Column pair trends")):
            score = ref[key]["score"]
            parts.append(f"<p>{label}: <b>{'n/a' if score is None else f'{score:.1%}'}</b></p><table>")
            items = ref[key].get("columns") or ref[key].get("pairs") or {}
            parts += [f"<tr><td>{esc(k)}</td><td>{v:.3f}</td></tr>" for k, v in items.items()]
            parts.append("</table>")
    for llm in (report.get("run") or {}).get("llm", []):
        parts.append(
            f"<h3>LLM column {esc(llm['column'])}</h3><p>{esc(llm['model'])} on {esc(llm['backend'])}"
            f" ({'constrained' if llm['constrained'] else 'unconstrained'}): {llm['requests']} requests, valid "
            f"{llm['valid_rate']:.1%}, retries {llm['retries']}, near-duplicates replaced {llm['near_duplicates']}, "
            f"rows dropped and redrawn {llm['dropped_rows']}</p>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


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

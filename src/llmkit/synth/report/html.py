"""The report as one standalone HTML page: tables, inline SVG charts, no JavaScript, no external files."""

from __future__ import annotations

import html
import json
from typing import Any

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;"
    "margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
    ".chart rect{fill:#4a7bd0}.chart text{font-size:10px}.bad{color:#b00020;font-weight:bold}"
)
_DETAILS = ("mean", "std", "min", "max", "mean_length", "distinct_1", "distinct_2")
esc = html.escape


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
            f"<title>{esc(label)}: {value:g}</title></rect>"
        )
    ends = f'<text x="0" y="{height - 2}">{esc(labels[0])}</text>'
    ends += f'<text x="{width}" y="{height - 2}" text-anchor="end">{esc(labels[-1])}</text>'
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


def _column_row(column: str, info: dict[str, Any]) -> str:
    details = ", ".join(
        f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in info["distribution"].items() if k in _DETAILS
    )
    if "near_duplicate_rate" in info:
        details += f", near-duplicates {info['near_duplicate_rate']:.1%}"
    return (
        f"<tr><td>{esc(column)}</td><td>{info['kind']}</td><td>{info['completeness']:.1%}</td>"
        f"<td>{info['distinct']}</td><td>{esc(details)}</td><td>{_chart(info)}</td></tr>"
    )


def _rules(rules: list[dict[str, Any]]) -> list[str]:
    parts = ["<h3>Rules</h3><table><tr><th>rule</th><th>violations</th><th>examples</th></tr>"]
    for rule in rules:
        css = " class='bad'" if rule["violations"] else ""
        examples = esc(json.dumps(rule["examples"], default=str)[:400])
        parts.append(f"<tr><td>{esc(rule['rule'])}</td><td{css}>{rule['violations']}</td><td>{examples}</td></tr>")
    parts.append("</table>")
    return parts


def _table(name: str, table: dict[str, Any]) -> list[str]:
    parts = [
        f"<h2>{esc(name)} ({table['rows']} rows)</h2><p>Duplicate rows: {table['duplicate_row_rate']:.2%}</p>",
        "<table><tr><th>column</th><th>kind</th><th>complete</th><th>distinct</th><th>details</th><th>distribution</th></tr>",
    ]
    parts += [_column_row(column, info) for column, info in table["columns"].items()]
    parts.append("</table>")
    if table.get("rules"):
        parts += _rules(table["rules"])
    for check in table.get("referential_integrity", []):
        css = " class='bad'" if check["orphans"] else ""
        parts.append(
            f"<p>{esc(check['column'])} → {esc(check['references'])}: <span{css}>{check['orphans']} orphans</span></p>"
        )
    return parts


def _reference(ref: dict[str, Any]) -> list[str]:
    parts = [f"<h2>Similarity to {esc(ref['file'])} (table {esc(ref['table'])})</h2>"]
    for key, label in (("column_shapes", "Column shapes"), ("column_pair_trends", "Column pair trends")):
        score = ref[key]["score"]
        parts.append(f"<p>{label}: <b>{'n/a' if score is None else f'{score:.1%}'}</b></p><table>")
        items = ref[key].get("columns") or ref[key].get("pairs") or {}
        parts += [f"<tr><td>{esc(k)}</td><td>{v:.3f}</td></tr>" for k, v in items.items()]
        parts.append("</table>")
    return parts


def _llm_column(llm: dict[str, Any]) -> str:
    return (
        f"<h3>LLM column {esc(llm['column'])}</h3><p>{esc(llm['model'])} on {esc(llm['backend'])}"
        f" ({'constrained' if llm['constrained'] else 'unconstrained'}): {llm['requests']} requests, valid "
        f"{llm['valid_rate']:.1%}, retries {llm['retries']}, near-duplicates replaced {llm['near_duplicates']}, "
        f"rows dropped and redrawn {llm['dropped_rows']}</p>"
    )


def render_html(report: dict[str, Any]) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Synthetic data quality report</title><style>",
        _STYLE,
        "</style></head><body><h1>Synthetic data quality report</h1>",
        f"<p>Data: <code>{esc(report['data'])}</code></p>",
    ]
    for name, table in report["tables"].items():
        parts += _table(name, table)
    if "reference" in report:
        parts += _reference(report["reference"])
    parts += [_llm_column(llm) for llm in (report.get("run") or {}).get("llm", [])]
    parts.append("</body></html>")
    return "\n".join(parts)

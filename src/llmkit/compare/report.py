"""A comparison's summary table and its standalone side-by-side HTML report (no scripts, no network)."""

from __future__ import annotations

import html
import json
from pathlib import Path

from llmkit.compare.types import CaseResult, ComparisonReport, ModelSummary

SUMMARY_COLUMNS = ("model", "backend", "pass rate", "checks", "median s", "TTFT s", "tok/s", "tokens in/out",
                   "cost $", "peak MB", "bits/byte", "judge")  # fmt: skip


def _fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    return "-" if value is None else pattern.format(value)


def summary_rows(report: ComparisonReport, reason_width: int = 0) -> list[list[str]]:
    """One row of text per model (a failed load says why in place of its numbers, cut to `reason_width`
    characters when that is set)."""
    return [_summary_row(m, reason_width) for m in report.models]


def _summary_row(m: ModelSummary, reason_width: int = 0) -> list[str]:
    if not m.loaded:
        reason = f"failed to load: {m.error}"
        if reason_width and len(reason) > reason_width:
            reason = reason[: reason_width - 3] + "..."
        return [m.model, m.backend or "-", reason] + [""] * (len(SUMMARY_COLUMNS) - 3)
    rate = "-" if m.pass_rate is None else f"{m.pass_rate:.0%} ({m.cases_passed}/{m.cases})"
    return [
        m.model, m.backend, rate, f"{m.checks_passed}/{m.checks}", _fmt(m.median_latency_s), _fmt(m.median_ttft_s, "{:.3f}"),
        _fmt(m.median_tokens_per_s, "{:.1f}"), f"{m.tokens_in}/{m.tokens_out}", f"{m.cost_usd:.4f}",
        _fmt(m.peak_rss_mb, "{:.0f}"), _fmt(m.bits_per_byte, "{:.3f}"), _fmt(m.judge_mean),
    ]  # fmt: skip


def text_table(rows: list[list[str]], header: tuple[str, ...] = SUMMARY_COLUMNS) -> str:
    widths = [max(len(str(r[i])) for r in [list(header), *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [list(header), *rows]]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ccc;padding:.35rem .5rem;vertical-align:top;text-align:left}th{background:#f3f3f3}
td.out{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.85rem;max-width:34rem}
.pass{color:#176b2c;font-weight:600}.fail{color:#a11;font-weight:600}.meta{color:#666;font-size:.8rem}
"""


def render_html(report: ComparisonReport) -> str:
    """Summary table, then one row per case with every model's answer, checks and numbers side by side."""
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in SUMMARY_COLUMNS)
    summary = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in summary_rows(report))
    notes = "".join(
        f"<li>{e(m.model)}: {e(m.bits_per_byte_note)}</li>" for m in report.models if m.bits_per_byte_note
    )
    models = [m.model for m in report.models]
    columns = "".join(f"<th>{e(m)}</th>" for m in models)
    rows = []
    for case in report.case_ids:
        cells = "".join(_cell(report.result(m, case)) for m in models)
        rows.append(f"<tr><td><b>{e(case)}</b><div class=meta>{e(report.prompts.get(case, ''))}</div></td>{cells}</tr>")
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>llmkit compare: {e(report.suite)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>Suite {e(report.suite)}</h1>"
        f"<p class=meta>{e(report.suite_source)} &middot; seed {report.seed} &middot; greedy &middot; "
        f"{report.wall_s:.0f} s &middot; bits per byte on: {e(report.bits_per_byte_text)}</p>"
        f"<table><tr>{head}</tr>{summary}</table><ul class=meta>{notes}</ul>"
        f"<h2>Side by side</h2><table><tr><th>case</th>{columns}</tr>{''.join(rows)}</table></body></html>"
    )


def _cell(result: CaseResult | None) -> str:
    e = html.escape
    if result is None:
        return "<td class=meta>not run</td>"
    if result.error:
        return f"<td><span class=fail>error</span> {e(result.error)}</td>"
    verdict = "<span class=pass>PASS</span>" if result.passed else "<span class=fail>FAIL</span>"
    checks = "".join(
        f"<div class=meta>{'✓' if c.passed else '✗'} {e(c.kind)}: {e(c.detail)}</div>" for c in result.checks
    )
    judge = f"<div class=meta>judge {result.judge_score}/5: {e(result.judge_reason)}</div>" if result.judge_reason else ""
    numbers = (f"{result.total_s:.2f} s, TTFT {result.ttft_s:.3f} s, {result.tokens_per_s:.1f} tok/s, "
               f"{result.prompt_tokens or '?'} in / {result.completion_tokens} out")  # fmt: skip
    return f"<td>{verdict}<div class=out>{e(result.output)}</div>{checks}{judge}<div class=meta>{numbers}</div></td>"


def write_report(report: ComparisonReport, out_dir: Path) -> tuple[Path, Path]:
    """report.html and results.json in `out_dir` (created)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page, data = out_dir / "report.html", out_dir / "results.json"
    page.write_text(render_html(report), encoding="utf-8")
    data.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    return page, data

"""Synthetic data tab: template picker, a YAML editor whose validation errors name the field (and its line),
a row preview, a run with progress, the quality report inline (scores and its plots) and downloads.
Specs, runs and reports are llmkit.synth's; this module only lays them out."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmkit.synth import (
    SpecError,
    build_report,
    load_tables,
    resolve_spec,
    run,
    template_names,
    template_path,
    write_report,
)
from llmkit.ui.app import UiContext, gradio, guarded, register_tab

FORMATS = ["csv", "jsonl", "parquet", "sqlite"]
PREVIEW_ROWS = 5
_DOWNLOADS = (".csv", ".jsonl", ".parquet", ".sqlite", ".json", ".html")


def field_line(text: str, path: str) -> int | None:
    """The 1-based YAML line of a spec path such as `tables[0].columns[2].sampler` (None if not found)."""
    import yaml

    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key, index in re.findall(r"(\w+)|\[(\d+)\]", path.removeprefix("spec.").removeprefix("spec")):
        if isinstance(node, yaml.MappingNode) and key:
            found = [(k, v) for k, v in node.value if getattr(k, "value", None) == key]
            if not found:
                break
            line, node = found[0][0].start_mark.line + 1, found[0][1]
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def spec_error(text: str, exc: Exception) -> str:
    """The error for the page, with the line of the field it names."""
    message = html.escape(str(exc))
    line = field_line(text, exc.path) if isinstance(exc, SpecError) else None
    where = f" (line {line} of the editor)" if line else ""
    return f"<div class='notice' id='synth-error-text'><b>Invalid spec{where}:</b> {message}</div>"


def _spec(ctx: UiContext, text: str, rows: Any, folder: Path) -> Any:
    gr = gradio()
    if not text.strip():
        raise gr.Error("The spec is empty: pick a template or write one.")
    path = folder / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return resolve_spec(str(path), rows=int(rows) if rows else None)


def load_template(name: str) -> tuple[str, str]:
    return template_path(name).read_text(encoding="utf-8"), ""


def validate(ctx: UiContext, text: str) -> str:
    try:
        spec = _spec(ctx, text, None, ctx.session_dir("synth-check"))
    except Exception as exc:  # noqa: BLE001 - a spec problem is shown in the page, next to the editor
        return spec_error(text, exc)
    tables = ", ".join(f"{t.name} ({t.rows} rows, {len(t.columns)} columns)" for t in spec.tables)
    return f"<div id='synth-valid'>Valid spec <b>{html.escape(spec.name)}</b>: {html.escape(tables)}</div>"


def preview(ctx: UiContext, text: str) -> tuple[Any, str]:
    gr = gradio()
    folder = ctx.session_dir("synth-preview")
    try:
        spec = _spec(ctx, text, PREVIEW_ROWS, folder)
    except Exception as exc:  # noqa: BLE001
        return None, spec_error(text, exc)
    for _ in run(spec, folder / "data", "csv", engine=ctx.engine, check_space=False):
        pass
    first = spec.tables[0].name
    rows = load_tables(folder / "data" / f"{first}.csv")[first][:PREVIEW_ROWS]
    if not rows:
        raise gr.Error(f"the preview of {first} has no rows")
    header = list(rows[0])
    return gr.update(value=[[row[c] for c in header] for row in rows], headers=header), ""


def scores(report: dict[str, Any]) -> str:
    """The report's headline numbers per table, as Markdown."""
    lines = [
        "| table | rows | duplicate rows | complete columns | rules passed | orphan keys |",
        "|---|---|---|---|---|---|",
    ]
    for name, table in report["tables"].items():
        columns = table["columns"].values()
        complete = sum(1 for c in columns if c.get("completeness", 1.0) >= 1.0)
        rules = table.get("rules", [])
        passed = sum(1 for r in rules if not r["violations"])
        orphans = sum(item.get("orphans", 0) for item in table.get("referential_integrity", []))
        lines.append(
            f"| {name} | {table['rows']} | {table['duplicate_row_rate']:.1%} | {complete}/{len(columns)} | "
            f"{passed}/{len(rules)} | {orphans} |"
        )
    for llm in (report.get("run") or {}).get("llm", []):
        lines.append(f"\nLLM column {llm['column']}: {llm['valid_rate']:.0%} valid replies, {llm['retries']} retries")
    return "\n".join(lines)


def run_spec(ctx: UiContext, text: str, rows: Any, fmt: str, progress: Any = None) -> Iterator[tuple]:
    """Yields (status, error box, scores, report HTML, files)."""
    folder = ctx.session_dir("synth-run")
    try:
        spec = _spec(ctx, text, rows, folder)
    except Exception as exc:  # noqa: BLE001
        yield "", spec_error(text, exc), "", "", None
        return
    out = folder / "data"
    total = sum(t.rows for t in spec.tables)
    done: dict[str, int] = {}
    yield f"Generating {total} rows...", "", "", "", None
    for event in run(spec, out, fmt, engine=ctx.engine):
        done[event.table] = event.done
        line = f"{event.table}: {event.done}/{event.total} rows ({sum(done.values())}/{total} in all)"
        if progress is not None:
            progress(sum(done.values()) / max(total, 1), desc=line)
        yield line, "", "", "", None
    yield "Building the quality report...", "", "", "", None
    report = build_report(out, spec)
    _, html_path = write_report(report, out / "report")
    page = html.escape(html_path.read_text(encoding="utf-8"), quote=True)
    frame = f"<iframe id='synth-report-frame' srcdoc=\"{page}\" style='width:100%;height:520px;border:1px solid #ddd'></iframe>"
    files = sorted(str(p) for p in out.iterdir() if p.suffix in _DOWNLOADS and not p.name.startswith("."))
    yield f"Done: {sum(done.values())} rows in {fmt}.", "", scores(report), frame, files


@register_tab("synth", "Synthetic data", order=40)
def build(ctx: UiContext) -> None:
    gr = gradio()
    names = template_names()
    first = "customers" if "customers" in names else names[0]
    with gr.Row():
        template = gr.Dropdown(names, value=first, label="Template", elem_id="synth-template")
        rows = gr.Number(
            value=50, precision=0, minimum=1, label="Rows (first table; others scale)", elem_id="synth-rows"
        )
        fmt = gr.Dropdown(FORMATS, value="csv", label="Format", elem_id="synth-format")
    editor = gr.Code(template_path(first).read_text(encoding="utf-8"), language="yaml", label="Spec (YAML)",
                     elem_id="synth-editor", lines=18)  # fmt: skip
    with gr.Row():
        validate_button = gr.Button("Validate", elem_id="synth-validate")
        preview_button = gr.Button(f"Preview {PREVIEW_ROWS} rows", elem_id="synth-preview")
        run_button = gr.Button("Run", variant="primary", elem_id="synth-run")
    error = gr.HTML(elem_id="synth-error")
    table = gr.Dataframe(label="Preview", elem_id="synth-table", interactive=False)
    status = gr.Markdown(elem_id="synth-status")
    summary = gr.Markdown(elem_id="synth-scores")
    report = gr.HTML(elem_id="synth-report")
    files = gr.File(label="Downloads", file_count="multiple", elem_id="synth-files")
    tracker = gr.Progress()  # Gradio fills a handler's Progress default with the live tracker

    def on_run(text: str, count: Any, form: str, progress: Any = tracker) -> Iterator[tuple]:
        yield from run_spec(ctx, text, count, form, progress)

    template.change(guarded(load_template), [template], [editor, error])
    validate_button.click(guarded(lambda text: validate(ctx, text)), [editor], [error], concurrency_id="synth-check")
    preview_button.click(guarded(lambda text: preview(ctx, text)), [editor], [table, error], concurrency_id="synth")
    run_button.click(
        guarded(on_run), [editor, rows, fmt], [status, error, summary, report, files], concurrency_id="synth"
    )

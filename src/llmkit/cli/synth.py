"""`llmkit synth ...`: a thin adapter over `llmkit.synth`."""

from __future__ import annotations

import json
from pathlib import Path

import click

FORMATS = ["csv", "jsonl", "parquet", "sqlite", "hf"]


@click.group("synth")
def synth_group() -> None:
    """Synthetic data from dataset specs: samplers, expressions, references, LLM text and JSON, time series."""


@synth_group.command("templates")
def templates_command() -> None:
    """The built-in dataset templates."""
    from llmkit.synth import template_names, template_path

    for name in template_names():
        first = template_path(name).read_text(encoding="utf-8").splitlines()[0].lstrip("# ")
        click.echo(f"{name:16} {first}")


@synth_group.command("show")
@click.argument("template")
def show_command(template: str) -> None:
    """Print a template's spec (YAML), to copy and edit."""
    from llmkit.synth import template_path

    click.echo(template_path(template).read_text(encoding="utf-8"), nl=False)


@synth_group.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of dataset specs (for editors: yaml-language-server, VS Code)."""
    from llmkit.synth import spec_json_schema

    click.echo(json.dumps(spec_json_schema(), indent=2))


@synth_group.command("run")
@click.argument("spec")
@click.option("--rows", type=int, default=None, help="Rows of the first table (the others scale with it).")
@click.option("--seed", type=int, default=None, help="Same spec + seed = byte-identical files.")
@click.option("--out", "-o", required=True, type=click.Path(),
              help="Output folder, or one file of a one-table spec (.csv .jsonl .parquet .sqlite .db).")  # fmt: skip
@click.option("--format", "fmt", default=None, type=click.Choice(FORMATS),
              help="[default: the --out file's suffix, else csv]")  # fmt: skip
@click.option("--model", default=None, help="Model for LLM columns that name none.")
@click.option("--report", "report_path", default=None, type=click.Path(), help="Also write PATH.json and PATH.html.")
@click.option("--fresh", is_flag=True, help="Start over, replacing an earlier run's files in --out.")
def run_command(
    spec: str, rows: int | None, seed: int | None, out: str, fmt: str | None, model: str | None,
    report_path: str | None, fresh: bool,
) -> None:  # fmt: skip
    """Generate SPEC (a YAML file or a template name) into --out, with a progress bar.

    An interrupted run started again with the same arguments resumes after its last finished batch.
    """
    from llmkit.synth import resolve_spec, resume_point, run, space_needed

    dataset = resolve_spec(spec, rows, seed)
    total = sum(table.rows for table in dataset.tables)
    estimate = space_needed(dataset, Path(out), fmt, model, resume=not fresh)  # refuses a run that cannot fit
    if estimate is not None:
        click.echo(f"warning: {estimate.warning}" if estimate.warning else f"about {estimate.size} to write", err=True)
    batches = 0 if fresh else resume_point(dataset, Path(out), fmt, model)
    if batches:
        click.echo(f"{out}: resuming an unfinished run after {batches} finished batch(es) (--fresh starts over)",
                   err=True)  # fmt: skip
    with click.progressbar(length=total, label="rows", file=click.get_text_stream("stderr")) as bar:
        finished: dict[str, int] = {}
        for progress in run(dataset, Path(out), fmt, model=model, resume=not fresh, check_space=False):
            bar.update(progress.done - finished.get(progress.table, 0))
            finished[progress.table] = progress.done
    click.echo(f"{total} rows in {len(dataset.tables)} table(s) -> {out}", err=True)
    if report_path:
        _write_report(Path(out), dataset, None, Path(report_path))


@synth_group.command("report")
@click.argument("data", type=click.Path(exists=True))
@click.option("--spec", default=None, help="The spec (file or template) to re-check rules and references.")
@click.option("--reference", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A real CSV: SDMetrics column-shape and pair-trend scores against it.")  # fmt: skip
@click.option("--out", "-o", default=None, type=click.Path(), help="Report path without suffix [DATA/report].")
def report_command(data: str, spec: str | None, reference: str | None, out: str | None) -> None:
    """Quality report of generated DATA (a run's folder or one file): JSON + standalone HTML."""
    from llmkit.synth import resolve_spec

    folder = Path(data) if Path(data).is_dir() else Path(data).parent
    _write_report(Path(data), resolve_spec(spec) if spec else None, reference, Path(out) if out else folder / "report")


def _write_report(data: Path, spec, reference: str | None, out: Path) -> None:
    from llmkit.synth import build_report, write_report

    report = build_report(data, spec, Path(reference) if reference else None)
    json_path, html_path = write_report(report, out)
    for name, table in report["tables"].items():
        broken = sum(rule["violations"] for rule in table.get("rules", []))
        orphans = sum(check["orphans"] for check in table.get("referential_integrity", []))
        click.echo(f"{name}: {table['rows']} rows, rule violations {broken}, orphan keys {orphans}", err=True)
    if "reference" in report:
        click.echo(f"similarity to {reference}: {report['reference']['overall']:.1%}", err=True)
    click.echo(f"report: {json_path} {html_path}", err=True)

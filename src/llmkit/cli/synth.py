"""`llmkit synth ...`: a thin adapter over `llmkit.synth` (work in progress: issue 4)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("synth")
def synth_group() -> None:
    """Synthetic data from dataset specs (sampler, expression and reference columns so far)."""


@synth_group.command("templates")
def templates_command() -> None:
    """The built-in dataset templates."""
    from llmkit.synth import template_names

    for name in template_names():
        click.echo(name)


@synth_group.command("show")
@click.argument("template")
def show_command(template: str) -> None:
    """Print a template's spec (YAML), to copy and edit."""
    from llmkit.errors import InvalidInputError
    from llmkit.synth.service import TEMPLATES, template_names

    if template not in template_names():
        raise InvalidInputError(f"unknown template {template!r}; known: {', '.join(template_names())}")
    click.echo((TEMPLATES / f"{template}.yaml").read_text(), nl=False)


@synth_group.command("run")
@click.argument("spec")
@click.option("--rows", type=int, default=None, help="Rows of the first table (the others scale with it).")
@click.option("--seed", type=int, default=None, help="Same spec + seed = byte-identical files.")
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--format", "fmt", default="csv", show_default=True, type=click.Choice(["csv", "jsonl", "sqlite"]))
def run_command(spec: str, rows: int | None, seed: int | None, out: str, fmt: str) -> None:
    """Generate SPEC (a YAML file or a template name) into --out, with a progress bar."""
    from llmkit.synth import resolve_spec, run

    dataset = resolve_spec(spec, rows, seed)
    total = sum(table.rows for table in dataset.tables)
    with click.progressbar(length=total, label="rows", file=click.get_text_stream("stderr")) as bar:
        finished = {}
        for progress in run(dataset, Path(out), fmt):
            bar.update(progress.done - finished.get(progress.table, 0))
            finished[progress.table] = progress.done
    click.echo(f"{total} rows in {len(dataset.tables)} table(s) -> {out}", err=True)

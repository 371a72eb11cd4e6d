"""`llmkit compare` and `llmkit recommend`: thin adapters over llmkit.compare."""

from __future__ import annotations

import json
from pathlib import Path

import click

from llmkit.cli.render import err
from llmkit.errors import InvalidInputError


def _progress(event: object) -> None:
    from llmkit.compare import CaseDone, CompareProgress, ModelDone

    if isinstance(event, CompareProgress):
        where = f"[{event.model_index}/{event.models} {event.model}]"
        if event.stage == "case":
            err(f"{where} case {event.case_index}/{event.cases} {event.case}")
        elif event.stage == "judging":
            err(f"[judge {event.model}] {event.case_index}/{event.cases} {event.case}")
        else:
            err(f"{where} {event.stage.replace('_', ' ')}...")
    elif isinstance(event, CaseDone):
        r = event.result
        verdict = "error: " + r.error if r.error else ("pass" if r.passed else "FAIL")
        err(f"    {verdict}  {r.total_s:.1f} s  {r.output.strip()[:60]!r}")
    elif isinstance(event, ModelDone) and not event.summary.loaded:
        err(f"    failed to load: {event.summary.error} (the other models go on)")


@click.command("compare")
@click.option("--models", "-m", "models", required=True,
              help="Comma-separated specs: NAME[:fp32|bf16|fp16|8bit|4bit][@transformers|llamacpp|openai|URL].")  # fmt: skip
@click.option("--suite", "-s", default="general", show_default=True, help="A built-in suite name or a YAML file.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write report.html (side by side) and results.json here.")  # fmt: skip
@click.option("--judge", default=None, help="A model spec that scores every answer 1-5 (overrides the suite's).")
@click.option("--max-new-tokens", "-n", default=None, type=int, help="Override every case's answer budget.")
@click.option("--no-bits-per-byte", is_flag=True, help="Skip bits per byte on the shared text.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
def compare(models: str, suite: str, out_dir: Path | None, judge: str | None, max_new_tokens: int | None,
            no_bits_per_byte: bool, as_json: bool) -> None:  # fmt: skip
    """Run a prompt suite on several models side by side: checks, latency, throughput, memory, cost."""
    from llmkit.compare import (
        CompareOptions,
        ComparisonDone,
        ModelSpec,
        compare_stream,
        load_suite,
        summary_rows,
        text_table,
        write_report,
    )

    specs = [ModelSpec.parse(part) for part in models.split(",") if part.strip()]
    if not specs:
        raise InvalidInputError("--models is empty; give one or more specs, e.g. smollm2@llamacpp,gemma3@llamacpp")
    if judge is not None:
        ModelSpec.parse(judge)
    if max_new_tokens is not None and max_new_tokens < 1:
        raise InvalidInputError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")
    chosen = load_suite(suite)
    err(f"suite {chosen.name}: {len(chosen.cases)} cases x {len(specs)} models, seed {chosen.seed}, greedy")
    options = CompareOptions(judge=judge, bits_per_byte=not no_bits_per_byte, max_new_tokens=max_new_tokens)
    report = None
    for event in compare_stream(specs, chosen, options):
        _progress(event)
        if isinstance(event, ComparisonDone):
            report = event.report
    assert report is not None
    if out_dir is not None:
        page, data = write_report(report, out_dir)
        err(f"wrote {page} and {data}")
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(text_table(summary_rows(report, reason_width=60)))
        for model in report.models:
            if not model.loaded:
                click.echo(f"{model.model}: failed to load: {model.error}")


@click.command("recommend")
@click.option("--memory-gb", type=float, default=None, help="Memory budget (default: the GPU's, or 16 GB of RAM).")
@click.option("--gpu", default="none", show_default=True, help="none, t4, l4, a10g, rtx3090, rtx4090, a100-40gb, "
              "a100, h100, h200.")  # fmt: skip
@click.option("--task", default=None, help="chat, code, reasoning, long-context, multilingual, safety, maths, edge.")
@click.option("--languages", default="", help="Comma-separated language codes the model must cover, e.g. en,zh.")
@click.option("--context", default=4096, show_default=True, type=int, help="Tokens of context to hold (KV cache).")
@click.option("--json", "as_json", is_flag=True, help="JSON rows: name, family, quantization, memory, fits, score, reasons.")
def recommend(memory_gb: float | None, gpu: str, task: str | None, languages: str, context: int, as_json: bool) -> None:
    """Rank the catalog for your hardware and task; excluded models say why."""
    from llmkit.compare import Constraints
    from llmkit.compare import recommend as rank
    from llmkit.config import load_settings
    from llmkit.models import Catalog

    wanted = tuple(lang.strip().lower() for lang in languages.split(",") if lang.strip())
    constraints = Constraints(memory_gb=memory_gb, gpu=gpu.lower(), task=task, languages=wanted, context=context)
    rows = rank(Catalog.load(load_settings()).entries, constraints)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2, ensure_ascii=False))
        return
    err(f"budget {constraints.budget_gb:g} GB on {constraints.hardware.name}, context {context} tokens"
        + (f", task {task}" if task else "") + (f", languages {', '.join(wanted)}" if wanted else ""))  # fmt: skip
    fitting = [r for r in rows if r.fits]
    for rank_number, row in enumerate(fitting, 1):
        click.echo(f"{rank_number}. {row.name}  score {row.score:g}  {row.quantization}  "
                   f"~{row.estimated_memory_gb:g} GB  {row.speed_class}  [{row.license}]")  # fmt: skip
        for reason in row.reasons:
            click.echo(f"     - {reason}")
    if not fitting:
        click.echo("no catalog model fits these constraints")
    excluded = [r for r in rows if not r.fits]
    if excluded:
        click.echo("\nexcluded:")
        for row in excluded:
            click.echo(f"  {row.name}: {row.excluded_because}")

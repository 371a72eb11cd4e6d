"""`llmkit demo`: the main job on the embedded defaults, one step per capability.

Each step runs even when an earlier one failed, prints what it produced, and a failed step makes the
command exit 1 with the list of what failed: a demo that prints an error and exits 0 would hide a
broken install. `--quick` runs the same steps on smaller inputs (a short answer, the first 45 s of the
sample meeting, two products), which is what the test suite runs.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from llmkit.errors import LlmkitError

QUICK_MEETING_S = 45.0

_TOUR = [
    ("llmkit models", "model catalog: families, context, license, availability here"),
    ("llmkit generate / chat", "streaming generation on transformers, llama.cpp or any OpenAI server"),
    ("llmkit tokens ...", "tokenizer lab: encode, decode, compare, special tokens, chat templates"),
    ("llmkit transcribe / minutes", "transcripts, speakers and grounded meeting minutes from audio, md/json/html"),
    ("llmkit synth ...", "synthetic data: specs, templates, LLM columns, relations, quality report, resume"),
    ("llmkit inspect / quant ...", "model internals (arch, memory, attention, logit lens) and quantization lab"),
    ("llmkit compare / recommend", "models side by side on a prompt suite; which model fits your hardware"),
    ("llmkit serve", "an OpenAI-compatible server: SSE and WebSocket, keys, limits, metrics"),
    ("llmkit ui", "one web app over all of it, in your browser"),
]


def run_demo(engine: Any, model: str | None, backend: str | None, quick: bool) -> None:
    """Run every step; exit 1 naming the steps that failed."""
    steps: list[tuple[str, Callable[[], None]]] = [
        ("generation", lambda: _demo_generation(engine, model, backend, quick)),
        ("minutes", lambda: _demo_minutes(model, backend, quick)),
        ("synthetic data", lambda: _demo_synth(engine, model, quick)),
    ]
    failed = []
    for name, step in steps:
        try:
            step()
        except LlmkitError as exc:
            failed.append(name)
            click.echo(f"error: {name}: {exc}", err=True)
    click.echo("\nWhere llmkit's capabilities live:")
    for command, what in _TOUR:
        click.echo(f"  {command:<28} {what}")
    if failed:
        click.echo(f"error: the demo's {', '.join(failed)} step(s) failed (see above)", err=True)
        sys.exit(1)


def _demo_generation(engine: Any, model: str | None, backend: str | None, quick: bool) -> None:
    from llmkit.cli.render import load_with_status, render_generation, stats_line
    from llmkit.generation import CancelToken

    load_with_status(engine, model, backend)
    question = "Give three short tips for writing a clear prompt for a language model."
    click.echo(f"> {question}\n")
    cancel = CancelToken()
    events = engine.stream(question, model=model, backend=backend, cancel=cancel,
                           max_new_tokens=48 if quick else 160, repetition_penalty=1.1)  # fmt: skip
    done = render_generation(events, echo=True, cancel=cancel)
    click.echo(stats_line(done), err=True)
    _demo_token_counts(done.text)


def _demo_token_counts(text: str) -> None:
    from llmkit import tokens

    click.echo("\nThe same answer, counted by each offline tokenizer (llmkit tokens compare):")
    for row in tokens.compare(text):
        cost = f"  ${row.cost_usd:.6f} at ${row.price_per_m_tokens}/1M" if row.cost_usd is not None else ""
        click.echo(f"  {row.tokenizer:<8} {row.tokens:>4} tokens  {row.chars_per_token:.2f} chars/token{cost}")


def _demo_minutes(model: str | None, backend: str | None, quick: bool) -> None:
    from llmkit.asr import write_first_seconds
    from llmkit.cli.render import render_minutes_batch
    from llmkit.minutes import SAMPLE_MEETING, MinutesOptions, MinutesPipeline

    out = Path(tempfile.mkdtemp(prefix="llmkit-demo-minutes-"))
    meeting = write_first_seconds(SAMPLE_MEETING, QUICK_MEETING_S, out) if quick else SAMPLE_MEETING
    length = f"its first {QUICK_MEETING_S:.0f} s" if quick else "3 min"
    click.echo(f"\nMeeting minutes from the sample recording ({SAMPLE_MEETING.name}, {length}, four voices):")
    pipeline = MinutesPipeline(MinutesOptions(model=model, backend=backend))
    failures = render_minutes_batch(pipeline, [meeting], out / "minutes", force=True, as_json=False)
    if failures:
        raise LlmkitError(failures[0][1])


def _demo_synth(engine: Any, model: str | None, quick: bool) -> None:
    from llmkit.synth import build_report, load_tables, resolve_spec, run, write_report

    spec = resolve_spec("product_reviews", rows=2 if quick else 3)  # products; ~5 reviews each, model-written
    out = Path(tempfile.mkdtemp(prefix="llmkit-demo-synth-"))
    total = sum(t.rows for t in spec.tables)
    click.echo(f"\nSynthetic data: the product_reviews template, {total} rows (llmkit synth run):")
    with click.progressbar(length=total, label="rows", file=click.get_text_stream("stderr")) as bar:
        finished: dict[str, int] = {}
        for progress in run(spec, out, "csv", model=model, engine=engine):
            bar.update(progress.done - finished.get(progress.table, 0))
            finished[progress.table] = progress.done
    report = build_report(out, spec)
    json_path, html_path = write_report(report, out / "report")
    for row in load_tables(out / "reviews.csv")["reviews"][:3]:
        review = " ".join(row["review"].split())
        click.echo(f"  {row['rating']}/5 {row['product_name']}: {review}")
    for llm in report.get("run", {}).get("llm", []):
        click.echo(
            f"  {llm['column']}: {llm['valid_rate']:.0%} valid replies, {llm['retries']} retries ({llm['backend']})"
        )
    click.echo(f"  files and quality report: {out} ({html_path.name})")

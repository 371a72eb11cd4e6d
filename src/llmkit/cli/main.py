"""The `llmkit` command: a thin adapter over the Python API.

Text goes to stdout as it streams; status, stats and errors go to stderr, so `llmkit generate ... > out.txt`
captures only the answer. Every llmkit error becomes one `error: ...` line and exit code 1.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from llmkit.config import config_file_path, describe_settings, load_settings
from llmkit.errors import LlmkitError
from llmkit.generation.types import (
    CancelToken,
    ChatMessage,
    Finished,
    GenerationEvent,
    GenerationResult,
    TextDelta,
)

_MODEL_OPTIONS = [
    click.option("--model", "-m", default=None, help="Catalog name, hub id, local directory or .gguf file."),
    click.option("--backend", "-b", default=None, help="transformers | llamacpp | openai (default: the model's)."),
    click.option("--precision", default=None, type=click.Choice(["auto", "fp32", "bf16", "fp16"])),
    click.option("--quantization", default=None, type=click.Choice(["none", "8bit", "4bit"])),
    click.option("--device", default=None, help="auto | cpu | cuda | cuda:N"),
    click.option("--threads", default=None, type=int, help="CPU threads (0 = all)."),
]
_SAMPLING_OPTIONS = [
    click.option("--system", "-s", default=None, help="System prompt."),
    click.option("--max-new-tokens", "-n", default=256, show_default=True, type=int),
    click.option("--temperature", "-t", default=0.0, show_default=True, type=float, help="0 = greedy."),
    click.option("--top-p", default=1.0, show_default=True, type=float),
    click.option("--top-k", default=0, show_default=True, type=int, help="0 = off."),
    click.option("--repetition-penalty", default=1.0, show_default=True, type=float),
    click.option("--stop", multiple=True, help="Stop string (repeatable)."),
    click.option("--seed", default=None, type=int, help="Makes sampled output reproducible."),
]


def _apply(options: list[Callable]) -> Callable:
    def decorator(func: Callable) -> Callable:
        for option in reversed(options):
            func = option(func)
        return func

    return decorator


def _engine(model_opts: dict[str, Any]) -> Any:
    from llmkit.generation.service import Engine

    keys = ("precision", "quantization", "device", "threads")
    return Engine(**{k: model_opts.get(k) for k in keys})


def _sampling(opts: dict[str, Any]) -> dict[str, Any]:
    keys = ("max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "seed")
    return {**{k: opts[k] for k in keys}, "stop": tuple(opts["stop"])}


def _err(message: str) -> None:
    click.echo(message, err=True)


def _load_with_status(engine: Any, model: str | None, backend: str | None) -> Any:
    entry = engine.resolve(model)
    name = engine.backend_name(entry, backend)
    _err(f"loading {entry.name} ({name})...")
    if entry.gguf_file is not None and name == "transformers":
        _err("  (the first load converts the GGUF once, 20-60 s; later loads read the cache)")
    return engine.backend_for(model, backend)


def _render(events: Iterator[GenerationEvent], echo: bool, cancel: CancelToken) -> Finished:
    """Print deltas as they come. Ctrl-C cancels: generation stops before the next token and the stats
    of what was produced still print. A second Ctrl-C interrupts for real."""
    finished = None
    with _ctrl_c_cancels(cancel):
        for event in events:
            if isinstance(event, TextDelta) and echo:
                click.echo(event.text, nl=False)
            elif isinstance(event, Finished):
                finished = event
    if echo:
        click.echo()
    assert finished is not None
    return finished


@contextmanager
def _ctrl_c_cancels(cancel: CancelToken) -> Iterator[None]:
    # A signal handler rather than catching KeyboardInterrupt: the exception could land inside the
    # backend's generator and end it before it reports what it produced.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: Any) -> None:
        cancel.cancel()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stats_line(done: Finished) -> str:
    s = done.stats
    return (
        f"[{s.model} · {s.backend}] {s.prompt_tokens if s.prompt_tokens is not None else '?'} prompt + "
        f"{s.completion_tokens} new tokens · "
        f"ttft {s.ttft_s * 1000:.0f} ms · {s.tokens_per_s:.1f} tok/s · {s.finish_reason}"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llmkit")
def cli() -> None:
    """llmkit: build products on open-source LLMs, offline by default."""


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array with every field.")
def models(as_json: bool) -> None:
    """List the model catalog and where each model is available."""
    from llmkit.models.catalog import Catalog

    entries = Catalog.load(load_settings()).entries
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    header = f"{'name':<26} {'params':>7} {'context':>8}  {'availability':<12} {'backend':<12} license"
    click.echo(header)
    for e in entries:
        params = f"{e.params_b:g}B" if e.params_b else "?"
        ctx = f"{e.context_length // 1024}k" if e.context_length else "?"
        click.echo(f"{e.name:<26} {params:>7} {ctx:>8}  {e.availability():<12} {e.backend:<12} {e.license}")
    click.echo(f"\n{len(entries)} models. `llmkit models --json` gives hub ids, languages and notes.")
    click.echo(f"Add your own under [models.NAME] in {config_file_path()}.")


@cli.command()
@click.argument("prompt")
@_apply(_MODEL_OPTIONS + _SAMPLING_OPTIONS)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (text and stats) at the end.")
def generate(prompt: str, as_json: bool, **opts: Any) -> None:
    """Stream a completion for PROMPT ('-' reads it from stdin)."""
    if prompt == "-":
        prompt = sys.stdin.read()
    engine = _engine(opts)
    _load_with_status(engine, opts["model"], opts["backend"])
    cancel = CancelToken()
    events = engine.stream(
        prompt, model=opts["model"], backend=opts["backend"], system=opts["system"], cancel=cancel,
        **_sampling(opts),
    )  # fmt: skip
    done = _render(events, echo=not as_json, cancel=cancel)
    if as_json:
        result = GenerationResult(text=done.text, stats=done.stats)
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        _err(_stats_line(done))


@cli.command()
@_apply(_MODEL_OPTIONS + _SAMPLING_OPTIONS)
def chat(**opts: Any) -> None:
    """Interactive multi-turn chat. /reset clears the history, /exit (or Ctrl-D) leaves."""
    engine = _engine(opts)
    backend = _load_with_status(engine, opts["model"], opts["backend"])
    history: list[ChatMessage] = [ChatMessage("system", opts["system"])] if opts["system"] else []
    _err("chat ready: /reset clears the history, /exit leaves")
    while True:
        try:
            line = input("you> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if line.strip() in ("/exit", "/quit"):
            return
        if line.strip() == "/reset":
            history = history[:1] if opts["system"] else []
            _err("(history cleared)")
            continue
        if not line.strip():
            continue
        history.append(ChatMessage("user", line))
        _trim_history(history, backend, opts["max_new_tokens"])
        click.echo("assistant> ", nl=False)
        cancel = CancelToken()
        events = engine.stream(list(history), model=opts["model"], backend=opts["backend"], cancel=cancel,
                               **_sampling(opts))  # fmt: skip
        done = _render(events, echo=True, cancel=cancel)
        history.append(ChatMessage("assistant", done.text))
        _err(_stats_line(done))


def _trim_history(history: list[ChatMessage], backend: Any, reserve: int) -> None:
    """Drop the oldest exchanges (never the system prompt or the new message) until the prompt fits."""
    from llmkit.generation.types import Prompt

    window = getattr(backend, "context_length", 0)
    if not window:
        return
    first = 1 if history and history[0].role == "system" else 0
    while len(history) - first > 1:
        tokens = backend.count_prompt_tokens(Prompt(messages=history))
        if tokens is None or tokens + min(reserve, window // 4) < window:
            return
        del history[first : first + 2]
        _err("(dropped the oldest exchange to fit the context window)")


@cli.command()
@_apply(_MODEL_OPTIONS)
def demo(**opts: Any) -> None:
    """Run the main job on the embedded defaults: a streamed generation, then a tour."""
    engine = _engine(opts)
    _load_with_status(engine, opts["model"], opts["backend"])
    question = "Give three short tips for writing a clear prompt for a language model."
    click.echo(f"> {question}\n")
    cancel = CancelToken()
    events = engine.stream(question, model=opts["model"], backend=opts["backend"], cancel=cancel,
                           max_new_tokens=160, repetition_penalty=1.1)  # fmt: skip
    done = _render(events, echo=True, cancel=cancel)
    _err(_stats_line(done))
    _demo_token_counts(done.text)
    _demo_minutes(opts["model"], opts["backend"])
    _demo_synth(engine, opts["model"])
    click.echo("\nWhere llmkit's capabilities live:")
    for command, what in _TOUR:
        click.echo(f"  {command:<28} {what}")


def _demo_token_counts(text: str) -> None:
    from llmkit import tokens

    click.echo("\nThe same answer, counted by each offline tokenizer (llmkit tokens compare):")
    for row in tokens.compare(text):
        cost = f"  ${row.cost_usd:.6f} at ${row.price_per_m_tokens}/1M" if row.cost_usd is not None else ""
        click.echo(f"  {row.tokenizer:<8} {row.tokens:>4} tokens  {row.chars_per_token:.2f} chars/token{cost}")


def _demo_minutes(model: str | None, backend: str | None) -> None:
    import tempfile
    from pathlib import Path

    from llmkit.cli.meetings import run_minutes
    from llmkit.minutes import SAMPLE_MEETING, MinutesOptions, MinutesPipeline

    click.echo(f"\nMeeting minutes from the sample recording ({SAMPLE_MEETING.name}, 3 min, four voices):")
    out = Path(tempfile.mkdtemp(prefix="llmkit-demo-minutes-"))
    failures = run_minutes(
        MinutesPipeline(MinutesOptions(model=model, backend=backend)), [SAMPLE_MEETING], out, force=True, as_json=False
    )
    if failures:
        _err(f"error: {failures[0][1]}")


def _demo_synth(engine: Any, model: str | None) -> None:
    import tempfile
    from pathlib import Path

    from llmkit.synth import resolve_spec, run
    from llmkit.synth.report import build_report, load_tables, write_report

    spec = resolve_spec("product_reviews", rows=3)  # 3 products, ~15 reviews written by the model
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


_TOUR = [
    ("llmkit models", "model catalog: families, context, license, availability here"),
    ("llmkit generate / chat", "streaming generation on transformers, llama.cpp or any OpenAI server"),
    ("llmkit tokens ...", "tokenizer lab: encode, decode, compare, special tokens, chat templates"),
    ("llmkit transcribe / minutes", "transcripts and grounded meeting minutes from audio, batch, md/json/html"),
    ("llmkit synth ...", "synthetic data: specs, templates, LLM columns, relations, quality report, resume"),
]


def _register_subcommands() -> None:
    from llmkit.cli.meetings import minutes, transcribe
    from llmkit.cli.synth import synth_group
    from llmkit.cli.tokens import tokens_group

    cli.add_command(tokens_group)
    cli.add_command(synth_group)
    cli.add_command(transcribe)
    cli.add_command(minutes)


_register_subcommands()


@cli.command("config")
def show_config() -> None:
    """Show every setting, its environment variable and its current value."""
    settings = load_settings()
    click.echo(f"config file: {config_file_path()}")
    for name, env, value in describe_settings(settings):
        click.echo(f"  {name:<20} {env:<28} {value}")


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LlmkitError as exc:
        _err(f"error: {exc}")
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main()

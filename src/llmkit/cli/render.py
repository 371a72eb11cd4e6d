"""Terminal rendering: model loading status, a streamed generation (Ctrl-C
cancels), the stats line, progress lines and a batch of meeting minutes, shared by the commands and the
demo so that none of them imports another command's module."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from llmkit.generation import CancelToken, Finished, GenerationEvent, TextDelta

if TYPE_CHECKING:
    from llmkit.generation import Engine
    from llmkit.minutes import MinutesPipeline


def err(message: str) -> None:
    click.echo(message, err=True)


def load_with_status(engine: Engine, model: str | None, backend: str | None) -> None:
    entry = engine.resolve(model)
    name = engine.backend_name(entry, backend)
    err(f"loading {entry.name} ({name})...")
    if entry.gguf_file is not None and name == "transformers":
        err("  (the first load converts the GGUF once, 20-60 s; later loads read the cache)")
    engine.backend_for(model, backend)


def render_generation(events: Iterator[GenerationEvent], echo: bool, cancel: CancelToken) -> Finished:
    """Print deltas as they come. Ctrl-C cancels: generation stops before the next token and the stats
    of what was produced still print. Before the first token (loading, prefill, a server that does not
    answer) Ctrl-C interrupts at once, as does a second Ctrl-C."""
    finished = None
    progress = {"started": False}
    with _ctrl_c_cancels(cancel, progress):
        for event in events:
            progress["started"] = True
            if isinstance(event, TextDelta) and echo:
                click.echo(event.text, nl=False)
            elif isinstance(event, Finished):
                finished = event
    if echo:
        click.echo()
    assert finished is not None
    return finished


@contextmanager
def _ctrl_c_cancels(cancel: CancelToken, progress: dict[str, bool]) -> Iterator[None]:
    # A signal handler rather than catching KeyboardInterrupt: the exception could land inside the
    # backend's generator and end it before it reports what it produced. Until something was produced
    # there is nothing to lose, and a blocking wait (a silent server) would otherwise ignore the cancel.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: Any) -> None:
        cancel.cancel()
        signal.signal(signal.SIGINT, previous)
        if not progress["started"]:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stats_line(done: Finished) -> str:
    s = done.stats
    return (
        f"[{s.model} · {s.backend}] {s.prompt_tokens if s.prompt_tokens is not None else '?'} prompt + "
        f"{s.completion_tokens} new tokens · "
        f"ttft {s.ttft_s * 1000:.0f} ms · {s.tokens_per_s:.1f} tok/s · {s.finish_reason}"
    )


class Progress:
    """One updating status line on stderr (a plain line per update when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = ""

    def show(self, text: str) -> None:
        if text == self.last:
            return
        self.last = text
        if self.tty:
            click.echo(f"\r\033[K{text}", err=True, nl=False)
        else:
            click.echo(text, err=True)

    def done(self) -> None:
        if self.tty and self.last:
            click.echo("", err=True)
        self.last = ""


def bar(fraction: float, width: int = 24) -> str:
    filled = int(round(fraction * width))
    return "[" + "#" * filled + "-" * (width - filled) + f"] {fraction:4.0%}"


def render_minutes_batch(pipeline: MinutesPipeline, sources: list[Path], out: Path, force: bool, as_json: bool) -> list[tuple[str, str]]:
    """Renders `stream_batch`: progress, the streamed summary, the minutes; returns the failures."""
    from llmkit.minutes import MinutesDelta, MinutesDone, stream_batch, to_markdown

    progress, failures, streamed = Progress(), [], set()
    for item in stream_batch(pipeline, sources, out, force):
        source, event = item.source, item.event
        if item.skipped:
            click.echo(f"{source}: already done in {item.folder} (--force to redo)", err=True)
        elif item.error is not None:
            progress.done()
            failures.append((str(source), str(item.error)))
            click.echo(f"error: {item.error}", err=True)
        elif isinstance(event, MinutesDelta):
            if source not in streamed:
                progress.done()
                click.echo("Summary: ", nl=False, err=as_json)
                streamed.add(source)
            click.echo(event.text, nl=False, err=as_json)
        elif isinstance(event, MinutesDone):
            click.echo("", err=as_json)
            result = event.minutes
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False) if as_json else "\n" + to_markdown(result))
            click.echo(f"{source}: minutes in {item.folder} ({result.stats.get('total_s', 0):.0f} s)", err=True)
        else:
            fraction = event.done / event.total if event.total else 1.0
            progress.show(f"{source.name} {event.stage:<10} {bar(fraction)} {event.message}")
    return failures

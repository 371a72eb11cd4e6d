"""The `llmkit` command: a thin adapter over the Python API.

Text goes to stdout as it streams; status, stats and errors go to stderr, so `llmkit generate ... > out.txt`
captures only the answer. Every llmkit error becomes one `error: ...` line and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from llmkit.cli.render import err, load_with_status, render_generation, stats_line
from llmkit.cli.textio import clean_text, read_stdin_text
from llmkit.config import config_file_path, describe_settings, load_settings
from llmkit.errors import InvalidInputError, LlmkitError, UnsupportedError
from llmkit.generation import (
    CancelToken,
    ChatMessage,
    GenerationResult,
    Prompt,
)

if TYPE_CHECKING:
    from llmkit.generation import Engine

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


def _engine(model_opts: dict[str, Any]) -> Engine:
    from llmkit.generation import Engine

    keys = ("precision", "quantization", "device", "threads")
    return Engine(**{k: model_opts.get(k) for k in keys})


def _sampling(opts: dict[str, Any]) -> dict[str, Any]:
    """The sampling flags, checked before any model loads (a bad value should not cost a load)."""
    from llmkit.generation import SamplingParams

    keys = ("max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty", "seed")
    sampling = {**{k: opts[k] for k in keys}, "stop": tuple(clean_text(s, "--stop") for s in opts["stop"])}
    SamplingParams(**sampling)  # raises ConfigError naming the bad value
    return sampling


def _require_chat_template(engine: Engine, opts: dict[str, Any], command: str, instead: str) -> None:
    """A base model has no chat template: a chat prompt would be a made-up transcript it was never trained
    on, so say so before loading anything (an endpoint's server applies its own template)."""
    from llmkit.models import has_chat_template

    entry = engine.resolve(opts["model"])
    if engine.backend_name(entry, opts["backend"]) != "openai" and not has_chat_template(entry):
        raise UnsupportedError(
            f"{entry.name} is a base model with no chat template, so `llmkit {command}` cannot format "
            f'messages for it; use `{instead} "text to continue"` (plain completion)'
        )


def _require_prompt(prompt: str) -> str:
    if not prompt.strip():
        raise InvalidInputError("the prompt is empty; give some text (or '-' to read it from stdin)")
    return prompt


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llmkit")
def cli() -> None:
    """llmkit: build products on open-source LLMs, offline by default."""


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON array with every field.")
def models(as_json: bool) -> None:
    """List the model catalog and where each model is available."""
    from llmkit.models import Catalog

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
@click.option("--raw", is_flag=True, help="Plain completion: the model continues PROMPT as is, no chat template.")
def generate(prompt: str, as_json: bool, raw: bool, **opts: Any) -> None:
    """Stream a completion for PROMPT ('-' reads it from stdin)."""
    prompt = _require_prompt(read_stdin_text() if prompt == "-" else clean_text(prompt, "the prompt"))
    system = clean_text(opts["system"], "--system") if opts["system"] else None
    if raw and system:
        raise InvalidInputError("--system needs a chat template, which --raw skips; put the text in the prompt")
    sampling = _sampling(opts)
    engine = _engine(opts)
    if not raw:
        _require_chat_template(engine, opts, "generate", "llmkit generate --raw")
    load_with_status(engine, opts["model"], opts["backend"])
    cancel = CancelToken()
    request = Prompt(raw=prompt) if raw else prompt
    events = engine.stream(
        request, model=opts["model"], backend=opts["backend"], system=system, cancel=cancel, **sampling
    )
    done = render_generation(events, echo=not as_json, cancel=cancel)
    if as_json:
        result = GenerationResult(text=done.text, stats=done.stats)
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        err(stats_line(done))
    if cancel.cancelled:
        sys.exit(130)  # interrupted by the user, as a shell expects, after printing what was produced


@cli.command()
@_apply(_MODEL_OPTIONS + _SAMPLING_OPTIONS)
def chat(**opts: Any) -> None:
    """Interactive multi-turn chat. /reset clears the history, /exit (or Ctrl-D) leaves."""
    sampling = _sampling(opts)
    system = clean_text(opts["system"], "--system") if opts["system"] else None
    engine = _engine(opts)
    _require_chat_template(engine, opts, "chat", "llmkit generate --raw")
    load_with_status(engine, opts["model"], opts["backend"])
    history: list[ChatMessage] = [ChatMessage("system", system)] if system else []
    # Bytes that are not UTF-8 must not end the session (and its history): keep them, then replace them.
    sys.stdin.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]
    err("chat ready: /reset clears the history, /exit leaves")
    while True:
        try:
            line = clean_text(input("you> "), "your message")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        if line.strip() in ("/exit", "/quit"):
            return
        if line.strip() == "/reset":
            history = history[:1] if system else []
            err("(history cleared)")
            continue
        if not line.strip():
            continue
        history.append(ChatMessage("user", line))
        if engine.fit_history(history, opts["max_new_tokens"], opts["model"], opts["backend"]):
            err("(dropped the oldest exchanges to fit the context window)")
        click.echo("assistant> ", nl=False)
        cancel = CancelToken()
        events = engine.stream(list(history), model=opts["model"], backend=opts["backend"], cancel=cancel,
                               **sampling)  # fmt: skip
        try:
            done = render_generation(events, echo=True, cancel=cancel)
        except (KeyboardInterrupt, LlmkitError) as exc:  # the session and its history go on
            history.pop()
            err("\n(interrupted before the answer began)" if isinstance(exc, KeyboardInterrupt) else f"\nerror: {exc}")
            continue
        history.append(ChatMessage("assistant", done.text))
        err(stats_line(done))


@cli.command()
@_apply(_MODEL_OPTIONS)
@click.option("--quick", is_flag=True, help="Smaller inputs: a short answer, 45 s of the sample meeting, 2 products.")
def demo(quick: bool, **opts: Any) -> None:
    """Run the main job on the embedded defaults: generation, meeting minutes, synthetic data."""
    from llmkit.cli.demo import run_demo

    run_demo(_engine(opts), opts["model"], opts["backend"], quick)


def _register_subcommands() -> None:
    from llmkit.cli.meetings import minutes, transcribe
    from llmkit.cli.serve import serve_command
    from llmkit.cli.synth import synth_group
    from llmkit.cli.tokens import tokens_group

    cli.add_command(tokens_group)
    from llmkit.cli.labs import register_labs; register_labs(cli)  # noqa: I001 - inspect + quant labs (issue 14)
    cli.add_command(synth_group)
    cli.add_command(transcribe)
    cli.add_command(minutes)
    cli.add_command(serve_command)
    from llmkit.cli.ui import ui_command  # noqa: I001 - the web UI (issue 13)
    cli.add_command(ui_command)
    from llmkit.cli.compare import compare, recommend  # noqa: I001 - model comparison and selection (issue 15)
    cli.add_command(compare), cli.add_command(recommend)


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
    except (click.exceptions.Abort, KeyboardInterrupt):
        err("interrupted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LlmkitError as exc:
        err(f"error: {exc}")
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(0)


if __name__ == "__main__":
    main()

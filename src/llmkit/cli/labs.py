"""`llmkit inspect ...` (model internals) and `llmkit quant run` (quantization lab): thin adapters over
`llmkit.internals` and `llmkit.quant`. Reports go to stdout (text or --json), status to stderr."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from llmkit import internals
from llmkit.cli.render import err
from llmkit.cli.textio import clean_text, colour_wanted, read_stdin_text
from llmkit.errors import InvalidInputError

_MODEL = click.option("--model", "-m", default=None, help="Catalog name, hub id, local directory or .gguf file.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
_OUT = click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
                    help="Folder for the PNG and HTML pictures.")  # fmt: skip
_MAX_TOKENS = click.option("--max-tokens", default=internals.MAX_TOKENS, show_default=True, type=int,
                           help="Longer inputs are cut to this many tokens.")  # fmt: skip
_PRECISION = click.option("--precision", default="fp32", show_default=True, type=click.Choice(["fp32", "bf16"]))


def _text(text: str) -> str:
    return read_stdin_text() if text == "-" else clean_text(text, "TEXT")


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


def _load(model: str | None, precision: str) -> Any:
    loaded = internals.load_for_inspection(model, precision)
    err(f"loading {loaded.entry.name} ({precision}, cpu)...")
    _ = loaded.model
    return loaded


def _files(report: Any) -> None:
    for path in report.files:
        err(f"wrote {path}")


def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:,.1f} MB"


@click.group("inspect")
def inspect_group() -> None:
    """Model internals lab: architecture, memory, attention, hidden states, logit lens, saliency."""


@inspect_group.command("arch")
@click.argument("model_arg", metavar="[MODEL]", required=False)
@_MODEL
@_JSON
@click.option("--depth", default=3, show_default=True, type=int, help="Module tree depth in the text view.")
def arch_command(model_arg: str | None, as_json: bool, depth: int, **opts: Any) -> None:
    """Module tree, parameters per kind and the config in plain words (meta device: no weights loaded).
    MODEL may also be a config.json file."""
    report = internals.architecture(model_arg or opts["model"])
    if as_json:
        _print_json(report.to_dict())
        return
    click.echo(f"{report.model}: {report.architecture}, {report.total_params:,} parameters")
    for key, value in report.summary.items():
        click.echo(f"  {key:<20} {value}")
    click.echo("parameters by kind:")
    for kind, count in sorted(report.params_by_kind.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {kind:<10} {count:>14,}  {100 * count / report.total_params:5.1f} %")
    for group in report.tied:
        click.echo(f"tied (one tensor): {' = '.join(group)}")
    click.echo("module tree:")
    _print_tree(report.modules, depth)


def _print_tree(modules: list[Any], depth: int) -> None:
    # Repeated blocks (layers.1 .. layers.N) look like layers.0: show the first, count the rest.
    skipped = 0
    for module in modules:
        parts = module.name.split(".")
        repeated = any(p.isdigit() and p != "0" for p in parts)
        if repeated:
            skipped += parts[-1].isdigit()
            continue
        if module.depth > depth:
            continue
        shapes = ", ".join(f"{k} {'x'.join(map(str, v))}" for k, v in module.shapes.items())
        click.echo(f"{'  ' * module.depth}{parts[-1]} ({module.cls}) {module.params:,}  {shapes}".rstrip())
    if skipped:
        click.echo(f"  ({skipped} more blocks like the numbered block 0 above)")


@inspect_group.command("memory")
@click.argument("model_arg", metavar="[MODEL]", required=False)
@_MODEL
@_JSON
@click.option("--context", default=None, type=int, help="Tokens per sequence (default: the model's window).")
@click.option("--batch", default=1, show_default=True, type=int)
@click.option("--dtype", default="bf16", show_default=True, type=click.Choice(list(internals.BITS_PER_WEIGHT)))
@click.option("--measure", is_flag=True, help="Also load the model (fp32) and measure its real tensor bytes.")
def memory_command(model_arg: str | None, as_json: bool, context: int | None, batch: int, dtype: str, measure: bool,
                   **opts: Any) -> None:  # fmt: skip
    """Weights at fp32/bf16/fp16/int8/4-bit, the GGUF's size, KV cache at a context and batch, overhead."""
    name = model_arg or opts["model"]
    loaded = _load(name, "fp32") if measure else None
    report = internals.memory(name, context, batch, dtype, loaded=loaded)
    if as_json:
        _print_json(report.to_dict())
        return
    est = report.estimate
    click.echo(f"{report.model}: {est.params:,} parameters")
    for kind, size in est.weights_bytes.items():
        click.echo(f"  weights {kind:<5} {_mb(size):>12}  ({est.bits_per_weight[kind]:g} bits/weight)")
    if report.gguf_file_bytes:
        click.echo(f"  GGUF file     {_mb(report.gguf_file_bytes):>12}")
    click.echo(f"  KV cache      {_mb(est.kv_cache_bytes):>12}  ({est.context} tokens x {est.batch}, "
               f"{est.kv_bytes_per_token:,} bytes/token)")  # fmt: skip
    click.echo(f"  overhead      {_mb(est.overhead_bytes):>12}")
    click.echo(f"  total ({est.dtype}) {_mb(est.total_bytes):>12}")
    if report.measured_bytes is not None:
        click.echo(f"  measured ({report.measured_dtype}) {_mb(report.measured_bytes)}: "
                   f"estimate off by {report.estimate_error_pct:+.2f} %")  # fmt: skip
    for note in est.notes:
        click.echo(f"  note: {note}")


def _probe_command(name: str, help_text: str, extra: list[Callable]) -> Callable:
    def decorator(func: Callable) -> Callable:
        for option in reversed([_MODEL, _JSON, _OUT, _MAX_TOKENS, _PRECISION, *extra]):
            func = option(func)
        func.__doc__ = help_text
        return inspect_group.command(name)(click.argument("text")(func))

    return decorator


@_probe_command("attention", "Attention weights for TEXT ('-' reads stdin): heatmap PNGs and one HTML page.", [
    click.option("--layer", default="auto", show_default=True,
                 help="all, last, or indexes like 0,5,-1 (auto: all up to 64 tokens, else last)."),
    click.option("--head", default="all", show_default=True, help="all, or indexes like 0,3."),
])  # fmt: skip
def attention_command(text: str, as_json: bool, out_dir: str | None, **opts: Any) -> None:
    loaded = _load(opts["model"], opts["precision"])
    report = internals.attention(loaded, _text(text), opts["layer"], opts["head"], out_dir, opts["max_tokens"])
    for note in report.notes:
        err(f"note: {note}")
    if as_json:
        _print_json(report.to_dict())
    else:
        _attention_summary(report)
    _files(report)


def _attention_summary(report: Any) -> None:
    # Per layer and head: the key each of the last query's weights goes to most (a one-line overview).
    click.echo(f"{len(report.tokens)} tokens, layers {report.layers}, heads {report.heads}")
    for li, layer in enumerate(report.layers):
        tops = [report.tokens[int(report.attention[li, hi, -1].argmax())] for hi in range(len(report.heads))]
        click.echo(f"  layer {layer:>2}: last token attends most to " + " | ".join(repr(t) for t in tops))


@_probe_command("hidden", "Per-layer hidden-state norms and similarity of consecutive layers for TEXT.", [])
def hidden_command(text: str, as_json: bool, out_dir: str | None, **opts: Any) -> None:
    loaded = _load(opts["model"], opts["precision"])
    report = internals.hidden(loaded, _text(text), out_dir, opts["max_tokens"])
    if as_json:
        _print_json(report.to_dict())
    else:
        click.echo("layer  mean-norm  cosine-to-next")
        for i, norm in enumerate(report.norms):
            cos = f"{report.cosine_to_next[i]:.3f}" if i < len(report.cosine_to_next) else ""
            click.echo(f"{i:>5} {norm:>10.2f}  {cos}")
    _files(report)


@_probe_command("lens", "Logit lens for TEXT: each layer's next-token guess through the final norm and head.", [
    click.option("--top", default=5, show_default=True, type=int, help="Tokens per position."),
    click.option("--positions", default=64, show_default=True, type=int, help="Read the last N positions."),
])  # fmt: skip
def lens_command(text: str, as_json: bool, out_dir: str | None, **opts: Any) -> None:
    loaded = _load(opts["model"], opts["precision"])
    report = internals.lens(loaded, _text(text), opts["top"], out_dir, opts["max_tokens"], opts["positions"])
    for note in report.notes:
        err(f"note: {note}")
    if as_json:
        _print_json(report.to_dict())
    else:
        click.echo(f"next token after {report.tokens[-1]!r}, layer by layer (0 = embeddings):")
        for layer in report.layers:
            guesses = ", ".join(f"{t.token!r} {t.prob:.2f}" for t in layer.top[-1])
            click.echo(f"  {layer.layer:>2}: {guesses}")
    _files(report)


@_probe_command("saliency", "Which tokens of TEXT drive the next-token prediction (gradient x input, rollout).", [])
def saliency_command(text: str, as_json: bool, out_dir: str | None, **opts: Any) -> None:
    loaded = _load(opts["model"], opts["precision"])
    report = internals.saliency(loaded, _text(text), out_dir, opts["max_tokens"])
    if as_json:
        _print_json(report.to_dict())
    else:
        click.echo(f"predicted next token {report.target.token!r} (p={report.target.prob:.3f})")
        click.echo("gradient x input:  " + _coloured(report.tokens, report.gradient_x_input))
        click.echo("attention rollout: " + _coloured(report.tokens, [0.0, *report.rollout_without_first]))
    _files(report)


def _coloured(tokens: list[str], scores: list[float]) -> str:
    """Tokens on a background from none to red by score; plain `token[score]` when colour is off."""
    top = max(scores) or 1.0
    if not colour_wanted():
        return " ".join(f"{t!r}[{s:.2f}]" for t, s in zip(tokens, scores, strict=True))
    shades = (None, "yellow", "bright_red", "red")
    parts = []
    for token, score in zip(tokens, scores, strict=True):
        shade = shades[min(3, int(4 * score / top))]
        parts.append(click.style(token, bg=shade, fg="black" if shade else None) if shade else token)
    return "".join(parts)


def _require_file(path: str | None) -> str | None:
    if path is not None and not Path(path).is_file():
        raise InvalidInputError(f"{path}: no such file")
    return path


@click.group("quant")
def quant_group() -> None:
    """Quantization lab: every method measured on the same text against fp32 (memory, quality, speed)."""


@quant_group.command("methods")
@_JSON
def quant_methods_command(as_json: bool) -> None:
    """The methods, and why any cannot run here."""
    from llmkit import quant

    rows = []
    for name in quant.method_names():
        method = quant.get_method(name)
        rows.append({"method": name, "description": method.description,
                     "unavailable": method.unavailable_reason(cuda=False)})  # fmt: skip
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['method']:<22} {row['description']}" + (f"  [{row['unavailable']}]" if row["unavailable"] else ""))


@quant_group.command("run")
@_MODEL
@_JSON
@_OUT
@click.option("--methods", default="", help="Comma-separated (default: every CPU method); see `llmkit quant methods`.")
@click.option("--text-file", default=None, type=click.Path(dir_okay=False), help="Evaluation text (default: Hamlet).")
@click.option("--eval-tokens", default=1024, show_default=True, type=int, help="Tokens of the text scored.")
@click.option("--window", default=512, show_default=True, type=int, help="Sliding window (context per score).")
@click.option("--stride", default=256, show_default=True, type=int)
@click.option("--threads", default=0, show_default=True, type=int, help="CPU threads per method (0 = all).")
def quant_run_command(as_json: bool, out_dir: str | None, methods: str, **opts: Any) -> None:
    """Quantize or load the model with each method, each in its own process, and measure it."""
    from llmkit import quant

    names = tuple(m.strip() for m in methods.split(",") if m.strip())
    request = quant.QuantRequest(model=opts["model"], methods=names, text_file=_require_file(opts["text_file"]),
                                 eval_tokens=opts["eval_tokens"], window=opts["window"], stride=opts["stride"],
                                 threads=opts["threads"], out_dir=out_dir)  # fmt: skip
    report = None
    for event in quant.stream_quant(request):
        if isinstance(event, quant.QuantDone):
            report = event.report
        elif event.row is None:
            err(f"[{event.index}/{event.total}] {event.method}...")
        else:
            row = event.row
            err(f"[{event.index}/{event.total}] {event.method}: " + (f"error: {row.error}" if row.error else
                f"perplexity {row.perplexity}, {row.weight_mb} MB, {row.seconds} s"))  # fmt: skip
    assert report is not None
    if as_json:
        _print_json(report.to_dict())
    else:
        click.echo(quant.table_markdown(report))
    _files(report)


def register_labs(cli: click.Group) -> None:
    """Called from `llmkit.cli.main`: adds `inspect` and `quant`."""
    cli.add_command(inspect_group)
    cli.add_command(quant_group)

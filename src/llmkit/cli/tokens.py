"""`llmkit tokens ...`: the tokenizer lab's CLI, a thin adapter over `llmkit.tokens`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from llmkit import tokens as lab
from llmkit.cli.textio import clean_text, colour_wanted, read_stdin_text
from llmkit.errors import InvalidInputError

_TOKENIZER = click.option(
    "--tokenizer",
    "-t",
    default="smollm2",
    show_default=True,
    help="Built-in tokenizer, catalog model, hub id, or a local tokenizer file/folder.",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the terminal view.")
_COLOURS = ("blue", "magenta", "green", "yellow", "cyan", "red")
_VISIBLE = str.maketrans({" ": "·", "\n": "↵", "\t": "→", "\r": "␍"})


def _text(text: str | None, file: str | None) -> str:
    if file:
        try:
            return Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"{file}: cannot read text: {exc}") from exc
    if text is None:
        raise click.UsageError("give TEXT, '-' for stdin, or --file")
    return read_stdin_text() if text == "-" else clean_text(text, "TEXT")


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group("tokens")
def tokens_group() -> None:
    """Tokenizer lab: how each model cuts text (offline tokenizers for SmolLM2, Llama 3, Mistral, Qwen2,
    OpenAI cl100k/o200k; any hub id or local tokenizer)."""


@tokens_group.command("list")
@_JSON
def list_command(as_json: bool) -> None:
    """Built-in tokenizers, whether they are installed here, and where they come from."""
    rows = lab.list_tokenizers()
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        where = row["from"] if row["available"] else f"missing: {row['install']}"
        click.echo(f"{row['name']:<9} {'yes' if row['available'] else 'no ':<4} {row['description']:<58} {where}")
    click.echo("Also: any catalog model (llmkit models), hub id, tokenizer.json folder, .gguf or .model file.")


@tokens_group.command("encode")
@click.argument("text", required=False)
@click.option("--file", "-f", default=None, help="Read the text from a file.")
@_TOKENIZER
@_JSON
@click.option("--no-special", is_flag=True, help="Add no BOS/EOS and read special-token text as plain text.")
def encode_command(text: str | None, file: str | None, tokenizer: str, as_json: bool, no_special: bool) -> None:
    """Ids, token strings and character offsets; a coloured view with whitespace made visible."""
    encoding = lab.encode(_text(text, file), tokenizer, special=not no_special)
    if as_json:
        _print_json(encoding.to_dict())
        return
    view, colour = [], colour_wanted()
    for index, token in enumerate(encoding.tokens):
        shown = (token.piece if token.special else encoding.text[token.start : token.end].translate(_VISIBLE)) or token.piece
        # Without colour, brackets show where one token ends and the next begins.
        view.append(click.style(shown, bg=_COLOURS[index % len(_COLOURS)], fg="white") if colour else f"[{shown}]")
    click.echo("".join(view))
    click.echo(f"{len(encoding.tokens)} tokens ({encoding.tokenizer})")
    click.echo(f"ids: {encoding.ids}")
    for token in encoding.tokens:
        click.echo(
            f"  {token.id:>7}  {token.start:>5}-{token.end:<5} {token.piece!r}{'  special' if token.special else ''}"
        )


@tokens_group.command("decode")
@click.argument("ids")
@_TOKENIZER
@click.option("--skip-special", is_flag=True, help="Leave special tokens out of the text.")
def decode_command(ids: str, tokenizer: str, skip_special: bool) -> None:
    """Text for IDS ("1 2 3", "1,2,3" or a JSON list; '-' reads stdin)."""
    click.echo(lab.decode(lab.parse_ids(read_stdin_text() if ids == "-" else ids), tokenizer, skip_special=skip_special))


@tokens_group.command("roundtrip")
@click.argument("text", required=False)
@click.option("--file", "-f", default=None, help="Read the text from a file.")
@_TOKENIZER
@_JSON
def roundtrip_command(text: str | None, file: str | None, tokenizer: str, as_json: bool) -> None:
    """Check that decode(encode(TEXT)) gives TEXT back; say where and why it differs."""
    result = lab.round_trip(_text(text, file), tokenizer)
    if as_json:
        _print_json(result.to_dict())
    elif result.ok:
        click.echo(f"{result.tokenizer}: round trip exact")
    else:
        click.echo(f"{result.tokenizer}: differs at character {result.position}: {result.reason}")
        click.echo(f"  decoded: {result.decoded!r}")
    if not result.ok:
        sys.exit(2)


@tokens_group.command("compare")
@click.argument("text", required=False)
@click.option("--file", "-f", default=None, help="Read the text from a file.")
@click.option(
    "--tokenizer",
    "-t",
    "tokenizers",
    multiple=True,
    help="Repeatable; default: every built-in tokenizer installed here.",
)
@click.option(
    "--price",
    multiple=True,
    metavar="TOKENIZER=USD",
    help="USD per million tokens, overriding the catalog's default (repeatable).",
)
@click.option("--ids", "show_ids", is_flag=True, help="Also print each tokenizer's ids.")
@_JSON
def compare_command(
    text: str | None,
    file: str | None,
    tokenizers: tuple[str, ...],
    price: tuple[str, ...],
    show_ids: bool,
    as_json: bool,
) -> None:
    """Token count, characters/bytes/words per token and cost, per tokenizer."""
    if file and text is None and not show_ids:  # a file of any size: read in chunks, memory bounded
        rows = lab.compare_file(Path(file), tokenizers, _prices(price))
    else:
        rows = lab.compare(_text(text, file), tokenizers, _prices(price))
    if as_json:
        _print_json([row.to_dict() for row in rows])
        return
    click.echo(
        f"{'tokenizer':<24} {'tokens':>8} {'chars/tok':>9} {'bytes/tok':>9} {'words/tok':>9} {'$/1M':>7} {'cost $':>11}"
    )
    for row in rows:
        cost = f"{row.cost_usd:.6f}" if row.cost_usd is not None else "-"
        per_m = f"{row.price_per_m_tokens:.2f}" if row.price_per_m_tokens else "-"
        click.echo(
            f"{row.tokenizer:<24} {row.tokens:>8} {row.chars_per_token:>9.2f} {row.bytes_per_token:>9.2f} "
            f"{row.words_per_token:>9.2f} {per_m:>7} {cost:>11}"
        )
        if show_ids:
            click.echo(f"  ids: {row.ids}")
    sources = sorted({f"{row.tokenizer}: {row.price_source}" for row in rows if row.price_source})
    if sources:
        click.echo("prices: " + "; ".join(sources))


def _prices(items: tuple[str, ...]) -> dict[str, float]:
    prices = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            prices[name] = float(value)
        except ValueError as exc:
            raise click.BadParameter(f"{item!r}: expected TOKENIZER=USD, e.g. o200k=2.5", param_hint="--price") from exc
    return prices


@tokens_group.command("special")
@_TOKENIZER
@_JSON
def special_command(tokenizer: str, as_json: bool) -> None:
    """Vocabulary size, BOS/EOS/PAD/UNK/MASK and the added special tokens with their ids."""
    info = lab.special_tokens(tokenizer)
    if as_json:
        _print_json(info.to_dict())
        return
    click.echo(f"{info.tokenizer}: vocabulary {info.vocab_size:,} ids; adds BOS: {'yes' if info.adds_bos else 'no'}")
    for role in ("bos", "eos", "pad", "unk", "mask"):
        ref = getattr(info, role)
        click.echo(f"  {role:<5} {f'{ref.text!r} = {ref.id}' if ref else '-'}")
    click.echo(f"  {len(info.added)} special tokens:")
    for ref in info.added[:40]:
        click.echo(f"    {ref.id:>7}  {ref.text}")
    if len(info.added) > 40:
        click.echo(f"    ... {len(info.added) - 40} more (--json lists all)")


@tokens_group.command("template")
@_TOKENIZER
@click.option(
    "--messages",
    "messages_file",
    required=True,
    type=click.Path(dir_okay=False),
    help='JSON file: [{"role": "user", "content": "..."}, ...]',
)
@click.option("--add-generation-prompt", is_flag=True, help="End with the assistant's turn header.")
@click.option(
    "--format",
    "chat_format",
    default=None,
    type=click.Choice(sorted(lab.CHAT_FORMATS)),
    help="A named format instead of the model's own template.",
)
@_JSON
def template_command(
    tokenizer: str, messages_file: str, add_generation_prompt: bool, chat_format: str | None, as_json: bool
) -> None:
    """Render a conversation with the model's chat template (or a named format) and count its tokens."""
    messages = lab.read_messages(Path(messages_file))
    rendered = lab.render_chat(
        messages, tokenizer, add_generation_prompt=add_generation_prompt, chat_format=chat_format
    )
    if as_json:
        _print_json(rendered.to_dict())
        return
    click.echo(rendered.text)
    click.echo(f"--- {len(rendered.ids)} tokens, template: {rendered.template} ({rendered.tokenizer})", err=True)
    for warning in rendered.warnings:
        click.echo(f"warning: {warning}", err=True)

"""The tokenizer lab's operations. Pure functions over resolved tokenizers; the CLI only renders results."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from llmkit.errors import InvalidInputError
from llmkit.models import render_chat_template  # the renderer generation uses: the lab shows what is sent
from llmkit.tokens.sources import ResolvedTokenizer, available_names, builtin_tokenizers, resolve_tokenizer
from llmkit.tokens.templates import CHAT_FORMATS, check_messages, check_roles
from llmkit.tokens.types import Encoding, RenderedPrompt, RoundTrip, SpecialTokens, TokenCount

DEFAULT_COMPARE = ("smollm2", "llama3", "mistral", "qwen2", "cl100k", "o200k")


def list_tokenizers() -> list[dict]:
    return [source.to_dict() for source in builtin_tokenizers()]


def encode(text: str, tokenizer: str, *, special: bool = True) -> Encoding:
    resolved = resolve_tokenizer(tokenizer)
    seen_text, tokens = resolved.engine.tokens(text, add_special=special, parse_special=special)
    return Encoding(resolved.name, seen_text, tokens)


def encode_batch(texts: Sequence[str], tokenizer: str, *, special: bool = False) -> list[list[int]]:
    """Ids for many texts at once, on the reference library's own batch path (threads where it has them)."""
    engine = resolve_tokenizer(tokenizer).engine
    return engine.encode_batch(texts, add_special=special, parse_special=special)


def decode(ids: Sequence[int], tokenizer: str, *, skip_special: bool = False) -> str:
    engine = resolve_tokenizer(tokenizer).engine
    unknown = [token_id for token_id in ids if not engine.knows(token_id)]
    outside = [token_id for token_id in unknown if not 0 <= token_id < engine.vocab_size]
    if outside:
        raise InvalidInputError(
            f"ids out of range for {tokenizer} (valid: 0..{engine.vocab_size - 1}): {', '.join(map(str, outside[:10]))}"
        )
    if unknown:
        raise InvalidInputError(
            f"ids not assigned to any token in {tokenizer} (its id range has gaps): {', '.join(map(str, unknown[:10]))}"
        )
    return engine.decode(ids, skip_special=skip_special)


def parse_ids(text: str) -> list[int]:
    """Ids as the user writes them: "1, 2 3" or a JSON list."""
    cleaned = text.strip().removeprefix("[").removesuffix("]").replace(",", " ")
    ids = []
    for part in cleaned.split():
        try:
            ids.append(int(part))
        except ValueError as exc:
            raise InvalidInputError(f"not a token id: {part!r} (give integers separated by spaces or commas)") from exc
    return ids


def round_trip(text: str, tokenizer: str) -> RoundTrip:
    """Does decode(encode(text)) give the text back? If not, where it first differs and the likely cause."""
    resolved = resolve_tokenizer(tokenizer)
    engine = resolved.engine
    decoded = engine.decode(engine.encode(text, add_special=False, parse_special=False))
    if decoded == text:
        return RoundTrip(resolved.name, True, decoded)
    position = next(
        (i for i, (a, b) in enumerate(zip(text, decoded, strict=False)) if a != b), min(len(text), len(decoded))
    )
    return RoundTrip(resolved.name, False, decoded, position, _why_different(text, decoded, engine, resolved))


def _why_different(text: str, decoded: str, engine, resolved: ResolvedTokenizer) -> str:
    if engine.prepare(text) == decoded:
        return "the tokenizer normalizes text to Unicode NFC before splitting"
    if unk := engine.unk:
        if unk.id in engine.encode(text, add_special=False, parse_special=False):
            return f"characters outside the vocabulary became {unk.text} (no byte fallback for them)"
    if decoded.strip() == text.strip():
        return "leading or trailing whitespace is added or dropped (sentencepiece-style prefix space)"
    if " ".join(decoded.split()) == " ".join(text.split()):
        return "whitespace is normalized (runs of spaces, tabs or newlines are changed)"
    return "the tokenizer normalizes the text (case, accents or compatibility characters)"


def special_tokens(tokenizer: str) -> SpecialTokens:
    resolved = resolve_tokenizer(tokenizer)
    engine = resolved.engine
    return SpecialTokens(
        resolved.name,
        engine.vocab_size,
        engine.bos,
        engine.eos,
        engine.pad,
        engine.unk,
        engine.mask,
        engine.special_tokens(),
        engine.adds_bos,
    )


def count(text: str, tokenizer: str, *, price_per_m_tokens: float | None = None) -> TokenCount:
    resolved = resolve_tokenizer(tokenizer)
    ids = resolved.engine.encode(text, add_special=False, parse_special=False)
    return _token_count(resolved, _TextSize.of(text), len(ids), price_per_m_tokens, ids)


@dataclass
class _TextSize:
    chars: int = 0
    bytes: int = 0
    words: int = 0

    @classmethod
    def of(cls, text: str) -> _TextSize:
        return cls(len(text), len(text.encode("utf-8")), len(text.split()))

    def add(self, other: _TextSize) -> None:
        self.chars, self.bytes, self.words = self.chars + other.chars, self.bytes + other.bytes, self.words + other.words


def _token_count(
    resolved: ResolvedTokenizer, size: _TextSize, tokens: int, price_per_m_tokens: float | None, ids: list[int]
) -> TokenCount:
    price = resolved.price_per_m_tokens if price_per_m_tokens is None else price_per_m_tokens
    source = resolved.price_source if price_per_m_tokens is None else "given"
    n = max(tokens, 1)
    return TokenCount(
        tokenizer=resolved.name,
        tokens=tokens,
        chars_per_token=round(size.chars / n, 3),
        bytes_per_token=round(size.bytes / n, 3),
        words_per_token=round(size.words / n, 3),
        price_per_m_tokens=price,
        price_source=source if price else "",
        cost_usd=round(tokens * price / 1e6, 8) if price else None,
        ids=ids,
    )


def compare(text: str, tokenizers: Sequence[str] = (), prices: dict[str, float] | None = None) -> list[TokenCount]:
    """Token counts side by side; by default every built-in tokenizer installed here."""
    names, prices = _compared_names(tokenizers, prices)
    return [count(text, name, price_per_m_tokens=prices.get(name)) for name in names]


def compare_file(
    path: Path, tokenizers: Sequence[str] = (), prices: dict[str, float] | None = None, *, chunk_chars: int = 1 << 20
) -> list[TokenCount]:
    """`compare` over a text file of any size, read in chunks cut at line starts: memory stays bounded.
    Ids are not kept (a 100 MB file has tens of millions). Counts can differ from encoding the file as one
    string only where a chunk boundary falls, one token or so per boundary."""
    names, prices = _compared_names(tokenizers, prices)
    resolved = [resolve_tokenizer(name) for name in names]
    totals, size = [0] * len(resolved), _TextSize()
    for chunk in _line_chunks(path, chunk_chars):
        size.add(_TextSize.of(chunk))
        for index, tokenizer in enumerate(resolved):
            totals[index] += len(tokenizer.engine.encode(chunk, add_special=False, parse_special=False))
    return [
        _token_count(tokenizer, size, total, prices.get(name), [])
        for name, tokenizer, total in zip(names, resolved, totals, strict=True)
    ]


def _line_chunks(path: Path, chunk_chars: int) -> Iterator[str]:
    """The file's text in pieces of about `chunk_chars`, each ending just before a line that starts with
    a non-space character (so no word, and no run of whitespace, is split)."""
    held = ""
    try:
        with path.open(encoding="utf-8") as file:
            while block := file.read(chunk_chars):
                held += block
                cut = _last_line_start(held) or (_last_word_start(held) if len(held) > 4 * chunk_chars else 0)
                if cut > 0:
                    yield held[:cut]
                    held = held[cut:]
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read text: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start} of a block)") from exc
    if held:
        yield held


def _last_line_start(text: str) -> int:
    index = len(text) - 1
    while (index := text.rfind("\n", 0, index)) >= 0:
        if index + 1 < len(text) and not text[index + 1].isspace():
            return index + 1
    return 0


def _last_word_start(text: str) -> int:
    """For text without line breaks: just after the last space before a word (else the whole text)."""
    index = len(text) - 1
    while (index := text.rfind(" ", 0, index)) >= 0:
        if not text[index + 1].isspace():
            return index + 1
    return len(text)


def _compared_names(tokenizers: Sequence[str], prices: dict[str, float] | None) -> tuple[list[str], dict[str, float]]:
    names = list(tokenizers) or [name for name in DEFAULT_COMPARE if name in available_names()]
    prices = prices or {}
    for name, price in prices.items():
        if name not in names:
            raise InvalidInputError(f"a price was given for {name!r}, which is not compared; compared: {', '.join(names)}")
        if not math.isfinite(price) or price < 0:
            raise InvalidInputError(f"the price for {name} must be a number >= 0 (USD per million tokens), got {price}")
    return names, prices


def render_chat(
    messages: list[dict[str, str]],
    tokenizer: str,
    *,
    add_generation_prompt: bool = False,
    chat_format: str | None = None,
) -> RenderedPrompt:
    """The prompt a model sees for these messages: its own template, or a named format."""
    resolved = resolve_tokenizer(tokenizer)
    engine = resolved.engine
    messages = check_messages(messages)
    template, template_name = _pick_template(resolved, chat_format)
    if template_name in CHAT_FORMATS:
        check_roles(CHAT_FORMATS[template_name], messages)
    text = render_chat_template(
        template,
        messages,
        add_generation_prompt=add_generation_prompt,
        bos_token=engine.bos.text if engine.bos else "",
        eos_token=engine.eos.text if engine.eos else "",
    )
    ids = engine.encode(text, add_special=True, parse_special=True)
    warnings = []
    if engine.bos and ids[:2] == [engine.bos.id, engine.bos.id]:
        warnings.append(
            f"double BOS: the template writes {engine.bos.text} and the tokenizer adds another; "
            "tokenize the rendered prompt without adding special tokens (add_special=False)"
        )
        ids = ids[1:]
    return RenderedPrompt(resolved.name, template_name, text, ids, warnings)


def _pick_template(resolved: ResolvedTokenizer, chat_format: str | None) -> tuple[str, str]:
    if chat_format:
        if chat_format not in CHAT_FORMATS:
            raise InvalidInputError(f"unknown chat format {chat_format!r}; known: {', '.join(CHAT_FORMATS)}")
        return CHAT_FORMATS[chat_format].template, chat_format
    if resolved.engine.chat_template:
        return resolved.engine.chat_template, "model"
    if resolved.template:
        return CHAT_FORMATS[resolved.template].template, resolved.template
    raise InvalidInputError(
        f"{resolved.name} ships no chat template; pick a format with --format ({', '.join(CHAT_FORMATS)})"
    )

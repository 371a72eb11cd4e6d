"""Typed results of the tokenizer lab; every adapter (CLI, HTTP, UI) renders these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Token:
    id: int
    piece: str  # the vocabulary entry as the tokenizer writes it (e.g. "Ġthe", "▁the", "<0x0A>")
    start: int  # character offsets into `Encoding.text`
    end: int
    special: bool = False


@dataclass
class Encoding:
    tokenizer: str
    text: str  # the text the offsets refer to (NFC-normalized for tokenizers that normalize)
    tokens: list[Token]

    @property
    def ids(self) -> list[int]:
        return [token.id for token in self.tokens]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tokenizer": self.tokenizer,
            "text": self.text,
            "count": len(self.tokens),
            "ids": self.ids,
            "tokens": [asdict(token) for token in self.tokens],
        }


@dataclass(frozen=True)
class TokenRef:
    text: str
    id: int


@dataclass
class SpecialTokens:
    tokenizer: str
    vocab_size: int  # every id decode accepts: the base vocabulary plus added tokens
    bos: TokenRef | None = None
    eos: TokenRef | None = None
    pad: TokenRef | None = None
    unk: TokenRef | None = None
    mask: TokenRef | None = None
    added: list[TokenRef] = field(default_factory=list)
    adds_bos: bool = False  # whether encoding adds `bos` in front by default

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RoundTrip:
    tokenizer: str
    ok: bool
    decoded: str
    position: int | None = None  # first character where decode(encode(text)) differs
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TokenCount:
    tokenizer: str
    tokens: int
    chars_per_token: float
    bytes_per_token: float
    words_per_token: float
    price_per_m_tokens: float  # USD; 0 when unknown (self-hosted)
    price_source: str
    cost_usd: float | None
    ids: list[int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RenderedPrompt:
    tokenizer: str
    template: str  # "model" for the tokenizer's own template, else the named format
    text: str
    ids: list[int]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

"""Tokenizer lab: how each model cuts text, offline. See `service` for the operations."""

from llmkit.tokens.engines import TokenizerEngine
from llmkit.tokens.service import (
    compare,
    compare_file,
    count,
    decode,
    encode,
    encode_batch,
    list_tokenizers,
    parse_ids,
    render_chat,
    round_trip,
    special_tokens,
)
from llmkit.tokens.sources import TokenizerSource, register_tokenizer, resolve_tokenizer
from llmkit.tokens.templates import CHAT_FORMATS, read_messages
from llmkit.tokens.types import Encoding, RenderedPrompt, RoundTrip, SpecialTokens, Token, TokenCount, TokenRef

__all__ = [
    "CHAT_FORMATS",
    "Encoding",
    "RenderedPrompt",
    "RoundTrip",
    "SpecialTokens",
    "Token",
    "TokenCount",
    "TokenRef",
    "TokenizerEngine",
    "TokenizerSource",
    "compare",
    "compare_file",
    "count",
    "decode",
    "encode",
    "encode_batch",
    "list_tokenizers",
    "parse_ids",
    "read_messages",
    "register_tokenizer",
    "render_chat",
    "resolve_tokenizer",
    "round_trip",
    "special_tokens",
]

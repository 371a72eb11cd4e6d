"""Split a transcript into parts that fit the model's window, counted with the model's own tokenizer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from llmkit.asr import short_clock
from llmkit.errors import LlmkitError
from llmkit.minutes.extract import Sentence


class TranscriptTooLongError(LlmkitError):
    def __init__(self, tokens: int, budget: int, at: float):
        super().__init__(
            f"one utterance at {short_clock(at)} is {tokens} tokens, more than the {budget} a part may hold in "
            "this model's context window; no chunking can fit it (use a model with a longer context)"
        )


@dataclass
class Chunk:
    part: int
    sentences: list[Sentence]
    tokens: int

    @property
    def text(self) -> str:
        return "\n".join(f"[{short_clock(s.time)}] {s.text}" for s in self.sentences)


def token_counter(model_name: str) -> tuple[Callable[[str], int], str]:
    """The model's tokenizer from the tokenizer lab; a 4-characters-per-token estimate if it has none here."""
    from llmkit.tokens import resolve_tokenizer

    try:
        engine = resolve_tokenizer(model_name).engine
    except LlmkitError:
        return (lambda text: len(text) // 4 + 1), "estimated (4 characters per token): tokenizer not available"
    return (lambda text: len(engine.encode(text, add_special=False, parse_special=False))), ""


def chunk_sentences(sentences: list[Sentence], count: Callable[[str], int], budget: int) -> list[Chunk]:
    """Greedy packing by token count; every sentence lands in exactly one part, none is cut."""
    chunks: list[Chunk] = []
    current: list[Sentence] = []
    used = 0
    for sentence in sentences:
        tokens = count(f"[00:00:00] {sentence.text}\n")
        if tokens > budget:
            raise TranscriptTooLongError(tokens, budget, sentence.time)
        if current and used + tokens > budget:
            chunks.append(Chunk(len(chunks) + 1, current, used))
            current, used = [], 0
        current.append(sentence)
        used += tokens
    if current:
        chunks.append(Chunk(len(chunks) + 1, current, used))
    return chunks

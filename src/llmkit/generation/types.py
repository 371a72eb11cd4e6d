"""Typed requests and the events every backend streams."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import ClassVar, Literal, Union

from llmkit.events import Event

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "cancelled"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class SamplingParams:
    """temperature 0 means greedy; top_k 0 and top_p 1 mean off; a seed makes sampling reproducible."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    ignore_eos: bool = False  # keep going past end-of-sequence (benchmarks; vLLM has the same flag)
    # Constrain the output to JSON matching this schema (grammar-constrained decoding on llamacpp, the
    # server's structured output on openai); the transformers backend refuses it rather than ignore it.
    json_schema: dict | None = None

    def __post_init__(self) -> None:
        from llmkit.errors import ConfigError

        for name in ("temperature", "top_p", "repetition_penalty"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"{name} must be a finite number, got {getattr(self, name)}")
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ConfigError(f"top_k must be >= 0, got {self.top_k}")
        if self.repetition_penalty <= 0:
            raise ConfigError(f"repetition_penalty must be > 0, got {self.repetition_penalty}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


class CancelToken:
    """A cancel signal another thread can raise; generation checks it before every token."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True)
class TextDelta(Event):
    type: ClassVar[str] = "delta"
    text: str


@dataclass(frozen=True)
class GenerationStats:
    model: str
    backend: str
    prompt_tokens: int | None  # None only when a remote server does not report usage
    completion_tokens: int
    ttft_s: float  # request start to first token
    total_s: float
    tokens_per_s: float  # decode speed: tokens after the first / time after the first
    finish_reason: FinishReason


@dataclass(frozen=True)
class Finished(Event):
    type: ClassVar[str] = "finished"
    text: str
    stats: GenerationStats


GenerationEvent = Union[TextDelta, Finished]


@dataclass(frozen=True)
class GenerationResult:
    text: str
    stats: GenerationStats

    def to_dict(self) -> dict:
        return {"text": self.text, **asdict(self.stats)}


def collect(events: Iterator[GenerationEvent]) -> GenerationResult:
    """A stream's whole text and final stats."""
    for event in events:
        if isinstance(event, Finished):
            return GenerationResult(text=event.text, stats=event.stats)
    raise RuntimeError("backend ended its stream without a Finished event")  # a backend bug


@dataclass
class Prompt:
    """What a backend generates from: chat messages, or raw text that skips the chat template."""

    messages: list[ChatMessage] = field(default_factory=list)
    raw: str | None = None

    @classmethod
    def of(cls, prompt: str | list[ChatMessage], system: str | None = None) -> Prompt:
        if isinstance(prompt, str):
            messages = [ChatMessage("user", prompt)]
        else:
            messages = list(prompt)
        if system:
            messages.insert(0, ChatMessage("system", system))
        return cls(messages=messages)

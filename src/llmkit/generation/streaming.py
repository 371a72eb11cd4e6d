"""Token-to-text streaming shared by the in-process backends.

`TokenStreamer` turns token ids into text deltas as they come (never splitting a multi-byte character),
holds back text that might be the start of a stop string, and measures the stats of the final event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

from llmkit.generation.types import (
    CancelToken,
    Finished,
    FinishReason,
    GenerationEvent,
    GenerationStats,
    TextDelta,
)

REPLACEMENT_CHAR = "\ufffd"


class IncrementalDetokenizer:
    """Decodes a growing id list by windows, so each step costs O(window), not O(length).

    The window keeps one already-emitted chunk as left context, because tokenizers (sentencepiece,
    byte-level BPE) render a token differently at the start of a string than after other text.
    """

    def __init__(self, decode: Callable[[Sequence[int]], str]):
        self._decode = decode
        self.ids: list[int] = []
        self._prefix = 0
        self._read = 0

    def push(self, token_id: int) -> str:
        self.ids.append(token_id)
        before = self._decode(self.ids[self._prefix : self._read])
        after = self._decode(self.ids[self._prefix :])
        if len(after) > len(before) and not after.endswith(REPLACEMENT_CHAR):
            self._prefix, self._read = self._read, len(self.ids)
            return after[len(before) :]
        return ""  # an incomplete UTF-8 sequence: wait for the next token

    def flush(self) -> str:
        """Whatever is still held (a truly invalid byte sequence at the end)."""
        before = self._decode(self.ids[self._prefix : self._read])
        after = self._decode(self.ids[self._prefix :])
        self._prefix = self._read = len(self.ids)
        return after[len(before) :]


class StopMatcher:
    """Emits text as late as needed and as early as possible around stop strings."""

    def __init__(self, stops: Sequence[str]):
        self._stops = [s for s in stops if s]
        self._held = ""
        self.hit = False

    def feed(self, text: str) -> str:
        if not self._stops:
            return text
        self._held += text
        cut = min((i for i in (self._held.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.hit = True
            out, self._held = self._held[:cut], ""
            return out
        keep = self._longest_stop_prefix_suffix()
        out = self._held[: len(self._held) - keep]
        self._held = self._held[len(self._held) - keep :]
        return out

    def flush(self) -> str:
        out, self._held = self._held, ""
        return out

    def _longest_stop_prefix_suffix(self) -> int:
        best = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(self._held)), best, -1):
                if self._held.endswith(stop[:n]):
                    best = n
                    break
        return best


class TokenStreamer:
    """Per-request bookkeeping: ids -> deltas, stop strings, timing, the final event."""

    def __init__(
        self,
        decode: Callable[[Sequence[int]], str],
        stops: Sequence[str],
        *,
        model: str,
        backend: str,
        prompt_tokens: int,
        started: float,
    ):
        self._detok = IncrementalDetokenizer(decode)
        self._stop = StopMatcher(stops)
        self._model, self._backend = model, backend
        self.prompt_tokens = prompt_tokens
        self._started = started
        self._first_at: float | None = None
        self._last_at = started
        self.completion_tokens = 0
        self._parts: list[str] = []

    @property
    def stopped(self) -> bool:
        return self._stop.hit

    def push(self, token_id: int) -> str:
        return self.push_text(self._detok.push(token_id))

    def push_text(self, piece: str) -> str:
        """One token whose text is already decoded (llama.cpp's server streams text, not ids)."""
        now = time.perf_counter()
        if self._first_at is None:
            self._first_at = now
        self._last_at = now
        self.completion_tokens += 1
        text = self._stop.feed(piece)
        self._parts.append(text)
        return text

    def finish(self, reason: FinishReason) -> tuple[str, Finished]:
        """The last held-back text (empty if a stop string ended it) and the final event."""
        tail = ""
        if not self._stop.hit:
            tail = self._stop.feed(self._detok.flush()) + self._stop.flush()
        self._parts.append(tail)
        return tail, Finished(text="".join(self._parts), stats=self._stats("stop" if self._stop.hit else reason))

    def _stats(self, reason: FinishReason) -> GenerationStats:
        end = time.perf_counter()
        first = self._first_at if self._first_at is not None else end
        decode_s = self._last_at - first
        rate = (self.completion_tokens - 1) / decode_s if self.completion_tokens > 1 and decode_s > 0 else 0.0
        return GenerationStats(
            model=self._model,
            backend=self._backend,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            ttft_s=first - self._started,
            total_s=end - self._started,
            tokens_per_s=rate,
            finish_reason=reason,
        )


def stream_tokens(
    tokens: Iterator[int], streamer: TokenStreamer, *, is_end: Callable[[int], bool], budget: int, cancel: CancelToken
) -> Iterator[GenerationEvent]:
    """The decode loop of the in-process backends: pull token ids until end-of-sequence, a stop
    string, the budget or a cancel (checked before each token); yield text deltas, then the final event.
    The token iterator is closed on the way out, so the backend stops computing at once."""
    reason: FinishReason = "length"
    try:
        for token in tokens:
            if cancel.cancelled:
                reason = "cancelled"
                break
            if is_end(token):
                reason = "stop"
                break
            text = streamer.push(token)
            if text:
                yield TextDelta(text)
            if streamer.stopped or streamer.completion_tokens >= budget:
                break
    finally:
        close = getattr(tokens, "close", None)
        if close is not None:
            close()
    tail, finished = streamer.finish(reason)
    if tail:
        yield TextDelta(tail)
    yield finished

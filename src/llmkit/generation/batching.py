"""Continuous batching for a server on the transformers backend's lean decoder.

Requests arrive on many threads (one per HTTP request); one decode thread owns a `BatchDecoder` of
`slots` rows. At every token boundary it admits waiting requests into free rows (their prompts processed
together in one pass), then runs one step for every running row, hands each row's text to its caller's
queue, and frees the rows that ended (end of sequence, stop string, budget, or a cancel). No request
waits for a longer one to finish, and one pass over the weights serves every running row.

Each row samples from its own logits with its own sampler, so what a request generates does not depend
on its neighbours beyond float rounding in the shared matrix products (tests compare greedy text alone
and in a crowd).

What it cannot do: a prompt's prefill pass is one forward over the admitted prompts; a cancel that
arrives during that pass takes effect right after it (before the first token is sampled). A request
that is cancelled while still waiting is dropped without being prefilled. Requests whose prompt and
budget do not fit a row's KV capacity run on the backend's single-sequence path instead.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from llmkit.generation.sampling import Sampler
from llmkit.generation.streaming import TokenStreamer
from llmkit.generation.types import (
    CancelToken,
    Finished,
    FinishReason,
    GenerationEvent,
    Prompt,
    SamplingParams,
    TextDelta,
)

DEFAULT_CAPACITY = 2048  # tokens per row (prompt + answer); a row's KV cache is allocated up front


@dataclass
class _Request:
    prompt_ids: list[int]
    params: SamplingParams
    budget: int
    cancel: CancelToken
    started: float
    events: queue.Queue = field(default_factory=queue.Queue)


class _Row:
    """One running request: its sampler, its streamer, and why it ended (None while running)."""

    def __init__(self, request: _Request, streamer: TokenStreamer, sampler: Sampler):
        self.request, self.streamer, self.sampler = request, streamer, sampler
        self.reason: FinishReason | None = None

    def take(self, logits: Any, eos: set[int]) -> int:
        """Choose the next token, send its text; sets `reason` when the row ends (returns 0 then)."""
        request = self.request
        if request.cancel.cancelled:
            self.reason = "cancelled"
            return 0
        token = self.sampler.choose(logits)
        self.sampler.observe(token)
        if token in eos and not request.params.ignore_eos:
            self.reason = "stop"
            return 0
        text = self.streamer.push(token)
        if text:
            request.events.put(TextDelta(text))
        if self.streamer.stopped or self.streamer.completion_tokens >= request.budget:
            self.reason = "length"
        return token

    def finish(self) -> None:
        tail, finished = self.streamer.finish(self.reason or "length")
        if tail:
            self.request.events.put(TextDelta(tail))
        self.request.events.put(finished)


class ContinuousBatcher:
    """Many concurrent `stream` calls decoded together on one transformers backend's lean decoder.

    `stream(prompt, params, cancel)` has the Backend's contract (TextDelta events, then one Finished);
    closing the iterator early cancels the request. `close()` stops the decode thread.
    """

    def __init__(self, backend: Any, slots: int, capacity: int = DEFAULT_CAPACITY):
        if getattr(backend, "fast", None) is None:
            raise ValueError(f"continuous batching needs the transformers backend's lean decoder, not {backend.name}")
        self.backend = backend
        self.slots = max(1, slots)
        self.capacity = min(capacity, backend.context_length or capacity)
        self._pending: queue.Queue[_Request | None] = queue.Queue()
        self._closed = False
        self._backlog: list[_Request] = []  # arrived, waiting for a free row, oldest first
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.running = 0  # rows decoding now (read by metrics)
        self.steps = 0  # decode steps taken; each serves every running row

    def stream(self, prompt: Prompt, params: SamplingParams, cancel: CancelToken) -> Iterator[GenerationEvent]:
        started = time.perf_counter()
        prompt_ids, budget = self.backend._checked_prompt(prompt, params)
        if len(prompt_ids) + budget > self.capacity:
            yield from self.backend.stream(prompt, params, cancel)  # too long for a row: the one-at-a-time path
            return
        request = _Request(prompt_ids, params, budget, cancel, started)
        self._ensure_thread()
        self._pending.put(request)
        try:
            while True:
                event = request.events.get()
                if isinstance(event, BaseException):
                    raise event
                yield event
                if isinstance(event, Finished):
                    return
        finally:
            cancel.cancel()  # a consumer that stops early frees its row before the next token

    def close(self) -> None:
        self._closed = True
        self._pending.put(None)
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="llmkit-batcher", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        import torch

        from llmkit.generation.fastpath import BatchDecoder

        with torch.inference_mode():
            decoder = BatchDecoder(self.backend.fast, self.slots, self.capacity, self._template_prefix())
            rows: list[_Row | None] = [None] * self.slots
            logits: list[Any] = [None] * self.slots
            while not self._closed:
                try:
                    self._admit(decoder, rows, logits)
                    self._step(decoder, rows, logits)
                except Exception as exc:  # noqa: BLE001 - a failed step fails the requests it served, not the thread
                    for slot, row in enumerate(rows):
                        if row is not None:
                            row.request.events.put(exc)
                            rows[slot] = None
                    self.running = 0

    def _template_prefix(self) -> list[int]:
        """The chat template's opening that every default request shares, processed once."""
        from llmkit.generation.fastpath import common_prefix

        ids = [self.backend._checked_prompt(Prompt.of(t), SamplingParams(max_new_tokens=1))[0] for t in ("a", "b")]
        return common_prefix(ids)

    def _waiting(self, block: bool) -> None:
        """Move arrivals to the backlog; block for one only when nothing is running."""
        try:
            while True:
                wait = block and not self._backlog
                request = self._pending.get(timeout=0.5) if wait else self._pending.get_nowait()
                if request is None:
                    return
                self._backlog.append(request)
        except queue.Empty:
            return

    def _admit(self, decoder: Any, rows: list[_Row | None], logits: list[Any]) -> None:
        import torch

        free = [slot for slot, row in enumerate(rows) if row is None]
        if not free:
            return
        self._waiting(block=len(free) == self.slots)
        arrivals, self._backlog = self._backlog[: len(free)], self._backlog[len(free) :]
        admitted: list[tuple[int, _Request]] = []
        for slot, request in zip(free, arrivals, strict=False):
            if request.cancel.cancelled:  # gone while waiting: never prefilled
                request.events.put(self._new_row(request).streamer.finish("cancelled")[1])
                continue
            admitted.append((slot, request))
        if not admitted:
            return
        for slot, request in admitted:
            row = self._new_row(request)
            row.sampler.observe(torch.tensor(request.prompt_ids))
            rows[slot] = row
        first = decoder.admit([s for s, _ in admitted], [r.prompt_ids for _, r in admitted])
        for (slot, _), row_logits in zip(admitted, first, strict=True):
            logits[slot] = row_logits

    def _new_row(self, request: _Request) -> _Row:
        backend = self.backend
        tokenizer = backend.loaded.tokenizer
        streamer = TokenStreamer(
            lambda ids: tokenizer.decode(ids, skip_special_tokens=True),
            request.params.stop,
            model=backend.entry.name,
            backend=backend.name,
            prompt_tokens=len(request.prompt_ids),
            started=request.started,
        )
        return _Row(request, streamer, Sampler(request.params, backend.loaded.config.vocab_size))

    def _step(self, decoder: Any, rows: list[_Row | None], logits: list[Any]) -> None:
        tokens = [0] * self.slots
        for slot, row in enumerate(rows):
            if row is None:
                continue
            tokens[slot] = row.take(logits[slot], self.backend._eos)
            if row.reason is not None:
                row.finish()
                rows[slot] = None
        active = [row is not None for row in rows]
        self.running = sum(active)
        if any(active):
            logits[:] = list(decoder.step(tokens, active))
            self.steps += 1

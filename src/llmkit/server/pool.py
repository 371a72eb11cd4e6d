"""The models a server serves: loaded at start-up (a fallback stands in for one that fails to load),
looked up by the names clients send, and streamed from, through the continuous batcher where the
backend has one."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from llmkit.errors import LlmkitError
from llmkit.generation import (
    CancelToken,
    ContinuousBatcher,
    Engine,
    GenerationEvent,
    Prompt,
    SamplingParams,
    backend_capabilities,
)
from llmkit.server.errors import context_exceeded, model_not_found

log = logging.getLogger("llmkit.server")


@dataclass
class Served:
    """One served name and the (model, backend) that answers it."""

    name: str
    model: str  # the catalog name the engine loads (the fallback's, after a failed load)
    backend: str
    load_s: float = 0.0
    error: str = ""  # why the requested model did not load (then `model` is the fallback)
    batcher: ContinuousBatcher | None = field(default=None, repr=False)


class ModelPool:
    def __init__(self, engine: Engine, names: tuple[str, ...], backend: str | None, fallback: str | None,
                 slots: int, batching: bool):  # fmt: skip
        self.engine, self.backend, self.fallback = engine, backend, fallback
        self.names = names or (engine.settings.default_model,)
        self.slots, self.batching = slots, batching
        self.served: dict[str, Served] = {}
        self.ready = threading.Event()
        self.owns_engine = True

    def load_all(self) -> None:
        """Load every served model now (a server's first request should not pay for it)."""
        for name in self.names:
            self.served[name] = self._load(name)
        self.ready.set()

    def _load(self, name: str) -> Served:
        started = time.perf_counter()
        try:
            served = self._open(name, name)
        except LlmkitError as exc:
            if not self.fallback:
                raise
            log.warning("model %s failed to load (%s); serving %s in its place", name, exc, self.fallback)
            served = self._open(name, self.fallback)
            served.error = str(exc)
        served.load_s = time.perf_counter() - started
        return served

    def _open(self, name: str, model: str) -> Served:
        entry = self.engine.resolve(model)
        backend_name = self.engine.backend_name(entry, self.backend)
        backend = self.engine.backend_for(entry.name, backend_name)
        batcher = None
        if self.batching and getattr(backend, "fast", None) is not None:
            batcher = ContinuousBatcher(backend, self.slots)
        return Served(name, entry.name, backend_name, batcher=batcher)

    def get(self, name: str) -> Served:
        """The served model a request names (its served name, or a catalog alias of one)."""
        if name in self.served:
            return self.served[name]
        try:
            resolved = self.engine.resolve(name).name
        except LlmkitError:
            resolved = None
        for served in self.served.values():
            if resolved is not None and resolved == served.name:
                return served
        raise model_not_found(name, list(self.served))

    def check_window(self, served: Served, prompt: Prompt) -> int | None:
        """Prompt tokens, refusing a prompt the context window cannot hold (None: only a remote knows)."""
        backend = self.engine.backend_for(served.model, served.backend)
        tokens = backend.count_prompt_tokens(prompt)
        window = backend.context_length
        if tokens is not None and window and tokens >= window:
            raise context_exceeded(tokens, window)
        return tokens

    def constrains_json(self, served: Served) -> bool:
        return backend_capabilities(served.backend).json_schema

    def stream(
        self, served: Served, prompt: Prompt, params: SamplingParams, cancel: CancelToken
    ) -> Iterator[GenerationEvent]:
        if served.batcher is not None:
            return served.batcher.stream(prompt, params, cancel)
        return self.engine.stream(prompt, model=served.model, backend=served.backend, params=params, cancel=cancel)

    def running_rows(self) -> int:
        return sum(s.batcher.running for s in self.served.values() if s.batcher is not None)

    def describe(self) -> list[dict[str, Any]]:
        return [{"id": s.name, "object": "model", "created": 0, "owned_by": "llmkit"} for s in self.served.values()]

    def close(self) -> None:
        for served in self.served.values():
            if served.batcher is not None:
                served.batcher.close()
        if self.owns_engine:
            self.engine.close()

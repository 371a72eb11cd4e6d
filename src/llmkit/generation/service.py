"""The generation service: resolve a model, pick its backend, stream events.

`Engine.stream` is the core call; `Engine.generate` collects it. Loaded backends are kept per
(model, backend) until `unload`, so a chat or a server reuses the model across requests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from llmkit.config import Settings, load_settings
from llmkit.generation.backends.base import (
    Backend,
    BackendCapabilities,
    backend_capabilities,
    backend_installed,
    create_backend,
)
from llmkit.generation.types import (
    CancelToken,
    ChatMessage,
    GenerationEvent,
    GenerationResult,
    Prompt,
    SamplingParams,
    collect,
)
from llmkit.models import Catalog, LoadOptions, ModelEntry


class Engine:
    def __init__(self, settings: Settings | None = None, **overrides: Any):
        self.settings = settings or load_settings(**overrides)
        self.catalog = Catalog.load(self.settings)
        self._backends: dict[tuple[str, str], Backend] = {}
        self._lock = threading.Lock()

    def resolve(self, model: str | None = None) -> ModelEntry:
        return self.catalog.resolve(model or self.settings.default_model)

    def backend_name(self, entry: ModelEntry, backend: str | None = None) -> str:
        if backend and backend != "auto":
            return backend
        if self.settings.backend != "auto":
            return self.settings.backend
        return entry.backend

    def capabilities(self, model: str | None = None, backend: str | None = None) -> BackendCapabilities:
        """What the backend that would serve this model can do, without loading anything."""
        return backend_capabilities(self.backend_name(self.resolve(model), backend))

    def json_backend(self, model: str | None = None, backend: str | None = None) -> str:
        """The backend for replies under a JSON Schema: the chosen one if it constrains decoding; else,
        for a model with a GGUF file, llamacpp's grammar when a llama.cpp runtime is installed; else the
        chosen one (whose replies the caller validates and retries)."""
        entry = self.resolve(model)
        chosen = self.backend_name(entry, backend)
        if backend_capabilities(chosen).json_schema:
            return chosen
        if entry.gguf_file is not None and backend_installed("llamacpp"):
            return "llamacpp"
        return chosen

    def fit_history(
        self, history: list[ChatMessage], reserve: int, model: str | None = None, backend: str | None = None
    ) -> int:
        """Drop the oldest exchanges (never the system prompt or the newest message) until the prompt and
        `reserve` answer tokens (at most a quarter of the window) fit the context window. Returns how many
        messages were dropped; 0 when the window or the token count is unknown (a server decides)."""
        chosen = self.backend_for(model, backend)
        window = chosen.context_length
        first = 1 if history and history[0].role == "system" else 0
        dropped = 0
        while window and len(history) - first > 1:
            tokens = chosen.count_prompt_tokens(Prompt(messages=history))
            if tokens is None or tokens + min(reserve, window // 4) < window:
                break
            del history[first : first + 2]
            dropped += 2
        return dropped

    def backend_for(self, model: str | None = None, backend: str | None = None) -> Backend:
        """The loaded backend for this model, loading it on first use."""
        entry = self.resolve(model)
        name = self.backend_name(entry, backend)
        key = (entry.name, name)
        with self._lock:
            if key not in self._backends:
                options = LoadOptions.from_settings(self.settings)
                self._backends[key] = create_backend(name, entry, self.settings, options)
            return self._backends[key]

    def stream(
        self,
        prompt: str | list[ChatMessage] | Prompt,
        *,
        model: str | None = None,
        backend: str | None = None,
        system: str | None = None,
        cancel: CancelToken | None = None,
        params: SamplingParams | None = None,
        **sampling: Any,
    ) -> Iterator[GenerationEvent]:
        """Yield TextDelta events as tokens arrive, then one Finished event with the stats.

        Closing the iterator (or `cancel.cancel()`) stops generation before the next token.
        """
        if not isinstance(prompt, Prompt):
            prompt = Prompt.of(prompt, system)
        params = params or SamplingParams(**_sampling_args(sampling))
        chosen = self.backend_for(model, backend)
        yield from chosen.stream(prompt, params, cancel or CancelToken())

    def generate(self, prompt: str | list[ChatMessage] | Prompt, **kwargs: Any) -> GenerationResult:
        """Collect the stream: the whole text and the final stats."""
        return collect(self.stream(prompt, **kwargs))

    def generate_many(
        self,
        prompts: Sequence[str | list[ChatMessage] | Prompt],
        params: SamplingParams | Sequence[SamplingParams],
        *,
        model: str | None = None,
        backend: str | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[tuple[int, GenerationResult]]:
        """Many prompts (one SamplingParams for all, or one each); yields (index, result) as each finishes.

        How they run is the backend's strength (its `generate_batch`): the transformers backend decodes
        up to `batch_size` rows together (a finished row's slot takes the next prompt); the openai backend
        keeps `parallel_requests` requests in flight (a vLLM server batches them); others run one prompt
        at a time.
        """
        items = [p if isinstance(p, Prompt) else Prompt.of(p) for p in prompts]
        each = [params] * len(items) if isinstance(params, SamplingParams) else list(params)
        if len(each) != len(items):
            raise ValueError(f"{len(items)} prompts but {len(each)} SamplingParams")
        cancel = cancel or CancelToken()
        yield from self.backend_for(model, backend).generate_batch(items, each, cancel)

    def unload(self, model: str | None = None) -> None:
        """Free the memory of one model's backends (all models when None)."""
        with self._lock:
            names = {self.resolve(model).name} if model else {k[0] for k in self._backends}
            for key in [k for k in self._backends if k[0] in names]:
                self._backends.pop(key).close()

    def close(self) -> None:
        self.unload()


def _sampling_args(sampling: dict[str, Any]) -> dict[str, Any]:
    args = {k: v for k, v in sampling.items() if v is not None}
    if "stop" in args:
        stop = args["stop"]
        args["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
    return args

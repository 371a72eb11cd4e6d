"""The backend contract and its registry.

A backend turns a `Prompt` into a stream of events for one model, and says what it can do
(`BackendCapabilities`) so that no caller has to probe it or ask for it by name. Built-ins register
the same way an extension would: `@register_backend("name", capabilities=...)` on a factory
`(entry, settings, load_options) -> Backend`. Factories import their heavy dependencies themselves, so
nothing heavy loads until a backend is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from llmkit.config import Settings
from llmkit.errors import ConfigError
from llmkit.generation.types import (
    CancelToken,
    GenerationEvent,
    GenerationResult,
    Prompt,
    SamplingParams,
    collect,
)
from llmkit.models import LoadOptions, ModelEntry


@dataclass(frozen=True)
class BackendCapabilities:
    """What a backend does beyond streaming text; known before any model loads."""

    json_schema: bool = False  # decoding constrained to a JSON Schema (else: a request with one is refused)
    batched: bool = False  # generate_batch runs prompts together (decoded in one batch or in flight at once)
    local_token_counts: bool = True  # counts prompt tokens itself (False: only the server knows)


class Backend(Protocol):
    name: str
    entry: ModelEntry
    capabilities: BackendCapabilities
    context_length: int  # tokens the loaded model takes, prompt and answer; 0 when only a server knows

    def stream(self, prompt: Prompt, params: SamplingParams, cancel: CancelToken) -> Iterator[GenerationEvent]:
        """Yield TextDelta events, then exactly one Finished event (unless an error is raised)."""
        ...

    def generate_batch(
        self, prompts: Sequence[Prompt], params: Sequence[SamplingParams], cancel: CancelToken
    ) -> Iterator[tuple[int, GenerationResult]]:
        """(index, result) for each prompt, as each finishes."""
        ...

    def count_prompt_tokens(self, prompt: Prompt) -> int | None:
        """Tokens the prompt takes after templating, or None when only the server knows."""
        ...

    def close(self) -> None:
        """Free the model's memory."""
        ...


class BaseBackend:
    """Defaults for the parts of the contract a backend need not do itself."""

    name = "base"
    capabilities = BackendCapabilities()
    context_length = 0

    def stream(self, prompt: Prompt, params: SamplingParams, cancel: CancelToken) -> Iterator[GenerationEvent]:
        raise NotImplementedError

    def generate_batch(
        self, prompts: Sequence[Prompt], params: Sequence[SamplingParams], cancel: CancelToken
    ) -> Iterator[tuple[int, GenerationResult]]:
        """One prompt after another (a backend that can do better overrides this)."""
        for index, (prompt, one) in enumerate(zip(prompts, params, strict=True)):
            yield index, collect(self.stream(prompt, one, cancel))

    def close(self) -> None:
        pass


BackendFactory = Callable[[ModelEntry, Settings, LoadOptions], Backend]


@dataclass(frozen=True)
class _Registered:
    factory: BackendFactory
    capabilities: BackendCapabilities
    installed: Callable[[], bool]


_REGISTRY: dict[str, _Registered] = {}


def register_backend(
    name: str, *, capabilities: BackendCapabilities | None = None, installed: Callable[[], bool] | None = None
) -> Callable[[BackendFactory], BackendFactory]:
    """Register a backend factory; `installed` says (cheaply, without importing) whether it can run here."""

    def decorator(factory: BackendFactory) -> BackendFactory:
        _REGISTRY[name] = _Registered(factory, capabilities or BackendCapabilities(), installed or (lambda: True))
        return factory

    return decorator


def backend_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def backend_capabilities(name: str) -> BackendCapabilities:
    return _registered(name).capabilities


def backend_installed(name: str) -> bool:
    return _registered(name).installed()


def create_backend(name: str, entry: ModelEntry, settings: Settings, options: LoadOptions) -> Backend:
    return _registered(name).factory(entry, settings, options)


def _registered(name: str) -> _Registered:
    _load_builtins()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown backend {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def _load_builtins() -> None:
    # Importing the modules runs their @register_backend; each keeps its own heavy imports lazy.
    from llmkit.generation.backends import llamacpp, openai, transformers  # noqa: F401

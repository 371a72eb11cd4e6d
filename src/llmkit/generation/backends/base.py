"""The backend interface and its registry.

A backend turns a `Prompt` into a stream of events for one model. Built-ins register the same way an
extension would: `@register_backend("name")` on a factory `(entry, settings, load_options) -> Backend`.
Factories import their heavy dependencies themselves, so nothing heavy loads until a backend is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from llmkit.config import Settings
from llmkit.errors import ConfigError
from llmkit.generation.types import CancelToken, GenerationEvent, Prompt, SamplingParams
from llmkit.models.catalog import ModelEntry
from llmkit.models.loading import LoadOptions


class Backend(Protocol):
    name: str
    entry: ModelEntry

    def stream(self, prompt: Prompt, params: SamplingParams, cancel: CancelToken) -> Iterator[GenerationEvent]:
        """Yield TextDelta events, then exactly one Finished event (unless an error is raised)."""
        ...

    def count_prompt_tokens(self, prompt: Prompt) -> int | None:
        """Tokens the prompt takes after templating, or None when only the server knows."""
        ...

    def close(self) -> None:
        """Free the model's memory."""
        ...


BackendFactory = Callable[[ModelEntry, Settings, LoadOptions], Backend]
_REGISTRY: dict[str, BackendFactory] = {}


def register_backend(name: str) -> Callable[[BackendFactory], BackendFactory]:
    def decorator(factory: BackendFactory) -> BackendFactory:
        _REGISTRY[name] = factory
        return factory

    return decorator


def backend_names() -> list[str]:
    _load_builtins()
    return sorted(_REGISTRY)


def create_backend(name: str, entry: ModelEntry, settings: Settings, options: LoadOptions) -> Backend:
    _load_builtins()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown backend {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](entry, settings, options)


def _load_builtins() -> None:
    # Importing the modules runs their @register_backend; each keeps its own heavy imports lazy.
    from llmkit.generation.backends import llamacpp, openai, transformers  # noqa: F401

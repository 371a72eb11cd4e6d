"""Streaming generation: typed requests and events, the Engine, the backend contract and registry, and
the "JSON under a schema" helpers. Other packages import from here, never from the modules inside."""

from llmkit.generation.backends.base import (
    Backend,
    BackendCapabilities,
    BaseBackend,
    backend_capabilities,
    backend_installed,
    backend_names,
    register_backend,
)
from llmkit.generation.batching import ContinuousBatcher
from llmkit.generation.service import Engine
from llmkit.generation.structured import JsonReply, generate_json, parse_json_object, schema_errors
from llmkit.generation.types import (
    CancelToken,
    ChatMessage,
    Finished,
    FinishReason,
    GenerationEvent,
    GenerationResult,
    GenerationStats,
    Prompt,
    SamplingParams,
    TextDelta,
    collect,
)

__all__ = [
    "Backend",
    "BackendCapabilities",
    "BaseBackend",
    "CancelToken",
    "ChatMessage",
    "ContinuousBatcher",
    "Engine",
    "FinishReason",
    "Finished",
    "GenerationEvent",
    "GenerationResult",
    "GenerationStats",
    "JsonReply",
    "Prompt",
    "SamplingParams",
    "TextDelta",
    "backend_capabilities",
    "backend_installed",
    "backend_names",
    "collect",
    "generate_json",
    "parse_json_object",
    "register_backend",
    "schema_errors",
]

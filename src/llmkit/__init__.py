"""llmkit: a toolkit for engineers who build products on open-source LLMs.

Importing llmkit is cheap: torch, transformers and llama.cpp load only when a model is used.
"""

from llmkit.config import Settings, load_settings
from llmkit.errors import (
    ConfigError,
    EndpointError,
    LlmkitError,
    MissingAssetError,
    MissingExtraError,
    ModelFileError,
    OutOfMemoryError,
    PromptTooLongError,
    UnknownModelError,
    UnsupportedError,
)
from llmkit.generation.backends.base import backend_names, register_backend
from llmkit.generation.service import Engine
from llmkit.generation.types import (
    CancelToken,
    ChatMessage,
    Finished,
    GenerationEvent,
    GenerationResult,
    GenerationStats,
    Prompt,
    SamplingParams,
    TextDelta,
)
from llmkit.models.catalog import Catalog, ModelEntry
from llmkit.models.loading import LoadedModel, LoadOptions, load_transformers

__version__ = "0.1.0"

__all__ = [
    "CancelToken",
    "Catalog",
    "ChatMessage",
    "ConfigError",
    "EndpointError",
    "Engine",
    "Finished",
    "GenerationEvent",
    "GenerationResult",
    "GenerationStats",
    "LlmkitError",
    "LoadOptions",
    "LoadedModel",
    "MissingAssetError",
    "MissingExtraError",
    "ModelEntry",
    "ModelFileError",
    "OutOfMemoryError",
    "Prompt",
    "PromptTooLongError",
    "SamplingParams",
    "Settings",
    "TextDelta",
    "UnknownModelError",
    "UnsupportedError",
    "backend_names",
    "load_settings",
    "load_transformers",
    "register_backend",
]

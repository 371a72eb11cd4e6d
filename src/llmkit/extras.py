"""Lazy imports of optional dependencies, failing with the exact install line."""

from __future__ import annotations

import importlib
from types import ModuleType

from llmkit.errors import MissingExtraError

# module -> (PyPI package, llmkit extra)
_EXTRAS = {
    "xllamacpp": ("xllamacpp", "llamacpp"),
    "llama_cpp": ("llama-cpp-python", "llamacpp"),
    "bitsandbytes": ("bitsandbytes", "quant"),
    "faster_whisper": ("faster-whisper", "asr"),
    "av": ("av", "asr"),
    "docx": ("python-docx", "docx"),
    "pyarrow": ("pyarrow", "data"),
    "datasets": ("datasets", "data"),
}


def require(module: str, purpose: str) -> ModuleType:
    """Import `module`, or raise MissingExtraError naming the `pip install 'llmkit[...]'` line."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package, extra = _EXTRAS[module]
        raise MissingExtraError(package, extra, purpose) from exc

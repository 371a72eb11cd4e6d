"""Every setting of llmkit, named once, resolved in one place.

Precedence, highest first: an explicit value (a CLI flag or a keyword argument), the environment
variable ``LLMKIT_<NAME>``, the user config file (TOML), the default below.

The config file is ``$LLMKIT_CONFIG`` if set, else ``<user config dir>/llmkit/config.toml``.
Besides the settings it may hold user catalog entries under ``[models.<name>]`` (see
``llmkit.models.catalog``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from llmkit.errors import ConfigError

ENV_PREFIX = "LLMKIT_"


def _default_cache_dir() -> str:
    return platformdirs.user_cache_dir("llmkit")


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Field names are the config-file keys; env vars are LLMKIT_<UPPER>."""

    default_model: str = "smollm2-135m-instruct"
    backend: str = "auto"  # auto = the catalog entry's own backend
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    quantization: str = "none"  # none | 8bit | 4bit
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    threads: int = 0  # 0 = torch / llama.cpp default (all cores)
    cache_dir: str = field(default_factory=_default_cache_dir)
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_api_key: str = ""
    request_timeout_s: float = 600.0
    # Many prompts at once (synthetic data): rows decoded together in-process, requests in flight to a server.
    batch_size: int = 32
    parallel_requests: int = 8
    # Which library runs llama.cpp for the llamacpp backend: auto = xllamacpp (prebuilt wheel) when installed,
    # else llama-cpp-python (compiled from source).
    llamacpp_runtime: str = "auto"  # auto | xllamacpp | llama-cpp-python
    asr_engine: str = "faster-whisper"  # faster-whisper | openai (any /v1/audio/transcriptions server)
    asr_model: str = "tiny.en"  # tiny.en = the embedded Whisper; else a CTranslate2 model path or hub id
    # User catalog entries from the config file: name -> table. Not settable from the environment.
    user_models: dict[str, dict[str, Any]] = field(default_factory=dict)


# Variables other tools already use, honoured when the LLMKIT_ one is unset.
_FALLBACK_ENV = {"openai_base_url": "OPENAI_BASE_URL", "openai_api_key": "OPENAI_API_KEY"}
_NOT_FROM_ENV = {"user_models"}
_FIELD_TYPES: dict[str, type] = {
    "threads": int,
    "request_timeout_s": float,
    "batch_size": int,
    "parallel_requests": int,
}


def config_file_path() -> Path:
    explicit = os.environ.get(ENV_PREFIX + "CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_config_dir("llmkit")) / "config.toml"


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def _coerce(name: str, kind: type, raw: Any, source: str) -> Any:
    if kind is int and not isinstance(raw, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{source}: {name} must be an integer, got {raw!r}") from exc
    if kind is float and not isinstance(raw, float):
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"{source}: {name} must be a number, got {raw!r}") from exc
    return raw


def load_settings(**overrides: Any) -> Settings:
    """Resolve settings: overrides (None = not given) > environment > config file > defaults."""
    path = config_file_path()
    file_values = _read_config_file(path)
    known = {f.name: f for f in fields(Settings)}
    values: dict[str, Any] = {}
    user_models = file_values.pop("models", {})
    if not isinstance(user_models, dict):
        raise ConfigError(f"{path}: [models] must be a table of model entries")
    for key in file_values:
        if key not in known or key in _NOT_FROM_ENV:
            raise ConfigError(f"{path}: unknown setting {key!r}; known: {', '.join(sorted(known))}")
    for name in known:
        if name in _NOT_FROM_ENV:
            continue
        kind = _FIELD_TYPES.get(name, str)
        env_value = os.environ.get(ENV_PREFIX + name.upper())
        if env_value is None and name in _FALLBACK_ENV:
            env_value = os.environ.get(_FALLBACK_ENV[name])
        if overrides.get(name) is not None:
            values[name] = _coerce(name, kind, overrides[name], "argument")
        elif env_value is not None:
            values[name] = _coerce(name, kind, env_value, ENV_PREFIX + name.upper())
        elif name in file_values:
            values[name] = _coerce(name, kind, file_values[name], str(path))
    unknown = set(overrides) - set(known)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    return replace(Settings(), **values, user_models=user_models)


def describe_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(name, environment variable, current value) for documentation and `llmkit config`."""
    rows = []
    for f in fields(Settings):
        if f.name in _NOT_FROM_ENV:
            continue
        value = getattr(settings, f.name)
        if f.name == "openai_api_key" and value:
            value = "***"
        rows.append((f.name, ENV_PREFIX + f.name.upper(), str(value)))
    return rows

"""The server's settings, checked before anything loads: where it listens, who may call it, how much."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from llmkit.errors import ConfigError

KEYS_ENV = "LLMKIT_API_KEYS"  # comma-separated


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    models: tuple[str, ...] = ()  # served model names; empty = the default model
    backend: str | None = None  # None = each model's own backend
    api_keys: tuple[str, ...] = ()
    rate_limit: str | None = None  # per key, `limits` notation: "60/minute"
    token_limit: str | None = None  # prompt + completion tokens per key: "20000/minute"
    max_concurrency: int = 4  # requests generating at once (the batch's rows on transformers)
    max_queue: int = 16  # requests waiting for a slot; beyond that: 503 + Retry-After
    queue_timeout_s: float = 60.0  # longest wait in the queue before a 503
    fallback_model: str | None = None  # served instead of a model that fails to load
    allow_unauthenticated: bool = False  # bind a non-loopback address without keys
    cors_origins: tuple[str, ...] = ()  # CORS stays off unless origins are given
    max_body_bytes: int = 2_000_000  # JSON requests; larger: 413
    max_upload_bytes: int = 25_000_000  # audio uploads (OpenAI's own limit is 25 MB)
    default_max_tokens: int = 1024  # answer budget when a request names none (capped by the window)
    grace_s: float = 30.0  # on SIGTERM: how long in-flight streams may run on
    batching: bool = True  # continuous batching on the transformers backend

    def __post_init__(self) -> None:
        for name in ("max_concurrency", "max_body_bytes", "max_upload_bytes", "default_max_tokens"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.max_queue < 0 or self.queue_timeout_s <= 0 or self.grace_s < 0:
            raise ConfigError("max_queue must be >= 0, queue_timeout_s > 0 and grace_s >= 0")
        for name in ("rate_limit", "token_limit"):
            value = getattr(self, name)
            if value is not None:
                check_limit(name, value)


def check_limit(name: str, value: str) -> None:
    """A limit in `limits` notation ("60/minute", "1000 per hour"); else ConfigError naming the flag."""
    from limits import parse

    try:
        parse(value)
    except ValueError as exc:
        raise ConfigError(f"{name} {value!r} is not a limit like '60/minute' or '1000/hour' ({exc})") from exc


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: could resolve anywhere


def check_binding(config: ServerConfig) -> None:
    """Refuse to expose an unauthenticated server beyond this machine unless the user says so."""
    if is_loopback(config.host) or config.api_keys or config.allow_unauthenticated:
        return
    raise ConfigError(
        f"refusing to listen on {config.host} without an API key: anyone who can reach it could use the "
        f"model; give --api-key / --api-key-file / {KEYS_ENV}, or --allow-unauthenticated if a proxy in "
        "front of it authenticates"
    )


def gather_keys(flags: tuple[str, ...] = (), key_file: str | None = None) -> tuple[str, ...]:
    """Keys from the flags, a file (one a line, # comments) and LLMKIT_API_KEYS, without duplicates."""
    keys = [k.strip() for k in flags]
    if key_file:
        path = Path(key_file).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read the API key file {path}: {exc.strerror}") from exc
        keys += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    keys += [k.strip() for k in os.environ.get(KEYS_ENV, "").split(",")]
    keys = [k for k in keys if k]
    short = [k for k in keys if len(k) < 8]
    if short:
        raise ConfigError(f"{len(short)} API key(s) shorter than 8 characters; use long random keys")
    return tuple(dict.fromkeys(keys))

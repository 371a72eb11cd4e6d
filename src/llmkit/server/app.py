"""The app factory: one FastAPI app per ServerConfig, with its own model pool, keys, limits, admission
and metrics (tests run several side by side). Routes live in `openai`, `ws` and `extras`; policy (who,
how much, how many at once) in `gate`; error mapping in `errors`."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from llmkit.generation import Engine
from llmkit.server.config import ServerConfig
from llmkit.server.errors import APIError, install_handlers, unavailable
from llmkit.server.gate import Admission, KeyRing, Limits, bearer
from llmkit.server.metrics import Metrics
from llmkit.server.pool import ModelPool

log = logging.getLogger("llmkit.server")

UPLOAD_PATHS = ("/v1/audio/transcriptions", "/v1/minutes")


@dataclass
class ServerState:
    config: ServerConfig
    pool: ModelPool
    keys: KeyRing
    limits: Limits
    admission: Admission
    metrics: Metrics
    load_error: str = ""

    def caller(self, authorization: str | None) -> str:
        """The key id of an allowed caller; 401 / 429 otherwise."""
        ident = self.keys.identify(bearer(authorization))
        self.limits.admit_request(ident)
        return ident

    def check_ready(self) -> None:
        if self.load_error:
            raise APIError(
                503, f"the model failed to load: {self.load_error}", type="server_error", code="model_load_failed"
            )
        if not self.pool.ready.is_set():
            raise unavailable("the model is still loading; retry shortly", 5)


def build_app(config: ServerConfig, engine: Engine | None = None) -> Any:
    from fastapi import FastAPI

    owns_engine = engine is None  # a shared engine (tests, an embedding app) is its owner's to close
    engine = engine or Engine(backend=config.backend)
    metrics = Metrics()
    pool = ModelPool(
        engine, config.models, config.backend, config.fallback_model, config.max_concurrency, config.batching
    )
    pool.owns_engine = owns_engine
    state = ServerState(
        config, pool, KeyRing(config.api_keys),
        Limits(config.rate_limit, config.token_limit, lambda what: metrics.rate_limited.labels(what).inc()),
        Admission(config.max_concurrency, config.max_queue, config.queue_timeout_s), metrics,
    )  # fmt: skip
    metrics.running.set_function(lambda: state.admission.running)
    metrics.waiting.set_function(lambda: state.admission.waiting)

    @asynccontextmanager
    async def lifespan(app: Any):
        loading = asyncio.create_task(_load(state))
        yield
        state.admission.closing = True
        loading.cancel()
        await asyncio.to_thread(pool.close)

    app = FastAPI(title="llmkit", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.llmkit = state
    install_handlers(app)
    _add_middleware(app, config, metrics)
    from llmkit.server import apps, extras, openai, ws

    app.include_router(openai.router)
    app.include_router(ws.router)
    app.include_router(extras.router)
    app.include_router(apps.router)
    return app


async def _load(state: ServerState) -> None:
    try:
        await asyncio.to_thread(state.pool.load_all)
    except Exception as exc:  # noqa: BLE001 - reported by /ready and every request, not a crash
        state.load_error = str(exc)
        log.error("model load failed: %s", exc)
        return
    for served in state.pool.served.values():
        state.metrics.load_time.labels(served.name).set(served.load_s)
        log.info(json.dumps({"event": "model_loaded", "model": served.name, "serving": served.model,
                             "backend": served.backend, "load_s": round(served.load_s, 2)}))  # fmt: skip


def _add_middleware(app: Any, config: ServerConfig, metrics: Metrics) -> None:
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["*"],
                           allow_headers=["*"], allow_credentials=False)  # fmt: skip
    app.add_middleware(BodyLimitAndCount, config=config, metrics=metrics)


class BodyLimitAndCount:
    """Pure ASGI middleware: 413 for bodies over the limit (declared or as they arrive), and every HTTP
    request counted by endpoint and status."""

    def __init__(self, app: Any, config: ServerConfig, metrics: Metrics):
        self.app, self.config, self.metrics = app, config, metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        limit = self.config.max_upload_bytes if path.startswith(UPLOAD_PATHS) else self.config.max_body_bytes
        status = {"code": 500}
        started = time.perf_counter()

        async def counted_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        declared = dict(scope.get("headers") or []).get(b"content-length")
        try:
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await _too_large(counted_send, limit)
                return
            await self.app(scope, _limited(receive, limit), counted_send)
        finally:
            self.metrics.requests.labels(_endpoint_label(path), str(status["code"])).inc()
            if not path.startswith(("/v1/chat", "/v1/completions")):  # generation requests log their own line
                log.debug(
                    json.dumps(
                        {"path": path, "status": status["code"], "total_s": round(time.perf_counter() - started, 4)}
                    )
                )


_ROUTES = {
    "/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/audio/transcriptions", "/v1/ws", "/v1/minutes",
    "/v1/synth/jobs", "/v1/synth/jobs/{id}", "/v1/synth/jobs/{id}/events", "/v1/synth/jobs/{id}/files",
    "/v1/synth/jobs/{id}/files/{name}", "/tokenize", "/detokenize", "/health", "/ready", "/metrics",
}  # fmt: skip


def _endpoint_label(path: str) -> str:
    """The route, not the URL: ids, file names and stray paths would each make a new metric series."""
    parts = path.split("/")
    if path.startswith("/v1/synth/jobs/") and len(parts) > 4:
        parts[4] = "{id}"
        if len(parts) > 6 and parts[5] == "files":
            parts[6:] = ["{name}"]
    label = "/".join(parts)
    return label if label in _ROUTES else "other"


def _limited(receive: Any, limit: int) -> Any:
    seen = {"bytes": 0}

    async def wrapped() -> dict:
        message = await receive()
        if message["type"] == "http.request":
            seen["bytes"] += len(message.get("body", b""))
            if seen["bytes"] > limit:
                raise APIError(413, f"request body over the server's limit of {limit} bytes", code="request_too_large")
        return message

    return wrapped


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps(
        APIError(413, f"request body over the server's limit of {limit} bytes", code="request_too_large").body()
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})

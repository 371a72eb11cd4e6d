"""OpenAI's routes: /v1/models, /v1/chat/completions, /v1/completions (streamed over SSE and not).

Each route only translates: parse the body into llmkit's types, pass the gate (key, limits, admission),
stream the engine's events through the one serialiser, and release the slot when the stream ends."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from llmkit.generation import CancelToken
from llmkit.server.errors import APIError
from llmkit.server.metrics import Trace
from llmkit.server.protocol import ChatRequest, CompletionRequest, GenerationRequest, parse_body, to_generation
from llmkit.server.streams import Outcome, chunks, whole

router = APIRouter()


def state_of(request: Any) -> Any:
    return request.app.state.llmkit


async def read_body(request: Request) -> bytes:
    return await request.body()  # the body-limit middleware raises 413 while it arrives


@router.get("/v1/models")
async def list_models(request: Request) -> dict[str, Any]:
    state = state_of(request)
    state.caller(request.headers.get("authorization"))
    state.check_ready()
    return {"object": "list", "data": state.pool.describe()}


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Any:
    return await _generate(request, ChatRequest, "/v1/chat/completions")


@router.post("/v1/completions")
async def completions(request: Request) -> Any:
    return await _generate(request, CompletionRequest, "/v1/completions")


async def prepare(state: Any, body: Any, endpoint: str, ident: str) -> tuple[Any, GenerationRequest, Trace]:
    """Everything that can be refused before generation starts: readiness, model, window, capability."""
    state.check_ready()
    generation = to_generation(body, state.config.default_max_tokens)
    served = state.pool.get(generation.model)
    _require_chat_template(state, served, generation)
    if generation.params.json_schema is not None and not state.pool.constrains_json(served):
        raise APIError(400, f"response_format json_schema needs a backend that constrains decoding; "
                       f"{served.backend} does not (serve with --backend llamacpp)", param="response_format")  # fmt: skip
    prompt_tokens = await asyncio.to_thread(state.pool.check_window, served, generation.prompt)
    trace = Trace(uuid.uuid4().hex[:12], endpoint, ident, served.name, prompt_tokens=prompt_tokens or 0)
    return served, generation, trace


def _require_chat_template(state: Any, served: Any, generation: GenerationRequest) -> None:
    """A base model was never trained on chat turns: refuse rather than invent a transcript format (an
    upstream OpenAI-compatible server applies its own template)."""
    from llmkit.models import has_chat_template

    if not generation.chat or served.backend == "openai":
        return
    if not has_chat_template(state.pool.engine.resolve(served.model)):
        raise APIError(
            400, f"{served.name} is a base model with no chat template; send plain text to /v1/completions",
            param="model", code="model_has_no_chat_template",
        )  # fmt: skip


async def _generate(request: Request, kind: type, endpoint: str) -> Any:
    state = state_of(request)
    ident = state.caller(request.headers.get("authorization"))
    body = parse_body(kind, await read_body(request))
    served, generation, trace = await prepare(state, body, endpoint, ident)
    await state.admission.enter()
    cancel = CancelToken()
    outcome = Outcome()
    stream = chunks(state.pool, served, generation, trace, state.metrics, cancel, outcome)
    if generation.stream:
        return _sse(state, stream, cancel, outcome, ident, trace)
    watcher = asyncio.create_task(_cancel_on_disconnect(request, cancel))
    try:
        async for _ in stream:
            pass
    finally:
        watcher.cancel()
        state.admission.leave()
        state.limits.spend_tokens(ident, trace.prompt_tokens + trace.completion_tokens)
    if outcome.error is not None:
        return JSONResponse(outcome.error, status_code=outcome.status)
    return whole(generation, outcome)


def _sse(state: Any, stream: Any, cancel: CancelToken, outcome: Outcome, ident: str, trace: Trace) -> Any:
    import anyio
    from sse_starlette import EventSourceResponse
    from starlette.background import BackgroundTask

    released = []

    def release() -> None:  # once, whether the stream ran to its end, broke off, or never started
        cancel.cancel()  # the client went away (or the stream ended): stop before the next token
        if not released:
            released.append(True)
            state.admission.leave()
            state.limits.spend_tokens(ident, trace.prompt_tokens + trace.completion_tokens)

    async def events() -> Any:
        try:
            async for chunk in stream:
                yield {"data": json.dumps(chunk, ensure_ascii=False)}
            yield {"data": "[DONE]"}
        finally:
            release()

    # On SIGTERM the stream keeps going for the grace period (uvicorn stops accepting new connections).
    return EventSourceResponse(
        events(), ping=15, shutdown_event=anyio.Event(), shutdown_grace_period=state.config.grace_s,
        background=BackgroundTask(release),
    )  # fmt: skip


async def _cancel_on_disconnect(request: Request, cancel: CancelToken) -> None:
    """Non-streamed requests: the body is read, so the next message can only be the disconnect."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            cancel.cancel()
            return

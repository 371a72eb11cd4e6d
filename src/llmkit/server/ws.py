"""WebSocket transport, GET /v1/ws: each text message from the client is a chat-completion request
body; the server answers with the same chunk objects SSE sends, one per message, then the text
message "[DONE]". {"type": "cancel"} (or closing the socket) stops the generation running; several
requests may follow on one socket, answered in order.

Authentication: the Authorization header, or (browsers cannot set it) a first message
{"type": "auth", "api_key": "..."}. A refused request gets an {"error": ...} message then "[DONE]"; a
socket that fails authentication is closed with code 1008 (policy violation)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from llmkit.generation import CancelToken
from llmkit.server.errors import APIError, as_api_error
from llmkit.server.gate import bearer
from llmkit.server.protocol import ChatRequest, CompletionRequest, parse_body
from llmkit.server.streams import Outcome, chunks

router = APIRouter()
ENDPOINT = "/v1/ws"


@router.websocket("/v1/ws")
async def websocket_endpoint(socket: WebSocket) -> None:
    state = socket.app.state.llmkit
    await socket.accept()
    ident = await _authenticate(socket, state)
    if ident is None:
        return
    requests: asyncio.Queue[str | None] = asyncio.Queue()
    running: dict[str, CancelToken] = {}
    reader = asyncio.create_task(_read(socket, requests, running))
    try:
        while (text := await requests.get()) is not None:
            if not await _answer(socket, state, ident, text, running):
                break
    finally:
        reader.cancel()
        for cancel in running.values():
            cancel.cancel()


async def _authenticate(socket: WebSocket, state: Any) -> str | None:
    header = socket.headers.get("authorization")
    try:
        if header or not state.keys.required:
            return state.keys.identify(bearer(header))
        first = await socket.receive_text()
        try:
            message = json.loads(first)
        except ValueError:
            message = None
        if not (isinstance(message, dict) and message.get("type") == "auth"):
            raise APIError(401, 'send the key first: {"type": "auth", "api_key": "..."} or an Authorization header',
                           code="invalid_api_key")  # fmt: skip
        return state.keys.identify(str(message.get("api_key") or ""))
    except APIError as error:
        await socket.send_text(json.dumps(error.body()))
        await socket.close(code=1008)
        return None
    except WebSocketDisconnect:
        return None


async def _read(socket: WebSocket, requests: asyncio.Queue, running: dict[str, CancelToken]) -> None:
    """Incoming messages: cancels act at once; requests queue for their turn. A close cancels everything."""
    try:
        while True:
            text = await socket.receive_text()
            try:
                message = json.loads(text)
            except ValueError:
                message = None
            if isinstance(message, dict) and message.get("type") == "cancel":
                for cancel in running.values():
                    cancel.cancel()
            elif not (isinstance(message, dict) and message.get("type") == "auth"):
                await requests.put(text)
    except (WebSocketDisconnect, RuntimeError):
        for cancel in running.values():
            cancel.cancel()
        await requests.put(None)


async def _answer(socket: WebSocket, state: Any, ident: str, text: str, running: dict[str, CancelToken]) -> bool:
    """Stream one request's chunks; False when the socket is gone."""
    from llmkit.server.openai import prepare

    try:
        state.limits.admit_request(ident)
        kind = CompletionRequest if '"prompt"' in text and '"messages"' not in text else ChatRequest
        served, generation, trace = await prepare(state, parse_body(kind, text.encode()), ENDPOINT, ident)
        await state.admission.enter()
    except Exception as exc:  # noqa: BLE001 - every refusal goes back as an error message
        return await _send_all(socket, [as_api_error(exc).body(), "[DONE]"])
    cancel = CancelToken()
    key = uuid.uuid4().hex
    running[key] = cancel
    try:
        async for chunk in chunks(state.pool, served, generation, trace, state.metrics, cancel, Outcome()):
            if not await _send_all(socket, [chunk]):
                return False
        return await _send_all(socket, ["[DONE]"])
    finally:
        running.pop(key, None)
        cancel.cancel()
        state.admission.leave()
        state.limits.spend_tokens(ident, trace.prompt_tokens + trace.completion_tokens)


async def _send_all(socket: WebSocket, messages: list[Any]) -> bool:
    try:
        for message in messages:
            await socket.send_text(message if isinstance(message, str) else json.dumps(message, ensure_ascii=False))
        return True
    except (WebSocketDisconnect, RuntimeError, OSError):
        return False

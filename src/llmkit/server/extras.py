"""The routes beyond chat: health, readiness, metrics, vLLM's /tokenize and /detokenize (through the
tokenizer lab's face) and OpenAI's /v1/audio/transcriptions (through the asr face)."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import Field

from llmkit.server.errors import APIError
from llmkit.server.protocol import MessageIn, _Body, parse_body

router = APIRouter()


def _state(request: Request) -> Any:
    return request.app.state.llmkit


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> Any:
    state = _state(request)
    if state.load_error or not state.pool.ready.is_set():
        reason = state.load_error or "loading"
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
    models = [{"name": s.name, "serving": s.model, "backend": s.backend, "fallback_for_error": s.error or None}
              for s in state.pool.served.values()]  # fmt: skip
    return {"status": "ready", "models": models}


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    state = _state(request)
    state.keys.identify(_bearer(request))  # metrics are not public when the server has keys
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _bearer(request: Request) -> str | None:
    from llmkit.server.gate import bearer

    return bearer(request.headers.get("authorization"))


class TokenizeRequest(_Body):
    model: str
    prompt: str | None = None
    messages: list[MessageIn] | None = None
    add_special_tokens: bool = True
    add_generation_prompt: bool = True
    return_token_strs: bool = False


class DetokenizeRequest(_Body):
    model: str
    tokens: list[int] = Field(min_length=0)


@router.post("/tokenize")
async def tokenize(request: Request) -> dict[str, Any]:
    state = _state(request)
    state.caller(request.headers.get("authorization"))
    state.check_ready()
    body = parse_body(TokenizeRequest, await request.body())
    served = state.pool.get(body.model)
    if (body.prompt is None) == (body.messages is None):
        raise APIError(400, "give exactly one of prompt and messages", param="prompt")
    ids, strs = await asyncio.to_thread(_encode, served.model, body)
    window = state.pool.engine.backend_for(served.model, served.backend).context_length
    result: dict[str, Any] = {"count": len(ids), "max_model_len": window, "tokens": ids}
    if body.return_token_strs:
        result["token_strs"] = strs
    return result


def _encode(model: str, body: TokenizeRequest) -> tuple[list[int], list[str]]:
    from llmkit import tokens

    text, special = body.prompt, body.add_special_tokens
    if body.messages is not None:
        messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()} for m in body.messages]
        text = tokens.render_chat(messages, model, add_generation_prompt=body.add_generation_prompt).text
        special = False  # the template wrote the special tokens itself
    encoding = tokens.encode(text or "", model, special=special)
    return encoding.ids, [t.piece for t in encoding.tokens]


@router.post("/detokenize")
async def detokenize(request: Request) -> dict[str, str]:
    state = _state(request)
    state.caller(request.headers.get("authorization"))
    body = parse_body(DetokenizeRequest, await request.body())
    served = state.pool.get(body.model)
    from llmkit import tokens

    return {"prompt": await asyncio.to_thread(tokens.decode, body.tokens, served.model)}


TranscriptFormat = Literal["json", "text", "srt", "vtt", "verbose_json"]


@router.post("/v1/audio/transcriptions")
async def transcriptions(request: Request) -> Any:
    """OpenAI's multipart upload: `file`, `model` (any name: the server's ASR model answers),
    `response_format`, `language`. The transcription holds a generation slot while it runs."""
    state = _state(request)
    state.caller(request.headers.get("authorization"))
    form = await request.form()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read"):
        raise APIError(400, "Missing required parameter: 'file' (the audio, as a multipart upload).", param="file")
    fmt = str(form.get("response_format") or "json")
    if fmt not in TranscriptFormat.__args__:
        raise APIError(
            400, f"response_format must be one of {', '.join(TranscriptFormat.__args__)}", param="response_format"
        )
    language = form.get("language") or None
    await state.admission.enter()
    try:
        with tempfile.TemporaryDirectory(prefix="llmkit-upload-") as folder:
            path = Path(folder) / Path(upload.filename or "audio").name
            path.write_bytes(await upload.read())
            transcript = await asyncio.to_thread(_transcribe, state, path, language)
    finally:
        state.admission.leave()
    return _render_transcript(transcript, fmt)


_ASR_LOCK = threading.Lock()


def _transcribe(state: Any, path: Path, language: str | None) -> Any:
    """One loaded ASR model per server (per language asked for), one transcription at a time."""
    from llmkit.asr import Transcriber, TranscriptionOptions

    with _ASR_LOCK:
        transcribers = state.__dict__.setdefault("transcribers", {})
        if language not in transcribers:
            transcribers[language] = Transcriber(options=TranscriptionOptions(language=language))
        return transcribers[language].transcribe(path)


def _render_transcript(transcript: Any, fmt: str) -> Any:
    segments = transcript.segments
    if fmt == "text":
        return PlainTextResponse(transcript.text + "\n")
    if fmt in ("srt", "vtt"):
        comma = fmt == "srt"
        cues = [f"{_clock(s.start, comma)} --> {_clock(s.end, comma)}\n{s.text.strip()}\n" for s in segments]
        if comma:
            cues = [f"{n}\n{cue}" for n, cue in enumerate(cues, 1)]
        body = "\n".join(cues)
        return PlainTextResponse(("WEBVTT\n\n" + body) if fmt == "vtt" else body, media_type="text/plain")
    if fmt == "json":
        return {"text": transcript.text}
    return {
        "task": "transcribe",
        "language": transcript.language,
        "duration": transcript.duration,
        "text": transcript.text,
        "segments": [
            {"id": n, "seek": 0, "start": s.start, "end": s.end, "text": s.text, "tokens": [], "temperature": 0.0,
             "avg_logprob": 0.0, "compression_ratio": 0.0, "no_speech_prob": 0.0}
            for n, s in enumerate(segments)
        ],
    }  # fmt: skip


def _clock(seconds: float, comma: bool) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{',' if comma else '.'}{ms:03d}"

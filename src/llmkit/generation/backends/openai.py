"""Any OpenAI-compatible server: vLLM, TGI, Ollama, llama.cpp server, hosted APIs.

Streams `/chat/completions` (or `/completions` for raw prompts) over SSE. Closing the stream closes
the HTTP connection, which is how these servers learn to stop generating.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from llmkit.config import Settings
from llmkit.errors import EndpointError, PromptTooLongError
from llmkit.generation.backends.base import BackendCapabilities, BaseBackend, register_backend
from llmkit.generation.streaming import StopMatcher
from llmkit.generation.types import (
    CancelToken,
    Finished,
    GenerationEvent,
    GenerationResult,
    GenerationStats,
    Prompt,
    SamplingParams,
    TextDelta,
    collect,
)
from llmkit.models import LoadOptions, ModelEntry


def request_body(model: str, prompt: Prompt, params: SamplingParams) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": params.max_new_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
    }
    if prompt.raw is not None:
        body["prompt"] = prompt.raw
    else:
        body["messages"] = [{"role": m.role, "content": m.content} for m in prompt.messages]
    if params.stop:
        body["stop"] = list(params.stop)
    if params.json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            # Not "strict": OpenAI's strict mode refuses keywords such as maxLength that bound the answer.
            "json_schema": {"name": "output", "schema": params.json_schema},
        }
    if params.seed is not None:
        body["seed"] = params.seed
    if params.ignore_eos:
        body["ignore_eos"] = True  # vLLM / llama.cpp server extension
    if params.top_k:
        body["top_k"] = params.top_k  # vLLM, llama.cpp server and TGI accept it; others ignore it
    if params.repetition_penalty != 1.0:
        body["repetition_penalty"] = params.repetition_penalty  # vLLM / TGI extension
        body["repeat_penalty"] = params.repetition_penalty  # llama.cpp server spelling
    return body


def _chunk_text(chunk: dict[str, Any]) -> tuple[str, str | None]:
    choices = chunk.get("choices") or []
    if not choices:
        return "", None
    choice = choices[0]
    text = (choice.get("delta") or {}).get("content") or choice.get("text") or ""
    return text, choice.get("finish_reason")


# The server's structured output; requests kept in flight together; token counts only the server knows.
CAPABILITIES = BackendCapabilities(json_schema=True, batched=True, local_token_counts=False)


class OpenAIBackend(BaseBackend):
    capabilities = CAPABILITIES
    name = "openai"

    def __init__(self, entry: ModelEntry, settings: Settings, options: LoadOptions):
        self.entry = entry
        self.base_url = (entry.base_url or settings.openai_base_url).rstrip("/")
        self.model = entry.served_name or entry.hub_id or entry.name
        headers = {"Authorization": f"Bearer {settings.openai_api_key}"} if settings.openai_api_key else {}
        timeout = httpx.Timeout(settings.request_timeout_s, connect=10.0)
        self._client = httpx.Client(headers=headers, timeout=timeout)
        self.parallel_requests = max(settings.parallel_requests, 1)
        self.context_length = entry.context_length or 0  # as declared in the catalog; the server knows best

    def count_prompt_tokens(self, prompt: Prompt) -> int | None:
        return None  # only the server's tokenizer knows; reported in the final event's usage

    def close(self) -> None:
        self._client.close()

    def generate_batch(
        self, prompts: list[Prompt], params: list[SamplingParams], cancel: CancelToken
    ) -> Iterator[tuple[int, GenerationResult]]:
        """`parallel_requests` requests in flight (the server batches them); yields (index, result) as each
        finishes. An error or an early close cancels the requests still running."""
        from concurrent.futures import ThreadPoolExecutor, as_completed

        with ThreadPoolExecutor(max_workers=self.parallel_requests) as pool:
            futures = {
                pool.submit(lambda p=p, q=q: collect(self.stream(p, q, cancel))): i
                for i, (p, q) in enumerate(zip(prompts, params, strict=True))
            }
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
            except BaseException:
                cancel.cancel()
                raise

    def stream(self, prompt: Prompt, params: SamplingParams, cancel: CancelToken) -> Iterator[GenerationEvent]:
        path = "/completions" if prompt.raw is not None else "/chat/completions"
        url = self.base_url + path
        started = time.perf_counter()
        body = request_body(self.model, prompt, params)
        state = _StreamState(started, StopMatcher(params.stop))
        with self._transport_errors(url, state):
            with self._client.stream("POST", url, json=body) as response:
                if response.status_code >= 400:
                    raise self._http_error(url, response.status_code, response.read())
                yield from state.read(response.iter_lines(), cancel)
            if not state.done and state.deltas == 0 and state.reason != "cancelled":
                # Some servers (llama-cpp-python) answer a failed streaming request with an empty
                # 200 stream; the same request without streaming returns the real error.
                yield from self._without_streaming(url, body, state)
        if not state.done and state.reason != "cancelled":
            raise EndpointError(url, f"stream ended after {state.deltas} chunks without [DONE]", state.text)
        tail, finished = state.finished(self.entry.name, self.name)
        if tail:
            yield TextDelta(tail)
        yield finished

    def _without_streaming(self, url: str, body: dict[str, Any], state: _StreamState) -> Iterator[GenerationEvent]:
        plain = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        # A fresh connection: the server may have dropped the one the broken stream used.
        response = httpx.post(url, json=plain, headers=self._client.headers, timeout=self._client.timeout)
        if response.status_code >= 400:
            raise self._http_error(url, response.status_code, response.content)
        data = response.json()
        state.usage = data.get("usage") or {}
        choice = (data.get("choices") or [{}])[0]
        state.reason = choice.get("finish_reason") or "stop"
        text = (choice.get("message") or {}).get("content") or choice.get("text") or ""
        state.done = True
        if text:
            yield from state.emit(text)

    @contextmanager
    def _transport_errors(self, url: str, state: _StreamState) -> Iterator[None]:
        try:
            yield
        except httpx.ConnectError as exc:
            raise EndpointError(url, f"cannot connect ({exc}); is the server running at {self.base_url}?") from exc
        except httpx.TimeoutException as exc:
            raise EndpointError(url, f"timed out ({type(exc).__name__})", state.text) from exc
        except httpx.TransportError as exc:
            problem = f"connection lost after {state.deltas} chunks ({type(exc).__name__}: {exc})"
            raise EndpointError(url, problem, state.text) from exc
        except ValueError as exc:  # json.JSONDecodeError: not an OpenAI-compatible reply
            raise EndpointError(url, f"malformed reply after {state.deltas} chunks ({exc})", state.text) from exc

    def _http_error(self, url: str, status: int, raw: bytes) -> Exception:
        detail = raw.decode("utf-8", errors="replace")[:1000]
        try:
            error = json.loads(detail).get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        message = error.get("message", detail) if isinstance(error, dict) else str(error)
        too_long = _context_overflow(message, error.get("code") if isinstance(error, dict) else None)
        if too_long is not None:
            return PromptTooLongError(too_long[0], too_long[1], self.model)
        return EndpointError(url, f"HTTP {status}: {message}")


def _context_overflow(message: str, code: str | None) -> tuple[int, int] | None:
    """(prompt tokens, context window) from the OpenAI-style overflow message vLLM and others use."""
    window = re.search(r"maximum context length is (\d+)", message)
    if window is None or (code not in (None, "context_length_exceeded") and "context" not in message):
        return None
    prompt = re.search(r"(\d+) in the messages|(\d+) in the prompt|requested (\d+) tokens", message)
    prompt_tokens = int(next(g for g in prompt.groups() if g)) if prompt else 0
    return prompt_tokens, int(window.group(1))


class _StreamState:
    """What has arrived so far, so an error midway can hand back the partial text."""

    def __init__(self, started: float, stop: StopMatcher):
        self.started = started
        self.stop = stop
        self.parts: list[str] = []
        self.deltas = 0
        self.first_at: float | None = None
        self.last_at = started
        self.usage: dict[str, Any] = {}
        self.reason = "length"
        self.finish_seen = False
        self.done = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def read(self, lines: Iterator[str], cancel: CancelToken) -> Iterator[GenerationEvent]:
        for line in lines:
            if cancel.cancelled:
                self.reason = "cancelled"
                return
            if not line.startswith("data:"):
                continue  # comments, event names, keep-alives
            payload = line[5:].strip()
            if payload == "[DONE]":
                self.done = True
                if not self.finish_seen:
                    # No chunk said why it ended: the server cut the request (llama-cpp-python's server
                    # does this to a running request when another arrives, unless started with
                    # --interrupt_requests False). Reported as cancelled, never as a finished answer.
                    self.reason = "cancelled"
                return
            chunk = json.loads(payload)
            if chunk.get("error"):
                raise httpx.RemoteProtocolError(f"server error in stream: {chunk['error']}")
            self.usage = chunk.get("usage") or self.usage
            text, finish = _chunk_text(chunk)
            if finish:
                self.reason = finish
                self.finish_seen = True
            if text:
                yield from self.emit(text)
            if self.stop.hit:  # a stop string the server did not apply itself: hang up now
                self.done = True
                return

    def emit(self, text: str) -> Iterator[GenerationEvent]:
        now = time.perf_counter()
        self.first_at = self.first_at or now
        self.last_at = now
        self.deltas += 1
        visible = self.stop.feed(text)
        if visible:
            self.parts.append(visible)
            yield TextDelta(visible)

    def finished(self, model: str, backend: str) -> tuple[str, Finished]:
        tail = self.stop.flush() if not self.stop.hit else ""
        self.parts.append(tail)
        end = time.perf_counter()
        first = self.first_at or end
        completion = int(self.usage.get("completion_tokens") or self.deltas)
        decode_s = self.last_at - first
        stats = GenerationStats(
            model=model,
            backend=backend,
            prompt_tokens=self.usage.get("prompt_tokens"),  # None: the server did not report usage
            completion_tokens=completion,
            ttft_s=first - self.started,
            total_s=end - self.started,
            tokens_per_s=(completion - 1) / decode_s if completion > 1 and decode_s > 0 else 0.0,
            finish_reason="stop" if self.stop.hit else self.reason,  # type: ignore[arg-type]
        )
        return tail, Finished(text=self.text, stats=stats)


@register_backend("openai", capabilities=CAPABILITIES)
def _create(entry: ModelEntry, settings: Settings, options: LoadOptions) -> OpenAIBackend:
    return OpenAIBackend(entry, settings, options)

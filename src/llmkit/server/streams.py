"""One request's generation as OpenAI chunk objects: what SSE, WebSocket and the non-streamed response
all read. The request's Trace sees every event on the worker thread, so tokens, timings and the
cancelled count are measured where generation happens, even after the client has gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from llmkit.generation import CancelToken, Finished, GenerationStats, TextDelta
from llmkit.server.bridge import in_thread
from llmkit.server.errors import as_api_error
from llmkit.server.metrics import Metrics, Trace
from llmkit.server.pool import ModelPool, Served
from llmkit.server.protocol import GenerationRequest, Serializer


@dataclass
class Outcome:
    text: str = ""
    stats: GenerationStats | None = None
    error: dict[str, Any] | None = None  # the OpenAI error object, when generation failed midway
    status: int = 200


async def chunks(pool: ModelPool, served: Served, request: GenerationRequest, trace: Trace, metrics: Metrics,
                 cancel: CancelToken, outcome: Outcome) -> AsyncIterator[dict[str, Any]]:  # fmt: skip
    """The stream's chunk objects; a failure midway ends it with an {"error": ...} object. A cancelled
    request ends without a closing chunk (nobody is there to read it, or the client asked to stop)."""
    serializer = Serializer(request.model, request.chat)
    opening = serializer.opening()
    if opening is not None:
        yield opening

    def observe(event: Any) -> None:  # on the worker thread, as each event is produced
        if isinstance(event, TextDelta):
            trace.token(metrics)
        elif isinstance(event, Finished):
            trace.finished(event.stats)

    def done(error: BaseException | None) -> None:
        if error is not None:
            trace.outcome, trace.status = "error", as_api_error(error).status
        trace.report(metrics)

    parts: list[str] = []
    try:
        make = lambda: pool.stream(served, request.prompt, request.params, cancel)  # noqa: E731
        async for event in in_thread(make, cancel, observe, done):
            if isinstance(event, TextDelta):
                parts.append(event.text)
                yield serializer.delta(event.text)
            elif isinstance(event, Finished):
                outcome.stats = event.stats
    except Exception as exc:  # noqa: BLE001 - a failure midway is reported in the stream, which then ends cleanly
        error = as_api_error(exc)
        outcome.error, outcome.status = error.body(), error.status
        yield outcome.error
        return
    outcome.text = "".join(parts)
    stats = outcome.stats
    if stats is not None and stats.finish_reason != "cancelled":
        yield serializer.closing(stats)
        if request.include_usage:
            yield serializer.usage_chunk(stats)


def whole(request: GenerationRequest, outcome: Outcome) -> dict[str, Any]:
    """The non-streamed response, from a fully read stream."""
    assert outcome.stats is not None
    return Serializer(request.model, request.chat).whole(outcome.text, outcome.stats)

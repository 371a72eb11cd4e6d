"""OpenAI's wire format: typed request bodies, their translation into llmkit's types, and the one
serialiser that turns generation events into response objects and stream chunks (SSE and WebSocket send
the same chunk objects)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmkit.generation import ChatMessage, GenerationStats, Prompt, SamplingParams
from llmkit.server.errors import APIError, from_validation


class _Body(BaseModel):
    # strict: "5" is not a number (OpenAI refuses wrong types); forbid: unknown fields are refused
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class TextPart(_Open):
    type: Literal["text"]
    text: str


class MessageIn(_Open):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class StreamOptions(_Open):
    include_usage: bool = False


class JsonSchemaFormat(_Open):
    name: str
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    description: str | None = None
    strict: bool | None = None


class ResponseFormat(_Body):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class _Sampling(_Body):
    model: str
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1)  # one choice per request
    frequency_penalty: float = Field(default=0.0, ge=0, le=0)  # accepted only at their neutral value:
    presence_penalty: float = Field(default=0.0, ge=0, le=0)  # no backend applies them
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    # The extensions vLLM and llama.cpp's server accept (llmkit's own openai backend sends them).
    top_k: int | None = Field(default=None, ge=0)
    repetition_penalty: float | None = Field(default=None, gt=0)
    repeat_penalty: float | None = Field(default=None, gt=0)
    ignore_eos: bool = False


class ChatRequest(_Sampling):
    messages: list[MessageIn] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    response_format: ResponseFormat | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None


class CompletionRequest(_Sampling):
    prompt: str | list[str]
    max_tokens: int | None = Field(default=16, ge=1)  # OpenAI's default for /completions
    logprobs: int | None = Field(default=None, ge=0, le=5)
    echo: bool = False
    suffix: str | None = None
    best_of: int = Field(default=1, ge=1, le=1)


def parse_body(kind: type[_Body], raw: bytes) -> Any:
    """The body as `kind`, or the 400 that says which field is wrong and why."""
    try:
        return kind.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise from_validation(list(exc.errors())) from None


@dataclass(frozen=True)
class GenerationRequest:
    """A chat or completion request in llmkit's terms."""

    model: str
    prompt: Prompt
    params: SamplingParams
    stream: bool
    include_usage: bool
    chat: bool
    max_tokens_given: bool


def to_generation(body: ChatRequest | CompletionRequest, default_max_tokens: int) -> GenerationRequest:
    _refuse_unsupported(body)
    chat = isinstance(body, ChatRequest)
    prompt = _chat_prompt(body) if chat else _completion_prompt(body)
    limit = (body.max_completion_tokens or body.max_tokens) if chat else body.max_tokens
    stop = (body.stop,) if isinstance(body.stop, str) else tuple(body.stop or ())
    if len(stop) > 4:
        raise APIError(400, "at most 4 stop sequences are allowed", param="stop")
    params = SamplingParams(
        max_new_tokens=limit or default_max_tokens,
        temperature=1.0 if body.temperature is None else body.temperature,  # OpenAI's default
        top_p=1.0 if body.top_p is None else body.top_p,
        top_k=body.top_k or 0,
        repetition_penalty=body.repetition_penalty or body.repeat_penalty or 1.0,
        stop=stop,
        seed=body.seed,
        ignore_eos=body.ignore_eos,
        json_schema=_json_schema(body.response_format) if chat else None,
    )
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return GenerationRequest(body.model, prompt, params, body.stream, include_usage, chat, limit is not None)


def _refuse_unsupported(body: ChatRequest | CompletionRequest) -> None:
    """Say no to what no backend here does, rather than silently ignore it."""
    if body.logprobs:
        raise APIError(400, "logprobs are not available from this server's backends", param="logprobs")
    if body.logit_bias:
        raise APIError(400, "logit_bias is not supported by this server", param="logit_bias")
    if isinstance(body, ChatRequest) and body.tools:
        raise APIError(400, "tool calling is not supported by this server", param="tools")
    if isinstance(body, CompletionRequest) and (body.echo or body.suffix):
        raise APIError(400, "echo and suffix are not supported by this server", param="echo" if body.echo else "suffix")


def _chat_prompt(body: ChatRequest) -> Prompt:
    messages = []
    for message in body.messages:
        role = "system" if message.role == "developer" else message.role
        messages.append(ChatMessage(role, message.text()))
    return Prompt(messages=messages)


def _completion_prompt(body: CompletionRequest) -> Prompt:
    prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
    if len(prompts) != 1:
        raise APIError(400, "give one prompt per request (batches of prompts are not supported)", param="prompt")
    return Prompt(raw=prompts[0])


def _json_schema(fmt: ResponseFormat | None) -> dict | None:
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "object"}
    if fmt.json_schema is None or fmt.json_schema.schema_ is None:
        raise APIError(400, "response_format json_schema needs json_schema.schema", param="response_format")
    return fmt.json_schema.schema_


def usage(stats: GenerationStats) -> dict[str, int]:
    prompt = stats.prompt_tokens or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": stats.completion_tokens,
        "total_tokens": prompt + stats.completion_tokens,
    }


def finish_reason(stats: GenerationStats) -> str:
    return "length" if stats.finish_reason == "length" else "stop"


class Serializer:
    """Generation events -> OpenAI objects, for one request; SSE and WebSocket send these same objects."""

    def __init__(self, model: str, chat: bool):
        self.chat, self.model = chat, model
        self.id = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex
        self.created = int(time.time())
        self.object = "chat.completion.chunk" if chat else "text_completion"

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": self.id, "object": self.object, "created": self.created, "model": self.model, "choices": choices}

    def _choice(self, text: str | None, reason: str | None, role: bool = False) -> dict[str, Any]:
        if not self.chat:
            return {"index": 0, "text": text or "", "logprobs": None, "finish_reason": reason}
        delta: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None} if role else {}
        if text is not None:
            delta["content"] = text
        return {"index": 0, "delta": delta, "finish_reason": reason}

    def opening(self) -> dict[str, Any] | None:
        """The first chunk of a chat stream names the role (OpenAI's own first chunk)."""
        return self._chunk([self._choice(None, None, role=True)]) if self.chat else None

    def delta(self, text: str) -> dict[str, Any]:
        return self._chunk([self._choice(text, None)])

    def closing(self, stats: GenerationStats) -> dict[str, Any]:
        return self._chunk([self._choice(None if self.chat else "", finish_reason(stats))])

    def usage_chunk(self, stats: GenerationStats) -> dict[str, Any]:
        return {**self._chunk([]), "usage": usage(stats)}

    def whole(self, text: str, stats: GenerationStats) -> dict[str, Any]:
        """The non-streamed response."""
        if self.chat:
            message = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason(stats)}
            kind = "chat.completion"
        else:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason(stats)}
            kind = "text_completion"
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model,
                "choices": [choice], "usage": usage(stats)}  # fmt: skip

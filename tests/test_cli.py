"""The `llmkit` command, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

COMMANDS = ["models", "generate", "chat", "demo", "config"]


def run(*args: str, stdin: str | None = None, timeout: int = 1200) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "llmkit", *args], input=stdin, capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_on_every_command(command):
    result = run(*([command] if command else []), "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_models_json_lists_the_catalog():
    result = run("models", "--json")
    entries = json.loads(result.stdout)
    names = {e["name"]: e for e in entries}
    assert names["smollm2-135m-instruct"]["availability"] == "offline"
    assert {"hub_id", "params_b", "context_length", "license", "languages", "best_for"} <= set(entries[0])
    assert "llama-3.1-8b-instruct" in run("models").stdout


def test_generate_json_has_text_and_stats(engine):
    result = run("generate", "Name a colour.", "-n", "12", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("text", "model", "backend", "prompt_tokens", "completion_tokens", "ttft_s", "tokens_per_s"):
        assert key in data
    assert data["text"] and data["backend"] == "transformers" and 1 <= data["completion_tokens"] <= 12


def test_generate_streams_text_to_stdout_and_stats_to_stderr(engine):
    result = run("generate", "Name a colour.", "-n", "12", "--seed", "3", "-t", "0.8")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "tok/s" in result.stderr and "ttft" in result.stderr


def test_unknown_model_is_a_clear_error():
    result = run("generate", "hi", "--model", "llama-3.1-8")
    assert result.returncode == 1
    assert "error: unknown model 'llama-3.1-8'" in result.stderr and "did you mean" in result.stderr
    assert "Traceback" not in result.stderr


def test_chat_keeps_history_and_exits(engine):
    result = run("chat", "-n", "16", stdin="My name is Ada.\nWhat is my name?\n/exit\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("assistant>") == 2
    prompts = [
        int(line.split("] ")[1].split(" prompt")[0]) for line in result.stderr.splitlines() if " prompt + " in line
    ]
    # The second turn's prompt carries the first exchange: longer by the first question and answer.
    assert len(prompts) == 2 and prompts[1] > prompts[0] + 8


def test_config_shows_settings_and_their_variables():
    result = run("config")
    assert "LLMKIT_DEFAULT_MODEL" in result.stdout and "smollm2-135m-instruct" in result.stdout


def test_demo_runs_on_the_embedded_defaults(engine):
    # --quick: the same steps on smaller inputs. The limit is a hang guard, not a speed target.
    result = run("demo", "--quick", timeout=1800)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "tok/s" in result.stderr and "counted by each offline tokenizer" in out and "cl100k" in out
    assert "Meeting minutes from the sample recording" in out and "minutes in" in result.stderr
    assert "## Action items" in out or "Action items" in out
    assert "/5 " in out and "valid replies" in out and "files and quality report" in out
    assert "llmkit models" in out and "error:" not in result.stderr


def test_demo_fails_when_a_step_fails(monkeypatch, tmp_path):
    # A failing step (here the model cannot load: no such GGUF) must not end in exit 0.
    result = run("demo", "--quick", "-m", str(tmp_path / "missing.gguf"), timeout=1800)
    assert result.returncode == 1
    assert "the demo's generation, minutes, synthetic data step(s) failed" in result.stderr


def test_chat_drops_the_oldest_exchanges_to_fit_the_window():
    from llmkit import Engine
    from llmkit.generation.types import ChatMessage

    class CountingBackend:  # stands in for a loaded model: 10 tokens a message, a 64-token window
        context_length = 64

        def count_prompt_tokens(self, prompt):
            return 10 * len(prompt.messages)

    engine = Engine()
    engine._backends[(engine.resolve().name, engine.backend_name(engine.resolve()))] = CountingBackend()
    history = [ChatMessage("system", "terse")]
    for turn in range(4):
        history += [ChatMessage("user", f"q{turn}"), ChatMessage("assistant", f"a{turn}")]
    history.append(ChatMessage("user", "latest"))
    assert engine.fit_history(history, reserve=16) == 6
    assert history[0].content == "terse" and history[-1].content == "latest"
    assert 10 * len(history) + 16 < 64
    assert [m.content for m in history[1:-1]] == ["q3", "a3"]  # the newest exchange is kept


def test_generate_reads_the_prompt_from_stdin(engine):
    result = run("generate", "-", "-n", "6", "--json", stdin="Name a colour.")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["prompt_tokens"] > 5


def test_ctrl_c_cancels_generation_and_still_reports(engine):
    import signal

    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "llmkit", "generate", "Write a very long story about the sea.", "-n", "400"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    process.stdout.read(10)  # generation has started
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=1800)
    assert process.returncode == 130, err  # interrupted, as a shell expects (issue 10), after the report
    assert "· cancelled" in err and "Traceback" not in err
    produced = int(err.split(" prompt + ")[1].split(" new tokens")[0])
    assert produced < 400

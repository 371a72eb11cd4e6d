"""Continuous batching on the transformers backend: requests join the running batch at a token boundary
and leave when done, and a request's greedy text does not depend on who shares its batch (checked
in-process and through `llmkit serve` over HTTP)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from llmkit import CancelToken, Prompt, SamplingParams
from llmkit.generation import ContinuousBatcher, collect
from llmkit.server import ServerConfig, create_app
from tests.conftest import free_port
from tests.test_server import running

PROMPTS = ["Say hello.", "Count to five.", "Name a colour.", "Explain gravity briefly.", "Name two rivers."]
GREEDY = SamplingParams(max_new_tokens=20)


@pytest.fixture(scope="module")
def batcher(engine):
    batcher = ContinuousBatcher(engine.backend_for(), slots=3)
    yield batcher
    batcher.close()


@pytest.fixture(scope="module")
def alone(batcher):
    """Each prompt on its own: the reference greedy text."""
    return [collect(batcher.stream(Prompt.of(p), GREEDY, CancelToken())).text for p in PROMPTS]


def test_requests_join_and_leave_the_running_batch_without_changing_their_greedy_text(batcher, alone):
    steps_before = batcher.steps
    results: dict[int, object] = {}

    def run(index: int) -> None:
        time.sleep(0.15 * index)  # arrive while others are decoding: they join at a token boundary
        results[index] = collect(batcher.stream(Prompt.of(PROMPTS[index]), GREEDY, CancelToken()))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(PROMPTS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    assert [results[i].text for i in range(len(PROMPTS))] == alone
    tokens = sum(results[i].stats.completion_tokens for i in range(len(PROMPTS)))
    # Rows shared decode steps: far fewer steps than tokens (5 prompts through 3 rows).
    assert batcher.steps - steps_before < tokens


def test_a_cancelled_row_leaves_at_the_next_token_and_a_waiting_one_is_never_started(batcher):
    cancel = CancelToken()
    got = 0
    events = batcher.stream(Prompt.of("Write a long story about a dragon."), SamplingParams(max_new_tokens=300), cancel)
    final = None
    for final in events:  # noqa: B007 - the last event is the Finished one
        got += 1
        if got == 3:
            cancel.cancel()
    assert final.stats.finish_reason == "cancelled"
    assert final.stats.completion_tokens <= 4  # the tokens read, plus at most the one in flight

    gone = CancelToken()
    gone.cancel()
    result = collect(batcher.stream(Prompt.of("Say hello."), GREEDY, gone))
    assert result.stats.finish_reason == "cancelled" and result.stats.completion_tokens == 0


def test_served_concurrent_requests_match_in_process_greedy_text(engine, alone):
    from openai import OpenAI

    cfg = ServerConfig(port=free_port(), max_concurrency=3)
    with running(create_app(cfg, engine), cfg.port) as base:
        ready = httpx.get(base + "/ready", timeout=60).json()
        assert ready["models"][0]["backend"] == "transformers"
        openai = OpenAI(base_url=base + "/v1", api_key="unused", timeout=900, max_retries=0)

        def ask(prompt: str) -> str:
            messages = [{"role": "user", "content": prompt}]
            reply = openai.chat.completions.create(
                model="smollm2-135m-instruct", messages=messages, max_tokens=20, temperature=0
            )
            return reply.choices[0].message.content

        with ThreadPoolExecutor(len(PROMPTS)) as pool:
            served = list(pool.map(ask, PROMPTS))
    assert served == alone

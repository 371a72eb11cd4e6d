"""Token-to-text streaming and sampling, checked against the real tokenizer where one is involved."""

from __future__ import annotations

from typing import ClassVar  # at module level: dataclasses recognise a string ClassVar annotation by it

import pytest

from llmkit.generation.sampling import Sampler
from llmkit.generation.streaming import IncrementalDetokenizer, StopMatcher
from llmkit.generation.types import SamplingParams

SAMPLES = [
    "Hello, world! Ünïcödé façade — naïve café.",
    "emoji 🎉🚀 and CJK 你好，世界 and Arabic مرحبا بالعالم",
    "  leading spaces,\ttabs\nand\n\nnewlines  ",
    "def f(x):\n    return x ** 2  # comment",
    "<|im_start|> look-alike <|im_end|> tokens",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_incremental_detokenizer_reproduces_full_decode(engine, text):
    tokenizer = engine.backend_for().loaded.tokenizer
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    detok = IncrementalDetokenizer(lambda window: tokenizer.decode(window))
    pieces = [detok.push(i) for i in ids] + [detok.flush()]
    assert "".join(pieces) == tokenizer.decode(ids)
    assert all("\ufffd" not in p for p in pieces)


def test_stop_matcher_holds_back_partial_stops():
    stop = StopMatcher(["END", "\n\n"])
    out = [stop.feed(t) for t in ["Hello E", "N", "ough. And", " then E", "ND more"]]
    assert "".join(out) == "Hello ENough. And then "
    assert stop.hit


def test_stop_matcher_releases_held_text_at_the_end():
    stop = StopMatcher(["STOP"])
    assert stop.feed("abc ST") == "abc "
    assert stop.flush() == "ST" and not stop.hit


def test_sampler_seed_reproduces_and_greedy_is_argmax():
    import torch

    logits = torch.randn(1000, generator=torch.Generator().manual_seed(0))
    params = SamplingParams(temperature=1.0, top_p=0.9, top_k=50, seed=7)
    draws = [Sampler(params, 1000).choose(logits) for _ in range(3)]
    assert len(set(draws)) == 1
    sequence_a = [s.choose(logits) for s in [Sampler(params, 1000)] for _ in range(20)]
    sampler_b = Sampler(params, 1000)
    assert sequence_a == [sampler_b.choose(logits) for _ in range(20)]
    assert Sampler(SamplingParams(), 1000).choose(logits) == int(torch.argmax(logits))
    top_k_one = SamplingParams(temperature=1.5, top_k=1, seed=1)
    assert Sampler(top_k_one, 1000).choose(logits) == int(torch.argmax(logits))


def test_top_p_keeps_only_the_nucleus():
    import torch

    logits = torch.log(torch.tensor([0.6, 0.3, 0.05, 0.05]))
    params = SamplingParams(temperature=1.0, top_p=0.8, seed=3)
    sampler = Sampler(params, 4)
    assert {sampler.choose(logits) for _ in range(200)} == {0, 1}


VOCAB = 4096  # larger than the sampler's 1,024-candidate cut (generation.sampling.CANDIDATES)


def _expected_distribution(logits, temperature: float, top_k: int, top_p: float):
    """What the sampler should draw from, computed apart from it (numpy, float64): softmax of logits /
    temperature, then the top-k, then the smallest set of best tokens whose mass reaches top_p (the token
    that crosses top_p is kept), renormalised."""
    import numpy as np

    scaled = logits.double().numpy() / temperature
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")
    keep = order[:top_k] if top_k else order
    kept = probs[keep] / probs[keep].sum()
    if top_p < 1.0:
        before = np.cumsum(kept) - kept
        keep, kept = keep[before < top_p], kept[before < top_p]
    expected = np.zeros_like(probs)
    expected[keep] = kept / kept.sum()
    return expected


def _chi_square_p(observed, expected, draws: int) -> float:
    """Pearson's chi-square over bins of tokens (merged in order of probability so that every bin expects
    at least 50 draws); the p-value from the regularised upper incomplete gamma function."""
    import numpy as np
    import torch

    order = np.argsort(-expected, kind="stable")
    order = order[expected[order] > 0]
    bins_observed, bins_expected, current_o, current_e = [], [], 0.0, 0.0
    for token in order:
        current_o, current_e = current_o + observed[token], current_e + expected[token] * draws
        if current_e >= 50:
            bins_observed.append(current_o)
            bins_expected.append(current_e)
            current_o, current_e = 0.0, 0.0
    bins_observed[-1] += current_o
    bins_expected[-1] += current_e
    o, e = np.array(bins_observed), np.array(bins_expected)
    statistic = float(((o - e) ** 2 / e).sum())
    freedom = len(o) - 1
    return float(torch.special.gammaincc(torch.tensor(freedom / 2.0), torch.tensor(statistic / 2.0)))


def _logits(head: int, seed: int):
    """Log-probabilities over VOCAB tokens in shuffled vocabulary order: `head` likely tokens with geometric
    weights, the rest sharing a thin tail; head=0 gives a flat-ish distribution with 3x variation."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    if head:
        weights = torch.cat([0.93 * torch.pow(0.88, torch.arange(head).double()), torch.full((VOCAB - head,), 1e-5)])
    else:
        weights = 1.0 + 2.0 * torch.rand(VOCAB, generator=generator, dtype=torch.float64)
    weights = weights[torch.randperm(VOCAB, generator=generator)]
    return torch.log(weights / weights.sum()).float()


@pytest.mark.parametrize(
    ("head", "temperature", "top_k", "top_p"),
    [
        (40, 1.0, 0, 0.9),  # nucleus inside the best 1,024 candidates: the fast path
        (0, 1.0, 0, 0.95),  # nucleus of ~3,800 tokens: past the cut, the full sort
        (0, 0.7, 2000, 0.9),  # top-k above the cut, then top-p
        (40, 1.3, 0, 1.0),  # temperature alone: every token a candidate
    ],
)
def test_sampler_frequencies_match_the_distribution(head, temperature, top_k, top_p):
    import numpy as np
    import torch

    logits = _logits(head, seed=11)
    expected = _expected_distribution(logits, temperature, top_k, top_p)
    sampler = Sampler(SamplingParams(temperature=temperature, top_k=top_k, top_p=top_p, seed=5), VOCAB)
    draws, threads = 8000, torch.get_num_threads()
    torch.set_num_threads(1)  # ops on 4,096 numbers: a second thread only adds hand-offs on a busy machine
    try:
        observed = np.bincount([sampler.choose(logits) for _ in range(draws)], minlength=VOCAB)
    finally:
        torch.set_num_threads(threads)
    assert observed[expected == 0].sum() == 0  # nothing outside the top-k / nucleus is ever drawn
    assert (expected > 0).sum() > (1024 if head == 0 else 10)
    assert _chi_square_p(observed, expected, draws) > 0.001


def test_repetition_penalty_discourages_seen_tokens():
    import torch

    logits = torch.tensor([2.0, 1.9, 0.0])
    sampler = Sampler(SamplingParams(repetition_penalty=1.5), 3)
    sampler.observe(torch.tensor([0]))
    assert sampler.choose(logits) == 1


def test_every_event_serialises_the_same_way():
    """One serialiser for any capability's stream: each event has a type and a JSON-ready dict."""
    import datetime as dt
    import json
    from dataclasses import dataclass
    from pathlib import Path

    from llmkit.events import Event, to_json_line, to_sse
    from llmkit.generation.types import Finished, GenerationStats, TextDelta

    @dataclass(frozen=True)
    class Sample(Event):
        type: ClassVar[str] = "sample.progress"
        when: dt.date
        where: Path
        parts: tuple[int, ...]

    stats = GenerationStats("m", "b", 3, 2, 0.1, 0.2, 10.0, "stop")
    for event, expected in [
        (TextDelta("hé"), {"type": "delta", "text": "hé"}),
        (Finished("hé", stats), {"type": "finished", "text": "hé", "stats": {**stats.__dict__}}),
        (Sample(dt.date(2026, 1, 2), Path("/x"), (1, 2)), {"type": "sample.progress", "when": "2026-01-02",
                                                           "where": "/x", "parts": [1, 2]}),
    ]:  # fmt: skip
        assert json.loads(to_json_line(event)) == expected == event.to_dict()
        head, data, blank = to_sse(event).split("\n", 2)
        assert head == f"event: {event.type}" and json.loads(data.removeprefix("data: ")) == expected


def test_generate_json_is_constrained_where_it_can_be_and_keeps_the_raw_text_otherwise(engine):
    from llmkit import ChatMessage
    from llmkit.generation import backend_installed, generate_json

    schema = {"type": "object", "properties": {"city": {"type": "string"}, "people": {"type": "integer"}},
              "required": ["city", "people"]}  # fmt: skip
    messages = [ChatMessage("user", "Describe a city as JSON with the keys city and people.")]
    plain = generate_json(engine, messages, schema, max_new_tokens=24, backend="transformers", retries=1)
    assert not plain.constrained and plain.attempts >= 1 and plain.raw  # validated; the raw reply kept either way
    assert (plain.value is None) == bool(plain.errors)
    if backend_installed("llamacpp"):
        grammar = generate_json(engine, messages, schema, max_new_tokens=60, backend="llamacpp")
        assert grammar.constrained and grammar.attempts == 1 and isinstance(grammar.value["people"], int)

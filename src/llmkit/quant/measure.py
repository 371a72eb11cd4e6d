"""Measurements on one loaded method: sliding-window perplexity, KL divergence and top-1 agreement
against the reference log-probabilities, prompt and decode speed. Runs inside the method's process.

Windows follow transformers' perplexity guide: a window of `window` tokens moves by `stride`; only the
tokens not scored by an earlier window are scored, so every token after the first is scored once, with
at least window - stride tokens of context (except at the start). With stride == window (no overlap)
the first token of each window has no context and is not scored, as in the guide.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


class Runner(Protocol):
    """What the measurements need from a model: logits for a whole sequence, and incremental decoding."""

    def logits(self, ids: list[int]) -> Any: ...  # float32 tensor [len(ids), vocab]

    def start(self, ids: list[int]) -> int: ...  # prefill; returns the greedy next token

    def step(self, token: int) -> int: ...  # one decode step; returns the greedy next token


def windows(n: int, window: int, stride: int) -> Iterator[tuple[int, int, int]]:
    """(begin, end, first scored position): positions p in [first, end-1) predict token p+1."""
    scored_until = 1  # token 0 has no prediction
    for begin in range(0, n, stride):
        end = min(begin + window, n)
        first = max(begin, scored_until - 1)  # with stride == window, a window's first token has no context
        if end - 1 > first:
            yield begin, end, first
            scored_until = end
        if end == n:
            return


@dataclass
class Scores:
    nll: float = 0.0  # sum over scored tokens, nats
    kl: float = 0.0  # sum of KL(reference || this), nats
    top1_same: int = 0
    count: int = 0


def score(runner: Runner, ids: list[int], window: int, stride: int, reference: Any | None,
          keep_log_probs: bool = False) -> tuple[Scores, Any]:  # fmt: skip
    """Perplexity terms and (with `reference`, a [n-1, vocab] float16 array of reference log-probs for
    positions 0..n-2) KL and top-1 agreement. With keep_log_probs, also returns this run's log-probs in
    the same layout (the reference run writes them)."""
    import torch

    scores = Scores()
    kept = []
    for begin, end, first in windows(len(ids), window, stride):
        logits = runner.logits(ids[begin:end])[first - begin : end - 1 - begin].float()
        log_probs = torch.log_softmax(logits, dim=-1)
        targets = torch.tensor(ids[first + 1 : end])
        scores.nll -= float(log_probs.gather(1, targets[:, None]).sum())
        scores.count += len(targets)
        if reference is not None:
            ref = torch.from_numpy(reference[first : end - 1]).float()
            vocab = min(ref.shape[1], log_probs.shape[1])
            ref, mine = ref[:, :vocab], log_probs[:, :vocab]
            scores.kl += float((ref.exp() * (ref - mine)).sum())
            scores.top1_same += int((ref.argmax(-1) == mine.argmax(-1)).sum())
        if keep_log_probs:
            kept.append(log_probs.half())
    return scores, (torch.cat(kept).numpy() if keep_log_probs else None)


def perplexity(scores: Scores) -> float:
    return math.exp(scores.nll / scores.count)


def bits_per_byte(scores: Scores, text_bytes: int) -> float:
    return scores.nll / math.log(2) / text_bytes


def speed(runner: Runner, prompt: list[int], new_tokens: int) -> tuple[float, float]:
    """(prompt tokens/s, decode tokens/s), greedy, after a short warm-up (first calls pay lazy set-up)."""
    runner.step(runner.start(prompt[:8]))
    started = time.perf_counter()
    token = runner.start(prompt)
    prefill_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(new_tokens):
        token = runner.step(token)
    decode_s = time.perf_counter() - started
    return len(prompt) / prefill_s, new_tokens / decode_s


class TransformersRunner:
    def __init__(self, model: Any):
        self.model = model
        self.device = next(model.parameters()).device if any(True for _ in model.parameters()) else "cpu"
        self.cache: Any = None

    def _forward(self, ids: list[int], cache: Any = None) -> Any:
        import torch

        # no_grad, not inference_mode: quanto's int4 kernels fail on inference tensors
        # ("Cannot set version_counter for inference tensor").
        with torch.no_grad():
            return self.model(torch.tensor([ids], device=self.device), past_key_values=cache, use_cache=True)

    def logits(self, ids: list[int]) -> Any:
        return self._forward(ids).logits[0].float().cpu()

    def start(self, ids: list[int]) -> int:
        out = self._forward(ids)
        self.cache = out.past_key_values
        return int(out.logits[0, -1].argmax())

    def step(self, token: int) -> int:
        out = self._forward([token], self.cache)
        self.cache = out.past_key_values
        return int(out.logits[0, -1].argmax())


class LlamaCppRunner:
    """llama-cpp-python with logits_all=True: `scores` holds the logits of every evaluated position."""

    def __init__(self, llm: Any):
        self.llm = llm

    def logits(self, ids: list[int]) -> Any:
        import torch

        self.llm.reset()
        self.llm.eval(ids)
        return torch.from_numpy(self.llm.scores[: len(ids)].copy())

    def start(self, ids: list[int]) -> int:
        self.llm.reset()
        self.llm.eval(ids)
        return int(self.llm.scores[self.llm.n_tokens - 1].argmax())

    def step(self, token: int) -> int:
        self.llm.eval([token])
        return int(self.llm.scores[self.llm.n_tokens - 1].argmax())

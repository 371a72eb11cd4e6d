"""Next-token choice from logits: repetition penalty, temperature, top-k, top-p, seeded draws.

Kept in one place so the in-process backends sample alike. Follows the usual conventions
(HF transformers): the repetition penalty divides positive and multiplies negative logits of tokens
already seen; top-k then top-p are applied after temperature.
"""

from __future__ import annotations

from typing import Any

from llmkit.generation.types import SamplingParams

CANDIDATES = 1024


class Sampler:
    def __init__(self, params: SamplingParams, vocab_size: int):
        import torch

        self.params = params
        self._torch = torch
        self._generator = torch.Generator()
        if params.seed is not None:
            self._generator.manual_seed(params.seed)
        else:
            self._generator.seed()
        self._seen = torch.zeros(vocab_size, dtype=torch.bool)

    def observe(self, token_ids: Any) -> None:
        """Mark ids (prompt or generated) for the repetition penalty."""
        if self.params.repetition_penalty != 1.0:
            self._seen[token_ids] = True

    def choose(self, logits: Any) -> int:
        """logits: 1-D float tensor over the vocabulary."""
        torch = self._torch
        p = self.params
        logits = logits.float()
        if p.repetition_penalty != 1.0 and self._seen.any():
            seen = self._seen[: logits.shape[-1]]
            penalised = torch.where(logits > 0, logits / p.repetition_penalty, logits * p.repetition_penalty)
            logits = torch.where(seen, penalised, logits)
        if p.greedy:
            return int(torch.argmax(logits))
        logits = logits / p.temperature
        vocab = logits.shape[-1]
        if not p.top_k and p.top_p >= 1.0:
            return self._draw(torch.arange(vocab), torch.softmax(logits, dim=-1))
        # The candidates, best first: the top-k, or for top-p alone the best CANDIDATES tokens, which almost
        # always hold the nucleus (checked below; else the whole vocabulary is sorted). Sorting 50k logits
        # per token cost ~4 ms on the 2-core machine; this, ~0.6 ms.
        values, ids = torch.topk(logits, min(p.top_k or CANDIDATES, vocab))
        probs = torch.softmax(values, dim=-1) if p.top_k else torch.softmax(logits, dim=-1)[ids]
        if p.top_p < 1.0:
            cumulative = probs.cumsum(-1)
            if not p.top_k and float(cumulative[-1]) < p.top_p and len(ids) < vocab:
                values, ids = torch.sort(logits, descending=True)
                probs = torch.softmax(values, dim=-1)
                cumulative = probs.cumsum(-1)
            probs = probs.masked_fill(cumulative - probs >= p.top_p, 0.0)  # keep the token that crosses top_p
        return self._draw(ids, probs)

    def _draw(self, ids: Any, probs: Any) -> int:
        """One uniform number against the candidates' cumulative probabilities, in vocabulary order: a tiny
        change in the logits (a cached prefix, another batch size) then changes the draw only when the
        number falls next to a boundary, and one number per token costs far less than a multinomial over
        the vocabulary (which draws a number for every token: ~1.3 ms here)."""
        torch = self._torch
        order = torch.argsort(ids)
        cumulative = probs[order].cumsum(-1)
        point = torch.rand(1, generator=self._generator) * cumulative[-1]
        index = min(int(torch.searchsorted(cumulative, point, right=True)), len(cumulative) - 1)
        return int(ids[order][index])

"""Next-token choice from logits: repetition penalty, temperature, top-k, top-p, seeded draws.

Kept in one place so the in-process backends sample alike. Follows the usual conventions
(HF transformers): the repetition penalty divides positive and multiplies negative logits of tokens
already seen; top-k then top-p are applied after temperature.
"""

from __future__ import annotations

from typing import Any

from llmkit.generation.types import SamplingParams


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
        if p.top_k:
            kth = torch.topk(logits, min(p.top_k, logits.shape[-1])).values[-1]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if p.top_p < 1.0:
            logits = _top_p_filter(torch, logits, p.top_p)
        probs = torch.softmax(logits, dim=-1)
        return int(torch.multinomial(probs, 1, generator=self._generator))


def _top_p_filter(torch: Any, logits: Any, top_p: float) -> Any:
    sorted_logits, order = torch.sort(logits, descending=True)
    cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
    drop = cumulative - torch.softmax(sorted_logits, dim=-1) >= top_p  # keep the token that crosses top_p
    sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
    return torch.empty_like(logits).scatter_(0, order, sorted_logits)

"""Bits per byte of a shared text: how well a model predicts it, fair across tokenizers.

Perplexity per token rewards a tokenizer with long tokens; dividing the whole text's negative
log-likelihood (in bits) by its UTF-8 bytes does not. Scored with transformers on the model's own
weights (a GGUF is dequantized, the same conversion the transformers backend loads), in the precision
the spec asks for.
"""

from __future__ import annotations

import math

from llmkit.compare.types import ModelSpec
from llmkit.config import Settings
from llmkit.models import LoadOptions, ModelEntry, load_transformers


def bits_per_byte(entry: ModelEntry, spec: ModelSpec, settings: Settings, text: str) -> float:
    import torch

    options = LoadOptions(
        precision=spec.precision or "auto", quantization=spec.quantization or "none",
        device=settings.device, threads=settings.threads,
    )  # fmt: skip
    loaded = load_transformers(entry, options, settings)
    try:
        ids = loaded.prompt_ids(raw=text)
        with torch.inference_mode():
            tensor = torch.tensor([ids], device=loaded.model.device)
            logits = loaded.model(tensor).logits[0, :-1].float()
            nll = torch.nn.functional.cross_entropy(logits, tensor[0, 1:], reduction="sum").item()
        scored_bytes = len(text.encode("utf-8")) - _unscored_bytes(loaded.tokenizer, ids)
        return nll / math.log(2) / scored_bytes
    finally:
        loaded.unload()


def _unscored_bytes(tokenizer: object, ids: list[int]) -> int:
    """The first token is context, not predicted: when it is text (no BOS), its bytes are not scored."""
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    if ids and ids[0] in special:
        return 0
    return len(tokenizer.decode(ids[:1]).encode("utf-8"))  # type: ignore[attr-defined]

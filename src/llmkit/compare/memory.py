"""Memory to run a catalog model: weights at a quantization plus the KV cache at a context.

The same arithmetic and constants as the internals lab's `estimate_memory` (bits per weight: bf16 16,
8-bit 8.03, 4-bit 4.5; a 16-bit KV cache), worked from the catalog's facts (parameters, layers, key/value
heads, head size) instead of a config.json, so no model file is needed. Until the internals package
exposes its estimate on its face, this small function stands in for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmkit.models import ModelEntry

BITS_PER_WEIGHT = {"bf16": 16.0, "8bit": 8.03, "4bit": 4.5}
KV_BYTES_PER_ELEMENT = 2  # quantized weights still keep a 16-bit cache
RUNTIME_OVERHEAD_GB = 0.3  # framework, allocator and activations: a stated allowance, not a measurement


@dataclass(frozen=True)
class MemoryNeed:
    quantization: str
    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float

    @property
    def total_gb(self) -> float:
        return round(self.weights_gb + self.kv_cache_gb + self.overhead_gb, 2)


def kv_cache_bytes(entry: ModelEntry, context: int) -> int:
    """K and V for every layer at `context` tokens; a sliding-window layer holds at most its window."""
    per_layer_token = 2 * entry.kv_heads * entry.head_dim * KV_BYTES_PER_ELEMENT
    if not entry.sliding_window:
        return per_layer_token * entry.layers * context
    sliding = entry.layers - entry.full_attention_layers
    held = entry.full_attention_layers * context + sliding * min(context, entry.sliding_window)
    return per_layer_token * held


def memory_need(entry: ModelEntry, quantization: str, context: int) -> MemoryNeed:
    weights = entry.params_b * 1e9 * BITS_PER_WEIGHT[quantization] / 8
    return MemoryNeed(
        quantization, round(weights / 1e9, 2), round(kv_cache_bytes(entry, context) / 1e9, 2), RUNTIME_OVERHEAD_GB
    )

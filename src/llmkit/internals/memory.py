"""Memory arithmetic from a config alone, and the real bytes of a loaded model.

`estimate_memory` is the one place this arithmetic lives (the model advisor reuses it): weights at each
dtype from the exact parameter count of the meta-device model, the KV cache at a context and batch,
and a stated runtime overhead.
"""

from __future__ import annotations

from typing import Any

from llmkit.errors import ConfigError
from llmkit.internals.arch import as_config, count_params, meta_model
from llmkit.internals.types import MemoryEstimate

# Bits per weight. int8: one byte plus an fp32 scale per output row (hidden size ~1000 -> ~0.03 bit).
# 4bit: 4 bits plus an fp16 scale and zero per group of 64 (0.5 bit), the common HQQ/quanto/NF4 layout;
# llama.cpp's Q4_K_M is ~4.8 bits (mixed Q4_K/Q6_K).
BITS_PER_WEIGHT = {"fp32": 32.0, "bf16": 16.0, "fp16": 16.0, "int8": 8.03, "4bit": 4.5}
KV_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2, "int8": 2, "4bit": 2}  # quantized weights keep a 16-bit cache


def estimate_memory(config: Any, dtype: str = "bf16", context: int | None = None, batch: int = 1) -> MemoryEstimate:
    """Bytes to hold the weights (every dtype), the KV cache for `batch` sequences of `context` tokens
    (default: the model's context window) and the runtime overhead, from a config alone (a
    PretrainedConfig or a config.json dict). `dtype` is the one the total uses."""
    if dtype not in BITS_PER_WEIGHT:
        raise ConfigError(f"dtype must be one of {', '.join(BITS_PER_WEIGHT)}, got {dtype!r}")
    config = as_config(config)
    text = config.get_text_config()
    context = int(context or getattr(text, "max_position_embeddings", 0) or 4096)
    if context < 1 or batch < 1:
        raise ConfigError(f"context and batch must be positive, got context={context}, batch={batch}")
    params, _ = count_params(meta_model(config))
    weights = {name: round(params * bits / 8) for name, bits in BITS_PER_WEIGHT.items()}
    per_token, kv_total, notes = _kv_cache(text, context, batch, KV_BYTES[dtype])
    overhead = _overhead(text, context, batch)
    notes.append("overhead: the logits of one position per sequence and one layer's prefill activations "
                 "at fp32 (framework and allocator overhead come on top, ~0.3-1 GB for PyTorch itself)")
    return MemoryEstimate(
        params=params, weights_bytes=weights, bits_per_weight=dict(BITS_PER_WEIGHT),
        kv_cache_bytes=kv_total, kv_bytes_per_token=per_token, overhead_bytes=overhead, context=context,
        batch=batch, dtype=dtype, total_bytes=weights[dtype] + kv_total + overhead, notes=notes,
    )  # fmt: skip


def _kv_cache(text: Any, context: int, batch: int, element: int) -> tuple[int, int, list[str]]:
    """(bytes per token over all layers, bytes for the whole cache, notes). Sliding-window layers
    (Gemma 2/3, Mistral) hold at most their window."""
    heads = text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    layers = text.num_hidden_layers
    per_layer_token = 2 * kv_heads * head_dim * element  # K and V
    window = getattr(text, "sliding_window", None)
    kinds = list(getattr(text, "layer_types", None) or ["full_attention"] * layers)
    if window and "sliding_attention" not in kinds and getattr(text, "use_sliding_window", True):
        kinds = ["sliding_attention"] * layers  # one window for every layer (Mistral-style config)
    sliding = sum(1 for k in kinds if k == "sliding_attention") if window else 0
    held = (layers - sliding) * context + sliding * min(context, window or context)
    notes = [f"KV cache: 2 (K,V) x {kv_heads} KV heads x {head_dim} head dim x {element} bytes per layer per token"]
    if sliding:
        notes.append(f"{sliding} of {layers} layers use a {window}-token sliding window")
    return per_layer_token * layers, per_layer_token * held * batch, notes


def _overhead(text: Any, context: int, batch: int) -> int:
    hidden = text.hidden_size
    intermediate = getattr(text, "intermediate_size", None) or 4 * hidden
    logits = batch * text.vocab_size * 4
    activations = batch * context * (4 * hidden + 2 * intermediate) * 4
    return logits + activations


def tensor_bytes(tensor: Any) -> int:
    """Real bytes of a tensor, including quantized tensor subclasses (quanto, torchao), whose numel and
    element_size describe the float tensor they stand for, not what they store."""
    flatten = getattr(type(tensor), "__tensor_flatten__", None)
    if flatten is not None:
        names, _ = tensor.__tensor_flatten__()
        return sum(tensor_bytes(getattr(tensor, n)) for n in names)
    if hasattr(tensor, "is_quantized") and tensor.is_quantized:
        return tensor.numel() * tensor.element_size() + 8 * max(1, tensor.shape[0] if tensor.dim() else 1)
    return tensor.numel() * tensor.element_size()


def measured_bytes(model: Any) -> int:
    """Bytes of every parameter, buffer and packed weight the model holds, each tensor once (tied
    weights share one). `get_memory_footprint()` reports the float size for some quantizers."""
    import torch

    seen: set[tuple[Any, ...]] = set()
    total = 0
    for value in _state_tensors(model.state_dict(keep_vars=True)):
        key = _identity(value)
        if key in seen:
            continue
        seen.add(key)
        total += tensor_bytes(value)
    for module in model.modules():  # HQQ keeps its scales and zeros outside the state dict
        meta = getattr(module, "meta", None)
        if isinstance(meta, dict):
            total += sum(tensor_bytes(v) for v in meta.values() if isinstance(v, torch.Tensor))
    return total


def _state_tensors(values: Any) -> list[Any]:
    import torch

    if isinstance(values, torch.Tensor):
        return [values]
    if isinstance(values, dict):
        return [t for v in values.values() for t in _state_tensors(v)]
    if isinstance(values, (list, tuple)):
        return [t for v in values for t in _state_tensors(v)]
    return []


def _identity(tensor: Any) -> tuple[Any, ...]:
    try:
        if tensor.numel():
            return (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tensor.numel(), str(tensor.dtype))
    except (RuntimeError, NotImplementedError, TypeError):
        pass
    return ("id", id(tensor))

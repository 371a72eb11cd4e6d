"""Typed results of the internals lab. Each has `to_dict()` (JSON-ready), which `--json` prints as is."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from llmkit.events import plain


class _Plain:
    def to_dict(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


@dataclass
class ModuleInfo(_Plain):
    name: str  # dotted path in the model ("model.layers.0.self_attn")
    cls: str  # class name
    params: int  # parameters of this module and its children (tied weights counted once)
    shapes: dict[str, list[int]] = field(default_factory=dict)  # own parameters: name -> shape
    depth: int = 0


@dataclass
class ArchReport(_Plain):
    model: str
    architecture: str  # the model class, e.g. LlamaForCausalLM
    summary: dict[str, Any]  # the config in plain words: layers, heads, kv_heads, head_dim, rope, ...
    total_params: int
    params_by_kind: dict[str, int]  # embedding, attention, mlp, norm, head, other
    tied: list[list[str]]  # groups of parameter names that share one tensor
    modules: list[ModuleInfo]


@dataclass
class MemoryEstimate(_Plain):
    """Bytes from the config alone: weights per dtype, KV cache at (context, batch), runtime overhead."""

    params: int
    weights_bytes: dict[str, int]  # fp32, bf16, fp16, int8, 4bit
    bits_per_weight: dict[str, float]
    kv_cache_bytes: int
    kv_bytes_per_token: int
    overhead_bytes: int
    context: int
    batch: int
    dtype: str  # the dtype the total uses (weights and KV cache)
    total_bytes: int
    notes: list[str] = field(default_factory=list)


@dataclass
class MemoryReport(_Plain):
    model: str
    estimate: MemoryEstimate
    gguf_file_bytes: int | None = None  # the GGUF's own size on disk, when the model is one
    measured_bytes: int | None = None  # real parameter + buffer bytes of the loaded model
    measured_dtype: str | None = None
    estimate_error_pct: float | None = None  # (estimate - measured) / measured for the loaded dtype


@dataclass
class AttentionReport(_Plain):
    model: str
    tokens: list[str]
    layers: list[int]
    heads: list[int]
    attention: Any  # numpy float32 [layer][head][query][key] of the selected layers/heads (lists in JSON)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def to_dict(self, decimals: int = 4) -> dict[str, Any]:
        data = super().to_dict()
        data["attention"] = self.attention.round(decimals).tolist()
        return data


@dataclass
class HiddenReport(_Plain):
    model: str
    tokens: list[str]
    norms: list[float]  # per layer (0 = embeddings): mean L2 norm over positions
    norms_per_position: list[list[float]]  # [layer][position]
    cosine_to_next: list[float]  # per layer i: mean cosine similarity of layer i and i+1
    files: list[str] = field(default_factory=list)


@dataclass
class LensToken(_Plain):
    id: int
    token: str
    prob: float


@dataclass
class LensLayer(_Plain):
    layer: int
    top: list[list[LensToken]]  # per position, the top-k next tokens


@dataclass
class LensReport(_Plain):
    model: str
    tokens: list[str]
    layers: list[LensLayer]  # each layer's `top` has one entry per position in `positions`
    positions: list[int] = field(default_factory=list)  # input positions read (the last ones of a long input)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


@dataclass
class SaliencyReport(_Plain):
    model: str
    tokens: list[str]
    target: LensToken  # the next token whose prediction is explained
    gradient_x_input: list[float]  # per input token, normalised to sum 1
    attention_rollout: list[float]  # per input token, the last position's row of the rollout
    # Decoders park most attention on the first token (an "attention sink"), so rollout piles up
    # there; this is the same row over tokens 1.. renormalised, which shows the rest.
    rollout_without_first: list[float]
    files: list[str] = field(default_factory=list)

"""Model internals lab: architecture and parameter counts from a config alone (meta device), memory
arithmetic (`estimate_memory`, reused by the model advisor), and probes on a loaded model: attention
weights, hidden states, the logit lens and saliency, with PNG and standalone HTML pictures."""

from llmkit.internals.arch import as_config, config_summary, describe_architecture, meta_model
from llmkit.internals.memory import BITS_PER_WEIGHT, estimate_memory, measured_bytes, tensor_bytes
from llmkit.internals.probes import MAX_TOKENS, eager_attention, final_norm, lens_logits
from llmkit.internals.render import require_matplotlib
from llmkit.internals.service import (
    architecture,
    attention,
    hidden,
    lens,
    load_for_inspection,
    memory,
    resolve_config,
    saliency,
)
from llmkit.internals.types import (
    ArchReport,
    AttentionReport,
    HiddenReport,
    LensLayer,
    LensReport,
    LensToken,
    MemoryEstimate,
    MemoryReport,
    ModuleInfo,
    SaliencyReport,
)

__all__ = [
    "BITS_PER_WEIGHT",
    "MAX_TOKENS",
    "ArchReport",
    "AttentionReport",
    "HiddenReport",
    "LensLayer",
    "LensReport",
    "LensToken",
    "MemoryEstimate",
    "MemoryReport",
    "ModuleInfo",
    "SaliencyReport",
    "architecture",
    "as_config",
    "attention",
    "config_summary",
    "describe_architecture",
    "eager_attention",
    "estimate_memory",
    "final_norm",
    "hidden",
    "lens",
    "lens_logits",
    "load_for_inspection",
    "measured_bytes",
    "memory",
    "meta_model",
    "require_matplotlib",
    "resolve_config",
    "saliency",
    "tensor_bytes",
]

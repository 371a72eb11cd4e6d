"""Quantization lab: each method (fp32, bf16, fp16, torch int8-dynamic, bitsandbytes, quanto, torchao,
HQQ, the GGUF through llama.cpp; GPTQ/AWQ on a GPU) loads in its own process and is measured on the
same tokens: real weight bytes, peak memory, sliding-window perplexity, bits per byte, KL divergence and
top-1 agreement against fp32, prompt and decode speed."""

from llmkit.quant.measure import bits_per_byte, perplexity, windows
from llmkit.quant.methods import CPU_METHODS, Method, get_method, method_names, register_method
from llmkit.quant.render import plot_quality_vs_memory, table_markdown
from llmkit.quant.service import REFERENCE, default_text, run_quant, stream_quant
from llmkit.quant.types import ROW_FIELDS, QuantDone, QuantEvent, QuantProgress, QuantReport, QuantRequest, QuantRow

__all__ = [
    "CPU_METHODS",
    "REFERENCE",
    "ROW_FIELDS",
    "Method",
    "QuantDone",
    "QuantEvent",
    "QuantProgress",
    "QuantReport",
    "QuantRequest",
    "QuantRow",
    "bits_per_byte",
    "default_text",
    "get_method",
    "method_names",
    "perplexity",
    "plot_quality_vs_memory",
    "register_method",
    "run_quant",
    "stream_quant",
    "table_markdown",
    "windows",
]

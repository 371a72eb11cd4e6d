"""The internals lab: resolve a model, load it (fp32 on the CPU unless told), run a probe, draw it.

`llmkit inspect ...` and any other adapter call these; the probes themselves live in `probes`, the
memory arithmetic in `memory`, the pictures in `render`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmkit.config import Settings, load_settings
from llmkit.errors import ConfigError
from llmkit.internals import probes, render
from llmkit.internals.arch import as_config, describe_architecture
from llmkit.internals.memory import estimate_memory, measured_bytes
from llmkit.internals.types import (
    ArchReport,
    AttentionReport,
    HiddenReport,
    LensReport,
    MemoryReport,
    SaliencyReport,
)
from llmkit.models import Catalog, LoadedModel, LoadOptions, load_transformers, weights_source

_DTYPE_NAMES = {"torch.float32": "fp32", "torch.bfloat16": "bf16", "torch.float16": "fp16"}


def resolve_config(model: str | None, settings: Settings | None = None) -> tuple[str, Any, Path | None]:
    """(name, config, GGUF file or None) from a config.json file, a model directory, or any model name
    the catalog resolves. A GGUF is converted once (cached) to read its config."""
    from transformers import AutoConfig

    settings = settings or load_settings()
    name = model or settings.default_model
    path = Path(name).expanduser()
    if path.suffix == ".json" and path.is_file():
        try:
            return path.name, as_config(json.loads(path.read_text("utf-8"))), None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    entry = Catalog.load(settings).resolve(name)
    source, _ = weights_source(entry, settings)
    return entry.name, AutoConfig.from_pretrained(source), entry.gguf_file


def load_for_inspection(model: str | None = None, precision: str = "fp32", settings: Settings | None = None,
                        device: str = "cpu") -> LoadedModel:  # fmt: skip
    settings = settings or load_settings()
    entry = Catalog.load(settings).resolve(model or settings.default_model)
    return load_transformers(entry, LoadOptions(precision=precision, device=device), settings)


def architecture(model: str | None = None, settings: Settings | None = None) -> ArchReport:
    name, config, _ = resolve_config(model, settings)
    return describe_architecture(config, name)


def memory(model: str | None = None, context: int | None = None, batch: int = 1, dtype: str = "bf16",
           loaded: LoadedModel | None = None, settings: Settings | None = None) -> MemoryReport:  # fmt: skip
    """The estimate from the config; with `loaded`, also the measured bytes and the estimate's error
    at the loaded dtype."""
    name, config, gguf = resolve_config(model, settings) if loaded is None else (
        loaded.entry.name, loaded.config, loaded.entry.gguf_file)  # fmt: skip
    report = MemoryReport(name, estimate_memory(config, dtype, context, batch))
    if gguf is not None and gguf.is_file():
        report.gguf_file_bytes = gguf.stat().st_size
    if loaded is not None:
        measured_dtype = _DTYPE_NAMES.get(str(loaded.dtype), "fp32")
        report.measured_bytes = measured_bytes(loaded.model)
        report.measured_dtype = measured_dtype
        expected = report.estimate.weights_bytes[measured_dtype]
        report.estimate_error_pct = round(100 * (expected - report.measured_bytes) / report.measured_bytes, 3)
    return report


def _out(out_dir: Path | str | None) -> Path | None:
    return Path(out_dir) if out_dir else None


def attention(loaded: LoadedModel, text: str, layers: Any = "auto", heads: Any = "all",
              out_dir: Path | str | None = None, max_tokens: int = probes.MAX_TOKENS) -> AttentionReport:  # fmt: skip
    report = probes.attention(loaded.model, loaded.tokenizer, text, layers, heads,
                              model_name=loaded.entry.name, max_tokens=max_tokens)  # fmt: skip
    if (folder := _out(out_dir)) is not None:
        pngs = render.attention_pngs(report, folder)
        if len(pngs) < len(report.layers):
            report.notes.append(f"PNGs drawn for {len(pngs)} of {len(report.layers)} layers; the HTML page has all")
        report.files = [str(p) for p in [*pngs, render.attention_html(report, folder / "attention.html")]]
    return report


def hidden(loaded: LoadedModel, text: str, out_dir: Path | str | None = None,
           max_tokens: int = probes.MAX_TOKENS) -> HiddenReport:  # fmt: skip
    report = probes.hidden_states(loaded.model, loaded.tokenizer, text, model_name=loaded.entry.name,
                                  max_tokens=max_tokens)  # fmt: skip
    if (folder := _out(out_dir)) is not None:
        report.files = [str(render.hidden_png(report, folder / "hidden.png"))]
    return report


def lens(loaded: LoadedModel, text: str, top: int = 5, out_dir: Path | str | None = None,
         max_tokens: int = probes.MAX_TOKENS, positions: int = probes.LENS_POSITIONS) -> LensReport:  # fmt: skip
    report = probes.logit_lens(loaded.model, loaded.tokenizer, text, top, model_name=loaded.entry.name,
                               max_tokens=max_tokens, positions=positions)  # fmt: skip
    if (folder := _out(out_dir)) is not None:
        report.files = [str(render.lens_png(report, folder / "lens.png"))]
    return report


def saliency(loaded: LoadedModel, text: str, out_dir: Path | str | None = None,
             max_tokens: int = probes.MAX_TOKENS) -> SaliencyReport:  # fmt: skip
    report = probes.saliency(loaded.model, loaded.tokenizer, text, model_name=loaded.entry.name,
                             max_tokens=max_tokens)  # fmt: skip
    if (folder := _out(out_dir)) is not None:
        report.files = [str(render.saliency_html(report, folder / "saliency.html"))]
    return report

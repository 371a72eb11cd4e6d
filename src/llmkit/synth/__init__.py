"""Synthetic data from declarative specs: column kinds (llmkit.synth.kinds, one module each: sampler,
expression, reference, timeseries, hierarchy, llm / llm_object), rules, exact row counts, seeds, export
to CSV / JSONL / Parquet / SQLite / HF datasets, and a quality report (llmkit.synth.report)."""

from llmkit.synth.generate import ExpressionFailed, GenerationFailed, generate
from llmkit.synth.kinds import ColumnKind, register_kind
from llmkit.synth.output import OutputError
from llmkit.synth.service import SynthProgress, resolve_spec, run, template_names
from llmkit.synth.spec import DatasetSpec, SpecError, load_spec, parse_spec

__all__ = [
    "ColumnKind",
    "DatasetSpec",
    "ExpressionFailed",
    "GenerationFailed",
    "OutputError",
    "SpecError",
    "SynthProgress",
    "generate",
    "load_spec",
    "parse_spec",
    "register_kind",
    "resolve_spec",
    "run",
    "template_names",
]

"""Synthetic data from declarative specs: column kinds (llmkit.synth.kinds, one module each: sampler,
expression, reference, timeseries, hierarchy, llm / llm_object), rules, exact row counts, seeds, export
to CSV / JSONL / Parquet / SQLite / HF datasets, and a quality report (llmkit.synth.report)."""

from llmkit.synth.generate import ExpressionFailed, GenerationFailed, generate
from llmkit.synth.kinds import ColumnKind, register_kind
from llmkit.synth.output import OutputError
from llmkit.synth.report import build_report, load_tables, write_report
from llmkit.synth.schema import spec_json_schema
from llmkit.synth.service import (
    SynthProgress,
    resolve_spec,
    resume_point,
    run,
    space_needed,
    template_names,
    template_path,
)
from llmkit.synth.spec import DatasetSpec, SpecError, load_spec, parse_spec

__all__ = [
    "ColumnKind",
    "DatasetSpec",
    "ExpressionFailed",
    "GenerationFailed",
    "OutputError",
    "SpecError",
    "SynthProgress",
    "build_report",
    "generate",
    "load_spec",
    "load_tables",
    "parse_spec",
    "register_kind",
    "resolve_spec",
    "resume_point",
    "run",
    "space_needed",
    "spec_json_schema",
    "template_names",
    "template_path",
    "write_report",
]

"""Synthetic data from declarative specs (work in progress, issue 4): sampler, expression and reference
columns, rules, exact row counts, seeds, CSV / JSONL / SQLite export."""

from llmkit.synth.generate import ExpressionFailed, GenerationFailed, generate
from llmkit.synth.output import OutputError
from llmkit.synth.service import SynthProgress, resolve_spec, run, template_names
from llmkit.synth.spec import DatasetSpec, SpecError, load_spec, parse_spec

__all__ = [
    "DatasetSpec",
    "ExpressionFailed",
    "GenerationFailed",
    "OutputError",
    "SpecError",
    "SynthProgress",
    "generate",
    "load_spec",
    "parse_spec",
    "resolve_spec",
    "run",
    "template_names",
]

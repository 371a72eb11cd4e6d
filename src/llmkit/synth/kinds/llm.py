"""`llm` (free text from a prompt over the row) and `llm_object` (several columns from one JSON reply under
a schema). Here: their options, checks and schema; the writing itself is llmkit.synth.llm.LlmColumn,
which the run's factory builds (it holds the engine, loaded only when a spec has such columns)."""

from __future__ import annotations

import re
from typing import Any

from llmkit.synth.draw import DrawContext, GenerationFailed
from llmkit.synth.fields import need
from llmkit.synth.kinds import ColumnKind, register_kind
from llmkit.synth.types import ColumnSpec, SpecError

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
LLM_OPTIONS = {
    "prompt": str,
    "system": str,
    "model": str,
    "models": list,
    "backend": str,
    "personas": list,
    "max_tokens": int,
    "temperature": (int, float),
    "top_p": (int, float),
    "retries": int,
    "min_chars": int,
    "max_chars": int,
    "near_duplicate": (int, float, bool),
    "schema": dict,
    "constrained": (bool, str),
}


def _check_options(params: dict[str, Any], path: str) -> None:
    for key, value in params.items():
        expected = LLM_OPTIONS.get(key)
        if expected is None:
            raise SpecError(f"{path}.{key}", f"unknown option; known: {', '.join(LLM_OPTIONS)}")
        if not isinstance(value, expected):
            raise SpecError(f"{path}.{key}", f"expected {getattr(expected, '__name__', 'a number')}")
    for key in ("models", "personas"):
        if key in params and (not params[key] or not all(isinstance(v, str) for v in params[key])):
            raise SpecError(f"{path}.{key}", "expected a non-empty list of strings")
    if params.get("max_tokens", 1) < 1:
        raise SpecError(f"{path}.max_tokens", "must be >= 1")
    if params.get("retries", 0) < 0:
        raise SpecError(f"{path}.retries", "must be >= 0")


def parse(column: ColumnSpec, path: str) -> None:
    params = column.params
    prompt = need(params, "prompt", path, str)
    _check_options(params, path)
    column.depends_on = sorted({n for n in PLACEHOLDER.findall(prompt) if n != "persona"})
    if "{persona}" in prompt and "personas" not in params:
        raise SpecError(f"{path}.prompt", "uses {persona} but the column lists no personas")


def parse_object(column: ColumnSpec, path: str) -> None:
    """As `llm`, plus the reply's schema: an object whose properties become the columns."""
    parse(column, path)
    schema = need(column.params, "schema", path, dict)
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, dict) or not properties:
        raise SpecError(f"{path}.schema", "expected {type: object, properties: {...}}")
    column.outputs = list(properties)
    # Every field required, no others: a reply missing one would leave a blank cell.
    column.params["schema"] = {"required": list(properties), "additionalProperties": False, **schema}


def _json_type(kind: Any) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "string", int: "number", float: "number", bool: "boolean", list: "array", dict: "object"}
    found = sorted({names[k] for k in kinds})
    return found[0] if len(found) == 1 else found


def json_schema() -> dict[str, Any]:
    """One shape for both kinds (llm_object only adds `schema`, which is among the options)."""
    options = {key: {"type": _json_type(kind)} for key, kind in LLM_OPTIONS.items()}
    options["schema"] = {"type": "object", "description": "JSON Schema of the reply: {type: object, properties: ...}"}
    return {
        "title": "llm / llm_object",
        "properties": {"kind": {"enum": ["llm", "llm_object"]}, **options},
        "required": ["name", "kind", "prompt"],
    }


def _filler(column: ColumnSpec, context: DrawContext) -> Any:
    if context.llm_columns is None:
        raise GenerationFailed(f"{context.table.name}.{column.name}: LLM columns need an engine")
    return context.llm_columns(column, context.table)


_LLM = {"drawer": _filler, "per_row": True, "uses_llm": True, "inputs_field": "prompt"}
register_kind(ColumnKind("llm", parse, json_schema=json_schema, order=40, **_LLM))
register_kind(ColumnKind("llm_object", parse_object, order=41, **_LLM))

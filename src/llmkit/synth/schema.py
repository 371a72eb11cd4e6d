"""The JSON Schema of dataset specs, for editors (completion and checks while typing YAML).

The parser in spec.py is the authority (it also checks what a schema cannot: cycles, unknown columns,
parents before children); this schema states the same shapes. Each column kind's fragment comes from its
module in llmkit.synth.kinds. docs/synth-spec.schema.json is this function's output, kept in step by a
test. In VS Code (YAML extension), start a spec with
`# yaml-language-server: $schema=<path or URL of synth-spec.schema.json>`.
"""

from __future__ import annotations

from typing import Any

from llmkit.synth.kinds import column_kinds
from llmkit.synth.spec import RULES

# Fields every column has, whatever its kind; listed first in each kind's properties.
_COMMON = {"name": {"type": "string"}, "hidden": {"type": "boolean", "description": "computed, not exported"}}
_RULE = {
    "type": "object",
    "minProperties": 1,
    "maxProperties": 1,
    "propertyNames": {"enum": list(RULES)},
    "description": "unique: col | not_null: col | range: {column, min, max} | regex: {column, pattern} | check: expr",
}
_LOCALE = {
    "description": "Faker locale (en_US), a list, or {locale: weight}: each row draws one",
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "additionalProperties": {"type": "number"}},
    ],
}


def _column_shapes() -> list[dict[str, Any]]:
    """One shape per registered kind (kinds sharing a shape register one fragment between them)."""
    shapes = []
    for kind in column_kinds():
        if kind.json_schema is not None:
            fragment = kind.json_schema()
            shapes.append({**fragment, "properties": {**_COMMON, **fragment["properties"]}})
    return shapes


def _table_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["name", "rows", "columns"],
        "properties": {
            "name": {"type": "string"},
            "rows": {"type": "integer", "minimum": 0},
            "locale": _LOCALE,
            "batch_rows": {"type": "integer", "minimum": 1},
            "fixed_rows": {"type": "boolean", "description": "keep rows when --rows resizes"},
            "columns": {"type": "array", "items": {"anyOf": _column_shapes()}},
            "rules": {"type": "array", "items": _RULE},
        },
    }


def spec_json_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "llmkit synthetic dataset spec",
        "type": "object",
        "required": ["tables"],
        "properties": {
            "name": {"type": "string"},
            "seed": {"type": "integer"},
            "tables": {"type": "array", "minItems": 1, "items": _table_schema()},
        },
    }

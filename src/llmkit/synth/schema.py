"""The JSON Schema of dataset specs, for editors (completion and checks while typing YAML).

The parser in spec.py is the authority (it also checks what a schema cannot: cycles, unknown columns,
parents before children); this schema states the same shapes. docs/synth-spec.schema.json is this
function's output, kept in step by a test. In VS Code (YAML extension), start a spec with
`# yaml-language-server: $schema=<path or URL of synth-spec.schema.json>`.
"""

from __future__ import annotations

from typing import Any

from llmkit.synth.spec import LLM_OPTIONS, RULES, SAMPLERS

_NUMBER = {"type": "number"}
_DATE = {"type": "string", "description": "ISO date or datetime, e.g. 2024-01-31"}


def _column_kinds() -> list[dict[str, Any]]:
    base = {"name": {"type": "string"}, "hidden": {"type": "boolean", "description": "computed, not exported"}}
    llm = {key: {"type": _json_type(kind)} for key, kind in LLM_OPTIONS.items()}
    llm["schema"] = {"type": "object", "description": "JSON Schema of the reply: {type: object, properties: ...}"}
    return [
        {
            "title": "sampler",
            "properties": {
                **base,
                "kind": {"const": "sampler"},
                "sampler": {"enum": list(SAMPLERS)},
                "start": {},
                "end": {},
                "min": _NUMBER,
                "max": _NUMBER,
                "mean": _NUMBER,
                "std": _NUMBER,
                "lam": _NUMBER,
                "p": _NUMBER,
                "decimals": {"type": "integer"},
                "values": {"type": "array"},
                "weights": {"type": "array", "items": _NUMBER},
                "provider": {"type": "string", "description": "a Faker provider, e.g. name, city, iban"},
                "args": {"type": "object"},
                "pool": {"type": "integer", "minimum": 1},
            },  # fmt: skip
            "required": ["name", "sampler"],
        },
        {
            "title": "expression",
            "properties": {**base, "kind": {"const": "expression"}, "expression": {"type": "string"}},
            "required": ["name", "kind", "expression"],
        },
        {
            "title": "reference",
            "properties": {
                **base,
                "kind": {"const": "reference"},
                "table": {"type": "string"},
                "column": {"type": "string"},
                "bring": {"type": "array", "items": {"type": "string"}},
                "per_parent": {
                    "type": "object",
                    "properties": {
                        "distribution": {"enum": ["fixed", "uniform", "poisson"]},
                        "n": {"type": "integer"},
                        "min": {"type": "integer"},
                        "max": {"type": "integer"},
                        "lam": _NUMBER,
                    },  # fmt: skip
                    "required": ["distribution"],
                },
            },
            "required": ["name", "kind", "table", "column"],
        },
        {
            "title": "llm / llm_object",
            "properties": {**base, "kind": {"enum": ["llm", "llm_object"]}, **llm},
            "required": ["name", "kind", "prompt"],
        },
        {
            "title": "timeseries",
            "properties": {
                **base,
                "kind": {"const": "timeseries"},
                "entity": {"type": "string", "description": "a reference column: one series per parent"},
                "role": {"enum": ["time", "value"]},
                "start": _DATE,
                "every": {"type": ["string", "number"]},
                "spread": {"type": ["string", "number"]},
                "jitter": _NUMBER,
                "trend": _NUMBER,
                "noise": _NUMBER,
                "min": _NUMBER,
                "max": _NUMBER,
                "decimals": {"type": "integer"},
                "level": {"type": "object", "properties": {"mean": _NUMBER, "std": _NUMBER}},
                "season": {
                    "type": "object",
                    "properties": {"period": _NUMBER, "amplitude": _NUMBER, "random_phase": {"type": "boolean"}},
                },
            },  # fmt: skip
            "required": ["name", "kind", "entity"],
        },
        {
            "title": "hierarchy",
            "properties": {
                **base,
                "kind": {"const": "hierarchy"},
                "key": {"type": "string"},
                "fanout": {"type": "integer", "minimum": 1},
                "role": {"enum": ["manager", "level"]},
            },
            "required": ["name", "kind", "key", "fanout"],
        },
    ]


def _json_type(kind: Any) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "string", int: "number", float: "number", bool: "boolean", list: "array", dict: "object"}
    found = sorted({names[k] for k in kinds})
    return found[0] if len(found) == 1 else found


def spec_json_schema() -> dict[str, Any]:
    rule = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "propertyNames": {"enum": list(RULES)},
        "description": "unique: col | not_null: col | range: {column, min, max} | regex: {column, pattern} | check: expr",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "llmkit synthetic dataset spec",
        "type": "object",
        "required": ["tables"],
        "properties": {
            "name": {"type": "string"},
            "seed": {"type": "integer"},
            "tables": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["name", "rows", "columns"],
                    "properties": {
                        "name": {"type": "string"},
                        "rows": {"type": "integer", "minimum": 0},
                        "locale": {
                            "description": "Faker locale (en_US), a list, or {locale: weight}: each row draws one",
                            "anyOf": [
                                {"type": "string"},
                                {"type": "array", "items": {"type": "string"}},
                                {"type": "object", "additionalProperties": {"type": "number"}},
                            ],
                        },
                        "batch_rows": {"type": "integer", "minimum": 1},
                        "fixed_rows": {"type": "boolean", "description": "keep rows when --rows resizes"},
                        "columns": {"type": "array", "items": {"anyOf": _column_kinds()}},
                        "rules": {"type": "array", "items": rule},
                    },
                },
            },
        },
    }

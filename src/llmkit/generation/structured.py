"""JSON replies: find the object in a model's text and check it against a JSON Schema.

The checker covers the keywords structured generation uses (type, properties, required, enum, const,
minimum/maximum, minLength/maxLength, pattern, items, minItems/maxItems, additionalProperties: false),
so a reply from an unconstrained backend is held to the same bar as a grammar-constrained one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmkit.generation.types import ChatMessage, SamplingParams

if TYPE_CHECKING:
    from llmkit.generation.service import Engine

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def parse_json_object(raw: str) -> dict | None:
    """The first-to-last-brace span of `raw` as a JSON object, or None."""
    start, end = raw.find("{"), raw.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(raw[start : end + 1])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def schema_errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Why `value` does not match `schema` (empty when it does), each with its JSON path."""
    errors: list[str] = []
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        allowed = tuple(t for k in kinds for t in _TYPES.get(k, (object,)))
        is_bool = isinstance(value, bool)
        if not isinstance(value, allowed) or (is_bool and "boolean" not in kinds):
            return [f"{path}: expected {' or '.join(kinds)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: expected {schema['const']!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > maximum {schema['maximum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: does not match {schema['pattern']!r}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: more than {schema['maxItems']} items")
        for i, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), f"{path}[{i}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        errors += [f"{path}.{key}: missing" for key in schema.get("required", []) if key not in value]
        if schema.get("additionalProperties") is False:
            errors += [f"{path}.{key}: not allowed" for key in value if key not in properties]
        for key, sub in properties.items():
            if key in value:
                errors += schema_errors(value[key], sub, f"{path}.{key}")
    return errors


@dataclass(frozen=True)
class JsonReply:
    """A model's reply under a JSON Schema, with how it was obtained."""

    value: dict | None  # the object, valid under the schema; None when every attempt failed
    raw: str  # the last reply's text, kept (also when it stayed invalid)
    attempts: int
    constrained: bool  # the backend's decoding was held to the schema
    errors: tuple[str, ...] = ()  # why the last reply was refused; empty when valid


def generate_json(
    engine: Engine,
    messages: list[ChatMessage],
    schema: dict[str, Any],
    *,
    max_new_tokens: int,
    model: str | None = None,
    backend: str | None = None,
    retries: int = 2,
    retry_temperature: float = 0.7,
) -> JsonReply:
    """One object under `schema`: decoding constrained where the backend can (llama.cpp grammar, a
    server's structured output), every reply validated, failures retried with seeded sampling (greedy
    first, so a run repeats), the raw text kept when it stays invalid. The caller states the schema in
    its prompt too: small models follow a schema they can read better."""
    constrained = engine.capabilities(model, backend).json_schema
    raw, errors = "", ("no reply",)
    for attempt in range(1, retries + 2):
        params = SamplingParams(
            max_new_tokens=max_new_tokens,
            temperature=0.0 if attempt == 1 else retry_temperature,
            seed=None if attempt == 1 else attempt,
            json_schema=schema if constrained else None,
        )
        raw = engine.generate(messages, model=model, backend=backend, params=params).text
        value = parse_json_object(raw)
        errors = tuple(schema_errors(value, schema)) if value is not None else ("no JSON object in the reply",)
        if not errors:
            return JsonReply(value, raw, attempt, constrained)
    return JsonReply(None, raw, retries + 1, constrained, errors)

"""LLM-written columns: `llm` (free text) and `llm_object` (several columns from one JSON reply).

A batch's rows go to the engine together (`Engine.generate_many`: decoded side by side in-process,
parallel requests to a server). Each cell is checked (length for text; JSON Schema for objects) and
only the failures are asked again, with a new seed, up to `retries` times; a row still failing is
dropped for the generator to redraw, never padded. Seeds come from (spec seed, table, column, row,
attempt), so a run repeats on the same backend.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from llmkit.generation import ChatMessage, SamplingParams, parse_json_object, schema_errors
from llmkit.synth.kinds.llm import PLACEHOLDER
from llmkit.synth.spec import ColumnSpec, TableSpec

if TYPE_CHECKING:
    from llmkit.generation import Engine

DEFAULT_RETRIES = 3
_SENTENCE_END = re.compile(r"[.!?]")


@dataclass
class LlmStats:
    """Per column: how the model did. `valid_rate` = valid replies / replies."""

    column: str
    model: str
    backend: str
    constrained: bool
    requests: int = 0
    valid: int = 0
    invalid: int = 0
    not_json: int = 0  # llm_object replies that did not parse as a JSON object at all
    retries: int = 0
    dropped_rows: int = 0
    near_duplicates: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    invalid_examples: list[str] = field(default_factory=list)

    @property
    def valid_rate(self) -> float:
        return self.valid / self.requests if self.requests else 0.0

    def to_dict(self) -> dict[str, Any]:
        json_rate = 1 - self.not_json / self.requests if self.requests else 0.0
        return {**asdict(self), "valid_rate": round(self.valid_rate, 4), "json_rate": round(json_rate, 4)}


def _seed(*parts: Any) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:4], "little")


def render(template: str, row: dict[str, Any], persona: str | None) -> str:
    """Fill {column} placeholders from the row (other braces, such as JSON examples, stay as written)."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == "persona" and persona is not None:
            return persona
        if name not in row:
            return match.group(0)
        found = row[name]
        return found.isoformat() if hasattr(found, "isoformat") else str(found)

    return PLACEHOLDER.sub(value, template)


class LlmColumn:
    def __init__(self, column: ColumnSpec, table: TableSpec, seed: int, engine: Engine, default_model: str | None):
        p = column.params
        self.column, self.table, self.seed, self.engine = column, table, seed, engine
        self.models = p.get("models") or [p.get("model") or default_model or engine.settings.default_model]
        self.personas = p.get("personas") or []
        self.schema = p.get("schema") if column.kind == "llm_object" else None
        backend = p.get("backend")
        constrained = p.get("constrained", "auto")
        entry = engine.resolve(self.models[0])  # an unknown model fails here, before any row is generated
        resolved = engine.backend_name(entry, backend)
        wants_grammar = self.schema is not None and constrained is not False
        if wants_grammar and backend is None:
            backend = resolved = engine.json_backend(self.models[0])  # e.g. llama.cpp's grammar on the GGUF
        self.backend = backend
        self.constrained = wants_grammar and engine.capabilities(self.models[0], resolved).json_schema
        self.retries = int(p.get("retries", DEFAULT_RETRIES))
        self.stats = LlmStats(column.name, ", ".join(self.models), resolved, self.constrained)
        # Stated in every prompt (also when the grammar enforces it): rendered once.
        self.schema_note = (
            f"\n\nReply with JSON only, matching this JSON Schema:\n{json.dumps(self.schema)}" if self.schema else ""
        )

    def _messages(self, row: dict[str, Any], slot: int) -> list[ChatMessage]:
        p = self.column.params
        persona = self.personas[slot % len(self.personas)] if self.personas else None
        prompt = render(p["prompt"], row, persona)
        system = p.get("system")
        if persona is not None and "{persona}" not in p["prompt"]:
            system = f"{system or ''}\nWrite as this person: {persona}.".strip()
        messages = [ChatMessage("user", prompt + self.schema_note)]
        return [ChatMessage("system", system), *messages] if system else messages

    def _params(self, slot: int, attempt: int) -> SamplingParams:
        p = self.column.params
        default_tokens = 160 if self.schema is not None else 96
        return SamplingParams(
            max_new_tokens=int(p.get("max_tokens", default_tokens)),
            temperature=float(p.get("temperature", 0.8)),
            top_p=float(p.get("top_p", 0.95)),
            seed=_seed(self.seed, self.table.name, self.column.name, slot, attempt),
            json_schema=self.schema if self.constrained else None,
        )

    def parse(self, text: str, finish_reason: str) -> dict[str, Any] | None:
        """The cell values from a reply, or None when it does not pass."""
        if finish_reason == "cancelled":  # cut off (by a server, or a cancel): asked again
            return None
        if self.schema is not None:
            value = parse_json_object(text)
            if value is None:
                self.stats.not_json += 1
                return None
            if schema_errors(value, self.schema):
                return None
            properties = self.schema["properties"]
            # "number" fields stay floats even when a reply writes 30 for 30.0: one type per column on disk.
            return {
                name: float(value[name])
                if properties[name].get("type") == "number" and type(value.get(name)) is int
                else value.get(name)
                for name in self.column.outputs
            }
        return self._text(text, finish_reason)

    def _text(self, text: str, finish_reason: str) -> dict[str, Any] | None:
        p = self.column.params
        text = text.strip().strip('"').strip()
        if finish_reason == "length":  # cut at the last full sentence rather than mid-word
            end = max((m.end() for m in _SENTENCE_END.finditer(text)), default=0)
            if end >= p.get("min_chars", 1):
                text = text[:end]
        if len(text) < p.get("min_chars", 1) or ("max_chars" in p and len(text) > p["max_chars"]):
            return None
        return {self.column.name: text}

    def fill(self, rows: list[dict[str, Any]], slots: list[int]) -> list[bool]:
        """Write this column's values into `rows`; False for rows it could not fill."""
        pending = list(range(len(rows)))
        for attempt in range(self.retries + 1):
            if not pending:
                break
            if attempt:
                self.stats.retries += len(pending)
            pending = self._attempt(rows, slots, pending, attempt)
        self.stats.dropped_rows += len(pending)
        failed = set(pending)
        return [i not in failed for i in range(len(rows))]

    def _attempt(self, rows: list[dict[str, Any]], slots: list[int], pending: list[int], attempt: int) -> list[int]:
        """One round over the pending rows, grouped by model; returns the rows still without a value."""
        failed: list[int] = []
        started = time.perf_counter()
        for model_index, model in enumerate(self.models):
            group = [i for i in pending if slots[i] % len(self.models) == model_index]
            if not group:
                continue
            prompts = [self._messages(rows[i], slots[i]) for i in group]
            params = [self._params(slots[i], attempt) for i in group]
            for position, result in self.engine.generate_many(prompts, params, model=model, backend=self.backend):
                index = group[position]
                self.stats.requests += 1
                self.stats.completion_tokens += result.stats.completion_tokens
                values = self.parse(result.text, result.stats.finish_reason)
                if values is None:
                    self.stats.invalid += 1
                    if len(self.stats.invalid_examples) < 5:
                        self.stats.invalid_examples.append(result.text[:300])
                    failed.append(index)
                else:
                    self.stats.valid += 1
                    rows[index].update(values)
        self.stats.seconds += time.perf_counter() - started
        return sorted(failed)

"""The typed spec a parsed YAML becomes: datasets, tables, columns, rules; and the error that names a field.

Kept apart from spec.py (the parser) so each column kind's module can use these types while spec.py
dispatches to the kinds: imports run one way, kinds -> types, spec -> kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmkit.errors import InvalidInputError
from llmkit.synth.expressions import Expression
from llmkit.synth.kinds import column_kind


class SpecError(InvalidInputError):
    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(f"spec error at {path}: {reason}")


@dataclass
class ColumnSpec:
    name: str
    kind: str
    params: dict[str, Any]
    expression: Expression | None = None
    depends_on: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # the columns it writes: itself, or an object's fields
    hidden: bool = False  # computed for other columns (expressions, prompts) but not exported

    def __post_init__(self) -> None:
        self.outputs = self.outputs or [self.name]


@dataclass
class Rule:
    kind: str
    column: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    expression: Expression | None = None


@dataclass
class TableSpec:
    name: str
    rows: int
    locale: str
    columns: list[ColumnSpec]
    rules: list[Rule]
    batch_rows: int = 0  # 0: 10,000 rows per batch, or 64 when an LLM writes a column
    fixed_rows: bool = False  # keeps its row count when a run asks for another size (a lookup table)
    locales: list[str] = field(default_factory=list)  # several: each row draws one (its `locale` column)

    def column(self, name: str) -> ColumnSpec | None:
        """The column that writes `name` (an llm_object writes several)."""
        return next((c for c in self.columns if name in c.outputs), None)

    @property
    def output_names(self) -> list[str]:
        return [name for c in self.columns if not c.hidden for name in c.outputs]

    @property
    def uses_llm(self) -> bool:
        return any(column_kind(c.kind).uses_llm for c in self.columns)


@dataclass
class DatasetSpec:
    name: str
    seed: int
    tables: list[TableSpec]

    def table(self, name: str) -> TableSpec | None:
        return next((t for t in self.tables if t.name == name), None)

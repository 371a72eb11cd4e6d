"""`expression` columns: a value computed from the row's other columns by a safe, allow-listed expression."""

from __future__ import annotations

from typing import Any

from llmkit.synth.draw import DrawContext, ExpressionFailed
from llmkit.synth.expressions import Expression, ExpressionError
from llmkit.synth.fields import need
from llmkit.synth.kinds import ColumnKind, register_kind
from llmkit.synth.types import ColumnSpec, SpecError


def parse(column: ColumnSpec, path: str) -> None:
    source = need(column.params, "expression", path, str)
    try:
        column.expression = Expression(source)
    except ExpressionError as exc:
        raise SpecError(f"{path}.expression", str(exc)) from exc
    column.depends_on = column.expression.names


def json_schema() -> dict[str, Any]:
    return {
        "title": "expression",
        "properties": {"kind": {"const": "expression"}, "expression": {"type": "string"}},
        "required": ["name", "kind", "expression"],
    }


class ExpressionFiller:
    """Evaluates the expression on each row; an error stops the run naming the row and its inputs,
    since redrawing would hide a mistake in the spec."""

    def __init__(self, column: ColumnSpec, context: DrawContext) -> None:
        self.column, self.context = column, context
        self.where = f"{context.table.name}.{column.name}"

    def fill(self, rows: list[dict[str, Any]], slots: list[int]) -> list[bool]:
        name, expression = self.column.name, self.column.expression
        for row, slot in zip(rows, slots, strict=True):
            try:
                row[name] = expression(row)
            except Exception as exc:  # noqa: BLE001 - the user's expression: any error is theirs to see
                written = self.context.written(slot)
                raise ExpressionFailed(
                    self.where, slot, expression.source, row, expression.names, exc, written
                ) from exc
        return [True] * len(rows)


register_kind(ColumnKind("expression", parse, ExpressionFiller, json_schema, per_row=True, order=20))

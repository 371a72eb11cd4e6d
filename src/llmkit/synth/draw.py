"""What every column kind's drawer shares: the two drawer shapes, the context a drawer is built in, seeded
random streams, the one form of a value for comparisons, and the failures a run reports.

Two shapes, because they cost differently: a `ColumnDrawer` draws a whole column for a batch at once
(vectorized, before any row exists); a `RowFiller` fills its cells row by row from the row's other columns,
after the column-drawn ones, and may leave a row unfilled (an LLM reply that stays invalid) to be redrawn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from llmkit.errors import LlmkitError
from llmkit.synth.types import ColumnSpec, TableSpec


class GenerationFailed(LlmkitError):
    """The run could not deliver the rows asked for; says why and how many were kept."""


class ExpressionFailed(GenerationFailed):
    """An expression column or a check rule raised on a row (`a / 0`, `int('abc')`, a result too big)."""

    def __init__(
        self, where: str, slot: int, source: str, row: dict[str, Any], names: list[str], error: Exception, written: int
    ) -> None:
        self.where, self.row = where, slot + 1
        inputs = ", ".join(f"{name}={_short(row.get(name))}" for name in names if name in row)
        super().__init__(
            f"{where}, row {slot + 1}: {source!r} failed: {type(error).__name__}: {_short(error, 200)}"
            + (f" (with {inputs})" if inputs else "")
            + f"; fix the spec and run again ({written} rows of this table were written before it)"
        )


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, BaseException) else repr(value)
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def value_key(value: Any) -> str:
    """One form for a value whether it is fresh or read back from a file (CSV gives text)."""
    if type(value) is str:
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def random_stream(seed: int, *names: str):
    """A numpy generator seeded by the names (spec seed, table, column, batch ...): the same names, the
    same values in every process, and a new column leaves the others' streams alone."""
    import numpy as np

    digest = hashlib.sha256("|".join([str(seed), *names]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def clipped(values, params: dict[str, Any]):
    """Values held within the column's optional `min` / `max`."""
    import numpy as np

    return np.clip(values, params.get("min", -np.inf), params.get("max", np.inf))


def rounded(values, params: dict[str, Any]) -> list[Any]:
    """Plain floats, rounded to the column's `decimals` when it has them."""
    digits = params.get("decimals")
    return [round(float(v), digits) for v in values] if digits is not None else [float(v) for v in values]


class ColumnDrawer:
    """Draws whole columns for a batch's row slots at once, from its own random stream."""

    unique_by_construction = False  # True (sequence, uuid): a unique rule needs no set of seen values

    def begin(self, batch: int) -> None:
        """Reseeds for batch number `batch`; values that belong to slots (keys, tree positions) need nothing."""

    def draw(self, slots: list[int], drawn: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """Values per output column for `slots`; `drawn` holds the columns drawn before it in this batch."""
        raise NotImplementedError

    def domain_size(self) -> float:
        """How many distinct values it can give, for refusing an impossible unique rule up front."""
        return float("inf")


class RowFiller(Protocol):
    """Fills its cells into each row in place from the row's other columns (expressions, LLM replies)."""

    def fill(self, rows: list[dict[str, Any]], slots: list[int]) -> list[bool]:
        """False for a row it could not fill: that row is drawn again."""
        ...


@dataclass
class DrawContext:
    """What a kind's drawer may need when a table's generator builds it."""

    table: TableSpec
    seed: int
    parent_keys: dict[tuple[str, str], list[Any]]  # (table, column) -> values of the parent rows written
    # Built so far, in dependency order, so a series finds its entity's drawer here.
    drawers: dict[str, ColumnDrawer] = field(default_factory=dict)
    llm_columns: Callable[[ColumnSpec, TableSpec], Any] | None = None  # makes an LLM column's filler
    # Rows of the table on disk when the batch holding a slot fails, for error messages; the generator
    # knows its batch size only once every drawer is built, hence a callable.
    written: Callable[[int], int] = lambda slot: 0

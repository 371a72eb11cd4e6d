"""The registry of column kinds: each kind (`sampler`, `expression`, `reference`, `timeseries`,
`hierarchy`, `llm`, `llm_object`) lives in one module here with its parsing, its JSON Schema fragment and
its drawer, and registers itself with `register_kind`. spec.py, generate.py and schema.py only dispatch
through `column_kind` / `column_kinds`, so a new kind is one new module in this folder.

The built-in modules are found and imported on the first lookup, not at import: they import the spec
types, which import this registry.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmkit.synth.draw import DrawContext
    from llmkit.synth.types import ColumnSpec, DatasetSpec, TableSpec


@dataclass(frozen=True)
class ColumnKind:
    """One column kind: how a spec states it, how it is checked, and how its values are drawn."""

    name: str  # the `kind:` value in a spec
    # Checks the column's params (SpecError naming the field path) and sets its depends_on / outputs.
    parse: Callable[[ColumnSpec, str], None]
    # Builds the drawer for one table: a ColumnDrawer, or a RowFiller when `per_row`.
    drawer: Callable[[ColumnSpec, DrawContext], Any]
    # Its JSON Schema fragment ({title, properties, required}; `name`/`hidden` are added for every kind).
    # None when another kind's fragment covers it (llm_object shares llm's).
    json_schema: Callable[[], dict[str, Any]] | None = None
    # Checks that need the whole table (the columns it is built on have the right kinds).
    check_in_table: Callable[[TableSpec, ColumnSpec, str], None] | None = None
    # Checks that need the whole spec (a parent table that exists and comes first), given the table's index.
    check_in_spec: Callable[[DatasetSpec, int, ColumnSpec, str], None] | None = None
    # The (table, column) pairs of parent tables it reads, whose written values the run keeps.
    parent_columns: Callable[[ColumnSpec], list[tuple[str, str]]] | None = None
    per_row: bool = False  # filled row by row after the column-drawn kinds (its inputs are the row)
    uses_llm: bool = False  # written by a model: smaller batches, an engine, near-duplicate checks
    inputs_field: str = "expression"  # the field an unknown input column is reported at
    order: int = 100  # where it is listed: in the schema and in "known kinds" messages


_KINDS: dict[str, ColumnKind] = {}
_loaded = False


def register_kind(kind: ColumnKind) -> ColumnKind:
    """Adds (or replaces) a kind; built-in kinds register themselves the same way."""
    _KINDS[kind.name] = kind
    return kind


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True  # set first: the modules' own imports may look kinds up while they load
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def column_kinds() -> list[ColumnKind]:
    """Every registered kind, in listing order."""
    _load_builtins()
    return sorted(_KINDS.values(), key=lambda kind: kind.order)


def find_kind(name: Any) -> ColumnKind | None:
    _load_builtins()
    return _KINDS.get(name) if isinstance(name, str) else None


def column_kind(name: str) -> ColumnKind:
    """The kind of a parsed column (its name was checked when the spec was parsed)."""
    kind = find_kind(name)
    if kind is None:
        raise KeyError(f"unknown column kind {name!r}")
    return kind


__all__ = ["ColumnKind", "column_kind", "column_kinds", "find_kind", "register_kind"]

"""`hierarchy` columns: a tree over a sequence key, filled breadth first (row 0 at the top, then `fanout`
reports each): `role: manager` gives each row's manager key (a self foreign key), `role: level` its depth."""

from __future__ import annotations

from typing import Any

from llmkit.synth.draw import ColumnDrawer, DrawContext
from llmkit.synth.fields import need
from llmkit.synth.kinds import ColumnKind, register_kind
from llmkit.synth.types import ColumnSpec, SpecError, TableSpec

ROLES = ("manager", "level")


def parse(column: ColumnSpec, path: str) -> None:
    params = column.params
    need(params, "key", path, str)
    if params.get("role", "manager") not in ROLES:
        raise SpecError(f"{path}.role", "expected manager or level")
    if need(params, "fanout", path, int) < 1:
        raise SpecError(f"{path}.fanout", "must be >= 1")
    column.depends_on = [params["key"]]


def check_in_table(table: TableSpec, column: ColumnSpec, path: str) -> None:
    key = table.column(column.params["key"])
    if key is None or key.params.get("sampler") != "sequence":
        raise SpecError(f"{path}.key", "must name a sequence column of this table")


def json_schema() -> dict[str, Any]:
    return {
        "title": "hierarchy",
        "properties": {
            "kind": {"const": "hierarchy"},
            "key": {"type": "string"},
            "fanout": {"type": "integer", "minimum": 1},
            "role": {"enum": list(ROLES)},
        },
        "required": ["name", "kind", "key", "fanout"],
    }


class HierarchyDrawer(ColumnDrawer):
    """Positions in the tree belong to slots, so nothing is random and no batch needs reseeding."""

    def __init__(self, column: ColumnSpec, context: DrawContext) -> None:
        self.name = column.name
        self.fanout = int(column.params["fanout"])
        self.role = column.params.get("role", "manager")
        self.start = int(context.table.column(column.params["key"]).params.get("start", 1))

    def draw(self, slots: list[int], drawn: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if self.role == "manager":
            return {self.name: [None if slot == 0 else self.start + (slot - 1) // self.fanout for slot in slots]}
        return {self.name: [self._depth(slot) for slot in slots]}

    def _depth(self, slot: int) -> int:
        depth = 0
        while slot:
            slot, depth = (slot - 1) // self.fanout, depth + 1
        return depth


register_kind(ColumnKind("hierarchy", parse, HierarchyDrawer, json_schema, check_in_table=check_in_table, order=60))

"""`reference` columns: a parent table's key, with a children-per-parent distribution; `bring` copies
parent columns next to the key."""

from __future__ import annotations

from typing import Any

from llmkit.synth.draw import ColumnDrawer, DrawContext, GenerationFailed, random_stream
from llmkit.synth.fields import need
from llmkit.synth.kinds import ColumnKind, register_kind
from llmkit.synth.types import ColumnSpec, DatasetSpec, SpecError, TableSpec

DISTRIBUTIONS = ("fixed", "uniform", "poisson")


def parse(column: ColumnSpec, path: str) -> None:
    params = column.params
    need(params, "table", path, str)
    need(params, "column", path, str)
    per_parent = params.get("per_parent")
    if per_parent is not None and (
        not isinstance(per_parent, dict) or per_parent.get("distribution") not in DISTRIBUTIONS
    ):
        raise SpecError(f"{path}.per_parent", "expected {distribution: fixed|uniform|poisson, ...}")
    bring = params.get("bring", [])
    if not isinstance(bring, list) or not all(isinstance(b, str) for b in bring):
        raise SpecError(f"{path}.bring", "expected a list of the parent's column names")
    column.outputs = [column.name, *bring]


def check_in_spec(spec: DatasetSpec, index: int, column: ColumnSpec, path: str) -> None:
    """The parent table exists, has the columns named, and comes first (its keys exist when children draw)."""
    table, parent = spec.tables[index], spec.table(column.params["table"])
    if parent is None:
        raise SpecError(f"{path}.table", f"unknown table {column.params['table']!r}")
    for key, wanted in (("column", [column.params["column"]]), ("bring", column.params.get("bring", []))):
        for name in wanted:
            if parent.column(name) is None:
                raise SpecError(f"{path}.{key}", f"table {parent.name!r} has no column {name!r}")
    if spec.tables.index(parent) >= index:
        raise SpecError(f"{path}.table", f"parent table {parent.name!r} must come before {table.name!r}")


def parent_columns(column: ColumnSpec) -> list[tuple[str, str]]:
    return [(column.params["table"], name) for name in [column.params["column"], *column.outputs[1:]]]


def json_schema() -> dict[str, Any]:
    return {
        "title": "reference",
        "properties": {
            "kind": {"const": "reference"},
            "table": {"type": "string"},
            "column": {"type": "string"},
            "bring": {"type": "array", "items": {"type": "string"}},
            "per_parent": {
                "type": "object",
                "properties": {
                    "distribution": {"enum": list(DISTRIBUTIONS)},
                    "n": {"type": "integer"},
                    "min": {"type": "integer"},
                    "max": {"type": "integer"},
                    "lam": {"type": "number"},
                },  # fmt: skip
                "required": ["distribution"],
            },
        },
        "required": ["name", "kind", "table", "column"],
    }


class ReferenceDrawer(ColumnDrawer):
    """Parent keys for a child table: each parent gets a number of children from `per_parent`. Keys belong
    to slots and are drawn once for the whole table, so a redrawn row keeps its parent."""

    def __init__(self, column: ColumnSpec, context: DrawContext) -> None:
        table, parent = context.table, column.params["table"]
        parent_keys = context.parent_keys[(parent, column.params["column"])]
        if not parent_keys:
            raise GenerationFailed(f"{table.name}.{column.name}: the parent table {parent} is empty")
        self.column = column
        self.keys = _slot_keys(column, parent_keys, table, context.seed)
        position = {key: i for i, key in enumerate(parent_keys)}
        self.brought = {  # `bring`: parent columns copied next to the key, per slot
            name: [context.parent_keys[(parent, name)][position[key]] for key in self.keys]
            for name in column.outputs[1:]
        }

    def draw(self, slots: list[int], drawn: dict[str, list[Any]]) -> dict[str, list[Any]]:
        values = {self.column.name: [self.keys[slot] for slot in slots]}
        for name, brought in self.brought.items():
            values[name] = [brought[slot] for slot in slots]
        return values

    def ranks(self) -> list[int]:
        """Each slot's place among its parent's children (0, 1, 2 ...): the time step of a series."""
        ranks, previous, count = [], object(), 0
        for key in self.keys:
            count = count + 1 if key == previous else 0
            previous = key
            ranks.append(count)
        return ranks


def _slot_keys(column: ColumnSpec, parent_keys: list[Any], table: TableSpec, seed: int) -> list[Any]:
    rng = random_stream(seed, table.name, column.name)
    per_parent = column.params.get("per_parent")
    if per_parent is None:  # plain foreign key: any parent, uniformly
        return [parent_keys[i] for i in rng.integers(0, len(parent_keys), table.rows)]
    counts = _children_counts(per_parent, len(parent_keys), rng)
    keys = [key for key, count in zip(parent_keys, counts, strict=True) for _ in range(count)]
    while len(keys) < table.rows:  # top up from random parents; never fewer rows than asked
        keys.append(parent_keys[int(rng.integers(0, len(parent_keys)))])
    order = rng.permutation(len(keys))[: table.rows]
    return [keys[i] for i in sorted(order)]  # a parent's children stay together, as in real data


def _children_counts(per_parent: dict[str, Any], parents: int, rng) -> list[int]:
    if per_parent["distribution"] == "fixed":
        return [int(per_parent.get("n", 1))] * parents
    if per_parent["distribution"] == "uniform":
        return rng.integers(int(per_parent.get("min", 0)), int(per_parent.get("max", 3)) + 1, parents).tolist()
    return rng.poisson(float(per_parent.get("lam", 2.0)), parents).tolist()


register_kind(
    ColumnKind(
        "reference",
        parse,
        ReferenceDrawer,
        json_schema,
        check_in_spec=check_in_spec,
        parent_columns=parent_columns,
        order=30,
    )
)

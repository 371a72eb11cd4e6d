"""Rows from a spec: each column drawn by its kind's drawer (llmkit.synth.kinds), rules enforced.

Column-drawn kinds (samplers, references, series, hierarchies) fill a whole batch at once, vectorized;
row-filled kinds (expressions, LLM columns) then fill each row from its other columns.

Reproducible: every column draws from its own random stream, seeded by (spec seed, table, column, batch),
so the same spec and seed give byte-identical files, adding a column does not change the others, and a
killed run resumes at its next batch with the same values it would have drawn. Row slots are fixed
(sequence ids, parent keys and time steps belong to the slot), so a redrawn row keeps its place.
Exactly `rows` valid rows come out: rows breaking a rule (or an LLM cell that stays invalid) are drawn
again, up to a budget, never padded with blanks; a rule that cannot be met (unique over too small a
domain) fails before generating.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from llmkit.synth.draw import (
    ColumnDrawer,
    DrawContext,
    ExpressionFailed,
    GenerationFailed,
    RowFiller,
    value_key,
)
from llmkit.synth.kinds import column_kind
from llmkit.synth.spec import ColumnSpec, DatasetSpec, Rule, TableSpec, column_order
from llmkit.synth.text import NearDuplicateIndex

BATCH_ROWS = 10_000
LLM_BATCH_ROWS = 64  # an LLM table writes (and can resume) every 64 rows
RETRY_ROUNDS = 20


@dataclass
class TableBatch:
    table: str
    rows: list[dict[str, Any]]
    done: int  # rows of this table delivered so far, this batch included
    total: int
    index: int = 0  # the batch's number within its table


@dataclass
class TableStart:
    """Where a resumed table picks up: batches already on disk and what they hold."""

    batches: int = 0
    unique_values: dict[str, set] | None = None  # per unique-rule column, as `value_key` gives them
    texts: dict[str, list[str]] | None = None  # per llm column, for near-duplicate checks


def _text(value: Any) -> str:
    return "" if value is None else str(value)  # a missing value is empty text, not "None"


def rule_predicates(rules: list[Rule], seen: dict[str, set]) -> list[Callable[[dict[str, Any]], bool]]:
    """One test per rule, built once per table (a row passes when every test is true)."""
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for rule in rules:
        name, params = rule.column, rule.params
        if rule.kind == "not_null":
            tests.append(lambda row, n=name: row.get(n) not in (None, ""))
        elif rule.kind == "unique":
            tests.append(lambda row, n=name, s=seen[name]: value_key(row.get(n)) not in s)
        elif rule.kind == "range":
            low, high = params.get("min"), params.get("max")
            tests.append(lambda row, n=name, lo=low, hi=high: (v := row.get(n)) is None or (
                (lo is None or v >= lo) and (hi is None or v <= hi)))  # fmt: skip
        elif rule.kind == "regex":
            pattern = re.compile(params["pattern"])
            tests.append(lambda row, n=name, p=pattern: p.fullmatch(_text(row.get(n))) is not None)
        else:
            tests.append(lambda row, e=rule.expression: bool(e(row)))
    return tests


class TableGenerator:
    def __init__(
        self,
        table: TableSpec,
        spec: DatasetSpec,
        parent_keys: dict[tuple[str, str], list[Any]],
        llm_columns: Callable[[ColumnSpec, TableSpec], Any] | None = None,
        start: TableStart | None = None,
    ) -> None:
        self.table, self.spec = table, spec
        self.start = start or TableStart()
        self.order = column_order(table)
        self.drawers: dict[str, ColumnDrawer] = {}  # drawn a whole column at a time, first
        self.fillers: dict[str, RowFiller] = {}  # filled row by row from the drawn columns, after
        self.llm: dict[str, Any] = {}  # the fillers an LLM writes (LlmColumn), for stats and near-duplicates
        self._build_drawers(parent_keys, llm_columns)
        self.batch_rows = table.batch_rows or (LLM_BATCH_ROWS if self.llm else BATCH_ROWS)
        self.near_duplicates = self._near_duplicate_indexes()
        self._check_unique_domains()

    def _build_drawers(self, parent_keys: dict[tuple[str, str], list[Any]], llm_columns: Any) -> None:
        context = DrawContext(self.table, self.spec.seed, parent_keys, self.drawers, llm_columns, self._written)
        for column in self.order:  # inputs first, so a series finds its entity's drawer
            kind = column_kind(column.kind)
            drawer = kind.drawer(column, context)
            if kind.per_row:
                self.fillers[column.name] = drawer
            else:
                self.drawers[column.name] = drawer
            if kind.uses_llm:
                self.llm[column.name] = drawer

    def _near_duplicate_indexes(self) -> dict[str, NearDuplicateIndex]:
        """Per free-text LLM column (unless turned off), holding the texts a resumed run already wrote."""
        indexes = {
            name: NearDuplicateIndex(float(threshold))
            for name, llm in self.llm.items()
            if llm.column.kind == "llm" and (threshold := llm.column.params.get("near_duplicate", 0.8)) is not False
        }
        for name, texts in (self.start.texts or {}).items():
            for text in texts:
                if name in indexes:
                    indexes[name].add(text)
        return indexes

    def _check_unique_domains(self) -> None:
        for rule in self.table.rules:
            drawer = self.drawers.get(rule.column)
            if rule.kind == "unique" and drawer is not None and drawer.domain_size() < self.table.rows:
                raise GenerationFailed(
                    f"{self.table.name}.{rule.column}: unique over {self.table.rows} rows is impossible, the "
                    f"sampler has only {int(drawer.domain_size())} distinct values"
                )

    def _candidates(self, slots: list[int]) -> list[dict[str, Any] | None]:
        """A row for each slot, columns in dependency order; None where an LLM cell could not be filled."""
        drawn: dict[str, list[Any]] = {}
        for drawer in self.drawers.values():  # whole columns first, all at once; the others need the row
            drawn.update(drawer.draw(slots, drawn))
        names = list(drawn)
        rows: list[dict[str, Any]] = [
            dict(zip(names, values, strict=True)) for values in zip(*drawn.values(), strict=True)
        ]
        if not names:
            rows = [{} for _ in slots]
        alive = list(range(len(slots)))
        for filler in self.fillers.values():
            filled = filler.fill([rows[i] for i in alive], [slots[i] for i in alive])
            alive = [i for i, ok in zip(alive, filled, strict=True) if ok]
        kept = set(alive)
        return [row if i in kept else None for i, row in enumerate(rows)]

    def _fresh(self, row: dict[str, Any]) -> bool:
        """Not a near-duplicate of an earlier row's LLM text (kept texts are remembered)."""
        for name, index in self.near_duplicates.items():
            if index.duplicate_of(str(row[name])) is not None:
                self.llm[name].stats.near_duplicates += 1
                return False
        for name, index in self.near_duplicates.items():
            index.add(str(row[name]))
        return True

    def batches(self) -> Iterator[TableBatch]:
        # sequence and uuid columns are unique by construction: no set of a million keys to keep for them
        rules = [r for r in self.table.rules if not (r.kind == "unique" and self._unique_by_construction(r.column))]
        seen = {rule.column: set() for rule in rules if rule.kind == "unique"}
        for column, values in (self.start.unique_values or {}).items():
            if column in seen:
                seen[column].update(values)
        tests = rule_predicates(rules, seen)

        def passes(row: dict[str, Any], slot: int) -> bool:
            for index, test in enumerate(tests):
                try:
                    if not test(row):
                        return False
                except Exception as exc:  # noqa: BLE001 - a check expression (or a range over text) raised
                    raise self._rule_failed(rules[index], row, slot, exc) from exc
            return True

        first = self.start.batches
        for index in range(first, -(-self.table.rows // self.batch_rows)):
            for drawer in self.drawers.values():
                drawer.begin(index)
            begin = index * self.batch_rows
            want = list(range(begin, min(begin + self.batch_rows, self.table.rows)))
            kept: dict[int, dict[str, Any]] = {}
            for _attempt in range(RETRY_ROUNDS):
                missing = [slot for slot in want if slot not in kept]
                if not missing:
                    break
                for slot, row in zip(missing, self._candidates(missing), strict=True):
                    if row is not None and passes(row, slot) and self._fresh(row):
                        for column, values in seen.items():
                            values.add(value_key(row[column]))
                        kept[slot] = row
            if len(kept) < len(want):
                raise GenerationFailed(
                    f"{self.table.name}: only {begin + len(kept)} of {self.table.rows} rows meet the rules after "
                    f"{RETRY_ROUNDS} rounds of redraws (rows up to {begin} are written); " + self._why_short()
                )
            # Rows keep hidden columns; writers take the output columns by name.
            yield TableBatch(self.table.name, [kept[slot] for slot in want], want[-1] + 1, self.table.rows, index)

    def _rule_failed(self, rule: Rule, row: dict[str, Any], slot: int, error: Exception) -> ExpressionFailed:
        where, written = f"{self.table.name} rule {rule.kind}", self._written(slot)
        if rule.expression is not None:
            return ExpressionFailed(where, slot, rule.expression.source, row, rule.expression.names, error, written)
        return ExpressionFailed(where, slot, f"{rule.column} {rule.params}", row, [rule.column], error, written)

    def _written(self, slot: int) -> int:
        """Rows of this table on disk when the batch holding `slot` fails: the batches before it."""
        return slot - slot % self.batch_rows

    def _unique_by_construction(self, name: str) -> bool:
        drawer = self.drawers.get(name)
        return drawer is not None and drawer.unique_by_construction

    def _why_short(self) -> str:
        dropped = [f"{name}: {llm.stats.dropped_rows} rows without a valid reply" for name, llm in self.llm.items()]
        if any(llm.stats.dropped_rows for llm in self.llm.values()):
            return "; ".join(dropped)
        return "loosen the rules or widen the samplers"


def parent_columns(spec: DatasetSpec) -> set[tuple[str, str]]:
    """(table, column) pairs child tables read: reference keys and the columns they bring along."""
    pairs: set[tuple[str, str]] = set()
    for table in spec.tables:
        for column in table.columns:
            reads = column_kind(column.kind).parent_columns
            pairs.update(reads(column) if reads is not None else ())
    return pairs


def generate(
    spec: DatasetSpec,
    llm_columns: Callable[[ColumnSpec, TableSpec], Any] | None = None,
    starts: dict[str, TableStart] | None = None,
    parent_keys: dict[tuple[str, str], list[Any]] | None = None,
    on_table: Callable[[TableGenerator], None] | None = None,
) -> Iterator[TableBatch]:
    """Tables in spec order (parents before children), in batches. For a resumed run, `starts` says
    where each table picks up and `parent_keys` holds the keys of the rows already written."""
    keys: dict[tuple[str, str], list[Any]] = dict(parent_keys or {})
    wanted = parent_columns(spec)
    for table in spec.tables:
        generator = TableGenerator(table, spec, keys, llm_columns, (starts or {}).get(table.name))
        if on_table is not None:
            on_table(generator)
        for batch in generator.batches():
            for key in wanted:
                if key[0] == table.name:
                    keys.setdefault(key, []).extend(row[key[1]] for row in batch.rows)
            yield batch


__all__ = [  # ExpressionFailed, GenerationFailed and value_key live in draw.py (the kinds raise and use them)
    "BATCH_ROWS",
    "ExpressionFailed",
    "GenerationFailed",
    "TableBatch",
    "TableGenerator",
    "TableStart",
    "generate",
    "parent_columns",
    "rule_predicates",
    "value_key",
]

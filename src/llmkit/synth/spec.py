"""Dataset specs: YAML or dicts -> validated, typed tables and columns. Every error names the field path.

A spec has `tables`, each with `name`, `rows`, optional `locale`, `columns` and `rules`. Column kinds
(each checked by its module in llmkit.synth.kinds, which this parser dispatches to):
`sampler` (sequence, uuid, integer, uniform, normal, lognormal, poisson, choice, boolean, date, datetime,
faker), `expression` (from the row's other columns), `reference` (a parent table's key, with a
children-per-parent distribution), `llm` (text from a prompt over the row), `llm_object` (several
columns from one JSON reply under a schema), `timeseries` (per-entity ordered times and values with
trend, seasonality and noise) and `hierarchy` (a manager tree over a sequence key). Rules: unique,
not_null, range, regex, check. `docs/synth-spec.schema.json` is the same contract for editors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError
from llmkit.synth.expressions import Expression, ExpressionError
from llmkit.synth.fields import need
from llmkit.synth.kinds import column_kind, column_kinds, find_kind
from llmkit.synth.types import ColumnSpec, DatasetSpec, Rule, SpecError, TableSpec

RULES = ("unique", "not_null", "range", "regex", "check")


def load_spec(source: str | Path | dict) -> DatasetSpec:
    if isinstance(source, dict):
        return parse_spec(source)
    import yaml

    path = Path(source)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read the spec: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path}: not valid YAML: {exc}") from exc
    return parse_spec(data)


def parse_spec(data: Any) -> DatasetSpec:
    if not isinstance(data, dict):
        raise SpecError("spec", "expected a mapping with 'tables'")
    tables_data = need(data, "tables", "spec", list)
    seed = data.get("seed", 0)
    if not isinstance(seed, int):
        raise SpecError("spec.seed", "expected an integer")
    tables = [_table(item, f"tables[{i}]") for i, item in enumerate(tables_data)]
    if not tables:
        raise SpecError("spec.tables", "at least one table is needed")
    names = [t.name for t in tables]
    for index, name in enumerate(names):
        if names.index(name) != index:
            raise SpecError(f"tables[{index}].name", f"duplicate table name {name!r}")
    spec = DatasetSpec(str(data.get("name", "dataset")), seed, tables)
    _check_across_tables(spec)
    for index, table in enumerate(spec.tables):
        column_order(table, f"tables[{index}]")  # raises on unknown or cyclic column references
    return spec


def _table(data: Any, path: str) -> TableSpec:
    name = need(data, "name", path, str)
    rows = need(data, "rows", path, int)
    if rows < 0:
        raise SpecError(f"{path}.rows", "must be >= 0")
    columns_data = need(data, "columns", path, list)
    columns = [_column(item, f"{path}.columns[{i}]") for i, item in enumerate(columns_data)]
    locales = _locales(data.get("locale", "en_US"), f"{path}.locale")
    if len(locales) > 1:
        _add_locale_column(columns, locales)
    seen = _output_names(columns, path)
    rules = [_rule(item, f"{path}.rules[{i}]", seen) for i, item in enumerate(data.get("rules") or [])]
    batch_rows = data.get("batch_rows", 0)
    if not isinstance(batch_rows, int) or batch_rows < 0:
        raise SpecError(f"{path}.batch_rows", "expected an integer >= 1")
    table = TableSpec(
        name, rows, next(iter(locales)), columns, rules, batch_rows, bool(data.get("fixed_rows", False)), list(locales)
    )
    for index, column in enumerate(columns):
        check = column_kind(column.kind).check_in_table
        if check is not None:
            check(table, column, f"{path}.columns[{index}]")
    return table


def _column(data: Any, path: str) -> ColumnSpec:
    """The column's own fields, checked by its kind's module (which also sets its inputs and outputs)."""
    name = need(data, "name", path, str)
    kind = find_kind(data.get("kind", "sampler"))
    if kind is None:
        known = ", ".join(k.name for k in column_kinds())
        raise SpecError(f"{path}.kind", f"unknown kind {data.get('kind')!r}; known: {known}")
    params = {k: v for k, v in data.items() if k not in ("name", "kind", "hidden")}
    column = ColumnSpec(name, kind.name, params, hidden=bool(data.get("hidden", False)))
    kind.parse(column, path)
    return column


def _add_locale_column(columns: list[ColumnSpec], locales: dict[str, float]) -> None:
    """A per-row locale, drawn first; Faker columns then follow each row's locale."""
    values, weights = list(locales), list(locales.values())
    columns.insert(0, ColumnSpec("locale", "sampler", {"sampler": "choice", "values": values, "weights": weights}))
    for column in columns:
        if column.params.get("sampler") == "faker":
            column.depends_on = ["locale"]


def _output_names(columns: list[ColumnSpec], path: str) -> set[str]:
    """Every column the table writes, each once (an llm_object or a reference's `bring` writes several)."""
    seen: set[str] = set()
    for index, column in enumerate(columns):
        for output in column.outputs:
            if output in seen:
                raise SpecError(f"{path}.columns[{index}].name", f"duplicate column {output!r}")
            seen.add(output)
    return seen


def _locales(value: Any, path: str) -> dict[str, float]:
    """`locale: de_DE`, `locale: [en_US, de_DE]` (equal shares) or `locale: {en_US: 0.6, de_DE: 0.4}`."""
    if isinstance(value, str):
        return {value: 1.0}
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return {v: 1.0 for v in value}
    if isinstance(value, dict) and value and all(isinstance(w, (int, float)) and w > 0 for w in value.values()):
        return {str(k): float(w) for k, w in value.items()}
    raise SpecError(path, "expected a Faker locale (en_US), a list of them, or {locale: weight > 0}")


def _rule(data: Any, path: str, columns: set[str]) -> Rule:
    if not isinstance(data, dict) or len(data) != 1:
        raise SpecError(path, f"expected one of: {', '.join(RULES)}")
    kind, value = next(iter(data.items()))
    if kind not in RULES:
        raise SpecError(path, f"unknown rule {kind!r}; known: {', '.join(RULES)}")
    if kind == "check":
        try:
            expression = Expression(str(value))
        except ExpressionError as exc:
            raise SpecError(f"{path}.check", str(exc)) from exc
        unknown = [n for n in expression.names if n not in columns]
        if unknown:
            raise SpecError(f"{path}.check", f"unknown column(s) {', '.join(unknown)}")
        return Rule(kind, expression=expression)
    column = value if isinstance(value, str) else (value or {}).get("column") if isinstance(value, dict) else None
    if column not in columns:
        raise SpecError(f"{path}.{kind}", f"unknown column {column!r}")
    params = value if isinstance(value, dict) else {}
    if kind == "regex" and "pattern" not in params:
        raise SpecError(f"{path}.regex.pattern", "missing")
    return Rule(kind, column, dict(params))


def _check_across_tables(spec: DatasetSpec) -> None:
    """The checks a kind can make only with every table parsed (a reference's parent)."""
    for index, table in enumerate(spec.tables):
        for c_index, column in enumerate(table.columns):
            check = column_kind(column.kind).check_in_spec
            if check is not None:
                check(spec, index, column, f"tables[{index}].columns[{c_index}]")


def column_order(table: TableSpec, path: str = "table") -> list[ColumnSpec]:
    """Columns in an order where every expression's inputs come first; unknown or cyclic names fail."""
    by_name = {name: c for c in table.columns for name in c.outputs}
    ordered: list[ColumnSpec] = []
    state: dict[str, str] = {}

    def visit(column: ColumnSpec, trail: list[str]) -> None:
        if state.get(column.name) == "done":
            return
        if state.get(column.name) == "visiting":
            raise SpecError(f"{path}.columns", f"cyclic references: {' -> '.join([*trail, column.name])}")
        state[column.name] = "visiting"
        for name in column.depends_on:
            if name not in by_name:
                index = table.columns.index(column)
                field_name = column_kind(column.kind).inputs_field
                raise SpecError(f"{path}.columns[{index}].{field_name}", f"unknown column {name!r}")
            visit(by_name[name], [*trail, column.name])
        state[column.name] = "done"
        ordered.append(column)

    for column in table.columns:
        visit(column, [])
    return ordered


__all__ = [  # the spec types live in types.py (the kinds' modules use them too); this is their usual address
    "RULES",
    "ColumnSpec",
    "DatasetSpec",
    "Rule",
    "SpecError",
    "TableSpec",
    "column_order",
    "load_spec",
    "parse_spec",
]

"""Dataset specs: YAML or dicts -> validated, typed tables and columns. Every error names the field path.

A spec has `tables`, each with `name`, `rows`, optional `locale`, `columns` and `rules`. Column kinds:
`sampler` (sequence, uuid, integer, uniform, normal, lognormal, poisson, choice, boolean, date, datetime,
faker), `expression` (from the row's other columns) and `reference` (a parent table's key, with a
children-per-parent distribution). Rules: unique, not_null, range, regex, check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError
from llmkit.synth.expressions import Expression, ExpressionError

SAMPLERS = (
    "sequence",
    "uuid",
    "integer",
    "uniform",
    "normal",
    "lognormal",
    "poisson",
    "choice",
    "boolean",
    "date",
    "datetime",
    "faker",
)
KINDS = ("sampler", "expression", "reference")
RULES = ("unique", "not_null", "range", "regex", "check")


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

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class DatasetSpec:
    name: str
    seed: int
    tables: list[TableSpec]

    def table(self, name: str) -> TableSpec | None:
        return next((t for t in self.tables if t.name == name), None)


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


def _need(mapping: Any, key: str, path: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise SpecError(f"{path}.{key}", "missing")
    value = mapping[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SpecError(f"{path}.{key}", f"expected {names}, got {type(value).__name__}")
    return value


def parse_spec(data: Any) -> DatasetSpec:
    if not isinstance(data, dict):
        raise SpecError("spec", "expected a mapping with 'tables'")
    tables_data = _need(data, "tables", "spec", list)
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
    _check_references(spec)
    for index, table in enumerate(spec.tables):
        column_order(table, f"tables[{index}]")  # raises on unknown or cyclic column references
    return spec


def _table(data: Any, path: str) -> TableSpec:
    name = _need(data, "name", path, str)
    rows = _need(data, "rows", path, int)
    if rows < 0:
        raise SpecError(f"{path}.rows", "must be >= 0")
    columns_data = _need(data, "columns", path, list)
    columns = [_column(item, f"{path}.columns[{i}]") for i, item in enumerate(columns_data)]
    seen: set[str] = set()
    for index, column in enumerate(columns):
        if column.name in seen:
            raise SpecError(f"{path}.columns[{index}].name", f"duplicate column {column.name!r}")
        seen.add(column.name)
    rules = [_rule(item, f"{path}.rules[{i}]", seen) for i, item in enumerate(data.get("rules") or [])]
    return TableSpec(name, rows, str(data.get("locale", "en_US")), columns, rules)


def _column(data: Any, path: str) -> ColumnSpec:
    name = _need(data, "name", path, str)
    kind = data.get("kind", "sampler")
    if kind not in KINDS:
        raise SpecError(f"{path}.kind", f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    params = {k: v for k, v in data.items() if k not in ("name", "kind")}
    column = ColumnSpec(name, kind, params)
    if kind == "sampler":
        _check_sampler(params, path)
    elif kind == "expression":
        source = _need(data, "expression", path, str)
        try:
            column.expression = Expression(source)
        except ExpressionError as exc:
            raise SpecError(f"{path}.expression", str(exc)) from exc
        column.depends_on = column.expression.names
    else:
        target = _need(data, "table", path, str)
        _need(data, "column", path, str)
        column.params["table"] = target
        _check_cardinality(params.get("per_parent"), f"{path}.per_parent")
    return column


def _check_sampler(params: dict[str, Any], path: str) -> None:
    sampler = params.get("sampler")
    if sampler not in SAMPLERS:
        raise SpecError(f"{path}.sampler", f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    number = (int, float)
    if sampler in ("uniform", "integer"):
        low, high = _need(params, "min", path, number), _need(params, "max", path, number)
        if low > high:
            raise SpecError(f"{path}.min", f"min {low} is greater than max {high}")
    elif sampler in ("normal", "lognormal"):
        _need(params, "mean", path, number)
        if _need(params, "std", path, number) <= 0:
            raise SpecError(f"{path}.std", "must be > 0")
    elif sampler == "poisson":
        if _need(params, "lam", path, number) <= 0:
            raise SpecError(f"{path}.lam", "must be > 0")
    elif sampler == "choice":
        values = _need(params, "values", path, list)
        if not values:
            raise SpecError(f"{path}.values", "needs at least one value")
        weights = params.get("weights")
        if weights is not None:
            if not isinstance(weights, list) or len(weights) != len(values):
                raise SpecError(f"{path}.weights", f"needs one weight per value ({len(values)})")
            if any(not isinstance(w, number) or w < 0 for w in weights) or sum(weights) <= 0:
                raise SpecError(f"{path}.weights", "weights must be >= 0 and not all 0")
    elif sampler in ("date", "datetime"):
        start, end = (parse_date(params.get(key), f"{path}.{key}") for key in ("start", "end"))
        if start > end:
            raise SpecError(f"{path}.start", f"start {start} is after end {end}")
    elif sampler == "boolean":
        p = params.get("p", 0.5)
        if not isinstance(p, number) or not 0 <= p <= 1:
            raise SpecError(f"{path}.p", "must be a probability in [0, 1]")
    elif sampler == "faker":
        _need(params, "provider", path, str)  # checked against Faker when the table's locale is known


def parse_date(value: Any, path: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise SpecError(path, f"expected an ISO date such as 2024-01-31, got {value!r}")


def _check_cardinality(value: Any, path: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or value.get("distribution") not in ("fixed", "uniform", "poisson"):
        raise SpecError(path, "expected {distribution: fixed|uniform|poisson, ...}")


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


def _check_references(spec: DatasetSpec) -> None:
    order = {t.name: i for i, t in enumerate(spec.tables)}
    for index, table in enumerate(spec.tables):
        for c_index, column in enumerate(table.columns):
            if column.kind != "reference":
                continue
            path = f"tables[{index}].columns[{c_index}]"
            parent = spec.table(column.params["table"])
            if parent is None:
                raise SpecError(f"{path}.table", f"unknown table {column.params['table']!r}")
            if parent.column(column.params["column"]) is None:
                raise SpecError(f"{path}.column", f"table {parent.name!r} has no column {column.params['column']!r}")
            if order[parent.name] >= index:
                raise SpecError(f"{path}.table", f"parent table {parent.name!r} must come before {table.name!r}")


def column_order(table: TableSpec, path: str = "table") -> list[ColumnSpec]:
    """Columns in an order where every expression's inputs come first; unknown or cyclic names fail."""
    by_name = {c.name: c for c in table.columns}
    ordered: list[ColumnSpec] = []
    state: dict[str, str] = {}

    def visit(column: ColumnSpec, trail: list[str]) -> None:
        if state.get(column.name) == "done":
            return
        if state.get(column.name) == "visiting":
            raise SpecError(f"{path}.columns", f"cyclic expressions: {' -> '.join([*trail, column.name])}")
        state[column.name] = "visiting"
        for name in column.depends_on:
            if name not in by_name:
                index = table.columns.index(column)
                raise SpecError(f"{path}.columns[{index}].expression", f"unknown column {name!r}")
            visit(by_name[name], [*trail, column.name])
        state[column.name] = "done"
        ordered.append(column)

    for column in table.columns:
        visit(column, [])
    return ordered

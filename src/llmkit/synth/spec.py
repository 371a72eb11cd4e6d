"""Dataset specs: YAML or dicts -> validated, typed tables and columns. Every error names the field path.

A spec has `tables`, each with `name`, `rows`, optional `locale`, `columns` and `rules`. Column kinds:
`sampler` (sequence, uuid, integer, uniform, normal, lognormal, poisson, choice, boolean, date, datetime,
faker), `expression` (from the row's other columns), `reference` (a parent table's key, with a
children-per-parent distribution), `llm` (text from a prompt over the row), `llm_object` (several
columns from one JSON reply under a schema), `timeseries` (per-entity ordered times and values with
trend, seasonality and noise) and `hierarchy` (a manager tree over a sequence key). Rules: unique,
not_null, range, regex, check. `docs/synth-spec.schema.json` is the same contract for editors.
"""

from __future__ import annotations

import datetime as dt
import re
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
KINDS = ("sampler", "expression", "reference", "llm", "llm_object", "timeseries", "hierarchy")
LLM_KINDS = ("llm", "llm_object")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
LLM_OPTIONS = {
    "prompt": str,
    "system": str,
    "model": str,
    "models": list,
    "backend": str,
    "personas": list,
    "max_tokens": int,
    "temperature": (int, float),
    "top_p": (int, float),
    "retries": int,
    "min_chars": int,
    "max_chars": int,
    "near_duplicate": (int, float, bool),
    "schema": dict,
    "constrained": (bool, str),
}
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
        return any(c.kind in LLM_KINDS for c in self.columns)


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
    locales = _locales(data.get("locale", "en_US"), f"{path}.locale")
    if len(locales) > 1:  # a per-row locale, drawn first; Faker columns then follow each row's locale
        values, weights = list(locales), list(locales.values())
        columns.insert(0, ColumnSpec("locale", "sampler", {"sampler": "choice", "values": values, "weights": weights}))
        for column in columns:
            if column.params.get("sampler") == "faker":
                column.depends_on = ["locale"]
    seen: set[str] = set()
    for index, column in enumerate(columns):
        for output in column.outputs:
            if output in seen:
                raise SpecError(f"{path}.columns[{index}].name", f"duplicate column {output!r}")
            seen.add(output)
    rules = [_rule(item, f"{path}.rules[{i}]", seen) for i, item in enumerate(data.get("rules") or [])]
    batch_rows = data.get("batch_rows", 0)
    if not isinstance(batch_rows, int) or batch_rows < 0:
        raise SpecError(f"{path}.batch_rows", "expected an integer >= 1")
    table = TableSpec(
        name, rows, next(iter(locales)), columns, rules, batch_rows, bool(data.get("fixed_rows", False)), list(locales)
    )
    for index, column in enumerate(columns):
        _check_links(table, column, f"{path}.columns[{index}]")
    return table


def _column(data: Any, path: str) -> ColumnSpec:
    name = _need(data, "name", path, str)
    kind = data.get("kind", "sampler")
    if kind not in KINDS:
        raise SpecError(f"{path}.kind", f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    params = {k: v for k, v in data.items() if k not in ("name", "kind", "hidden")}
    column = ColumnSpec(name, kind, params, hidden=bool(data.get("hidden", False)))
    if kind == "sampler":
        _check_sampler(params, path)
    elif kind == "expression":
        source = _need(data, "expression", path, str)
        try:
            column.expression = Expression(source)
        except ExpressionError as exc:
            raise SpecError(f"{path}.expression", str(exc)) from exc
        column.depends_on = column.expression.names
    elif kind == "reference":
        target = _need(data, "table", path, str)
        _need(data, "column", path, str)
        column.params["table"] = target
        _check_cardinality(params.get("per_parent"), f"{path}.per_parent")
        bring = params.get("bring", [])
        if not isinstance(bring, list) or not all(isinstance(b, str) for b in bring):
            raise SpecError(f"{path}.bring", "expected a list of the parent's column names")
        column.outputs = [name, *bring]
    elif kind in LLM_KINDS:
        _check_llm(column, path)
    elif kind == "timeseries":
        _check_timeseries(column, path)
    else:
        _need(data, "key", path, str)
        if data.get("role", "manager") not in ("manager", "level"):
            raise SpecError(f"{path}.role", "expected manager or level")
        if _need(data, "fanout", path, int) < 1:
            raise SpecError(f"{path}.fanout", "must be >= 1")
        column.depends_on = [data["key"]]
    return column


def _locales(value: Any, path: str) -> dict[str, float]:
    """`locale: de_DE`, `locale: [en_US, de_DE]` (equal shares) or `locale: {en_US: 0.6, de_DE: 0.4}`."""
    if isinstance(value, str):
        return {value: 1.0}
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return {v: 1.0 for v in value}
    if isinstance(value, dict) and value and all(isinstance(w, (int, float)) and w > 0 for w in value.values()):
        return {str(k): float(w) for k, w in value.items()}
    raise SpecError(path, "expected a Faker locale (en_US), a list of them, or {locale: weight > 0}")


def _check_llm(column: ColumnSpec, path: str) -> None:
    params = column.params
    prompt = _need(params, "prompt", path, str)
    for key, value in params.items():
        expected = LLM_OPTIONS.get(key)
        if expected is None:
            raise SpecError(f"{path}.{key}", f"unknown option; known: {', '.join(LLM_OPTIONS)}")
        if not isinstance(value, expected):
            raise SpecError(f"{path}.{key}", f"expected {getattr(expected, '__name__', 'a number')}")
    for key in ("models", "personas"):
        if key in params and (not params[key] or not all(isinstance(v, str) for v in params[key])):
            raise SpecError(f"{path}.{key}", "expected a non-empty list of strings")
    if params.get("max_tokens", 1) < 1:
        raise SpecError(f"{path}.max_tokens", "must be >= 1")
    if params.get("retries", 0) < 0:
        raise SpecError(f"{path}.retries", "must be >= 0")
    column.depends_on = sorted({n for n in PLACEHOLDER.findall(prompt) if n != "persona"})
    if "{persona}" in prompt and "personas" not in params:
        raise SpecError(f"{path}.prompt", "uses {persona} but the column lists no personas")
    if column.kind == "llm_object":
        schema = _need(params, "schema", path, dict)
        properties = schema.get("properties")
        if schema.get("type") != "object" or not isinstance(properties, dict) or not properties:
            raise SpecError(f"{path}.schema", "expected {type: object, properties: {...}}")
        column.outputs = list(properties)
        column.params["schema"] = {"required": list(properties), "additionalProperties": False, **schema}


def _check_timeseries(column: ColumnSpec, path: str) -> None:
    params = column.params
    _need(params, "entity", path, str)
    role = params.get("role", "value")
    if role == "time":
        parse_date(params.get("start"), f"{path}.start")
        parse_every(params.get("every", "1d"), f"{path}.every")
        jitter = params.get("jitter", 0)
        if not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
            raise SpecError(f"{path}.jitter", "must be a fraction of the step in [0, 1]")
    elif role == "value":
        level = params.get("level", {"mean": 0, "std": 0})
        if not isinstance(level, dict) or not isinstance(level.get("mean", 0), (int, float)):
            raise SpecError(f"{path}.level", "expected {mean: number, std: number}")
        if level.get("std", 0) < 0 or params.get("noise", 0) < 0:
            raise SpecError(f"{path}.noise", "noise and level.std must be >= 0")
        season = params.get("season")
        if season is not None and (not isinstance(season, dict) or season.get("period", 0) <= 0):
            raise SpecError(f"{path}.season", "expected {period: steps > 0, amplitude: number}")
    else:
        raise SpecError(f"{path}.role", "expected time or value")
    column.depends_on = [params["entity"]]


def parse_every(value: Any, path: str) -> dt.timedelta:
    """'1d', '6h', '30m', '45s' or a number of days."""
    if isinstance(value, (int, float)) and value > 0:
        return dt.timedelta(days=value)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([dhms])", str(value))
    if not match:
        raise SpecError(path, f"expected a step such as 1d, 6h, 30m or 45s, got {value!r}")
    unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[match.group(2)]
    return dt.timedelta(**{unit: float(match.group(1))})


def _check_links(table: TableSpec, column: ColumnSpec, path: str) -> None:
    """Columns a timeseries or hierarchy column is built on must be of the right kind."""
    if column.kind == "timeseries":
        entity = table.column(column.params["entity"])
        if entity is None or entity.kind != "reference":
            raise SpecError(f"{path}.entity", "must name a reference column of this table (its children stay together)")
    if column.kind == "hierarchy":
        key = table.column(column.params["key"])
        if key is None or key.params.get("sampler") != "sequence":
            raise SpecError(f"{path}.key", "must name a sequence column of this table")


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
        if not isinstance(params.get("args", {}), dict):
            raise SpecError(f"{path}.args", "expected a mapping of the provider's arguments")


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
            for key, wanted in (("column", [column.params["column"]]), ("bring", column.params.get("bring", []))):
                for name in wanted:
                    if parent.column(name) is None:
                        raise SpecError(f"{path}.{key}", f"table {parent.name!r} has no column {name!r}")
            if order[parent.name] >= index:
                raise SpecError(f"{path}.table", f"parent table {parent.name!r} must come before {table.name!r}")


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
                field_name = "prompt" if column.kind in LLM_KINDS else "expression"
                raise SpecError(f"{path}.columns[{index}].{field_name}", f"unknown column {name!r}")
            visit(by_name[name], [*trail, column.name])
        state[column.name] = "done"
        ordered.append(column)

    for column in table.columns:
        visit(column, [])
    return ordered

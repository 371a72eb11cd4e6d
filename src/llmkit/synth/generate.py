"""Rows from a spec: vectorized samplers, expressions per row, references to parent keys, rules enforced.

Reproducible: every column draws from its own random stream, seeded by (spec seed, table, column, batch),
so the same spec and seed give byte-identical files, adding a column does not change the others, and a
killed run resumes at its next batch with the same values it would have drawn. Row slots are fixed
(sequence ids, parent keys and time steps belong to the slot), so a redrawn row keeps its place.
Exactly `rows` valid rows come out: rows breaking a rule (or an LLM cell that stays invalid) are drawn
again, up to a budget, never padded with blanks; a rule that cannot be met (unique over too small a
domain) fails before generating.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from llmkit.errors import LlmkitError
from llmkit.synth.spec import (
    ColumnSpec,
    DatasetSpec,
    Rule,
    SpecError,
    TableSpec,
    column_order,
    parse_date,
    parse_every,
)
from llmkit.synth.text import NearDuplicateIndex

BATCH_ROWS = 10_000
LLM_BATCH_ROWS = 64  # an LLM table writes (and can resume) every 64 rows
FAKER_POOL = 2_000  # distinct values drawn from Faker per provider, then sampled: ~30x faster than a call per row
RETRY_ROUNDS = 20


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


def value_key(value: Any) -> str:
    """One form for a value whether it is fresh or read back from a file (CSV gives text)."""
    if type(value) is str:
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rng(seed: int, *names: str):
    import numpy as np

    digest = hashlib.sha256("|".join([str(seed), *names]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


class _ColumnSampler:
    """Draws values for one sampler column, in batches, from its own random stream."""

    def __init__(self, column: ColumnSpec, table: TableSpec, seed: int) -> None:
        self.column, self.params = column, column.params
        self.seed, self.table_name = seed, table.name
        self.rng = _rng(seed, table.name, column.name)
        self.kind = self.params["sampler"]
        self.pool: list[Any] | None = None
        self.pools: dict[str, list[Any]] = {}  # per locale, when the table mixes locales
        if self.kind == "faker":
            for locale in table.locales or [table.locale]:
                key = f"{table.name}.{column.name}" + (f".{locale}" if len(table.locales) > 1 else "")
                size, args = int(self.params.get("pool", FAKER_POOL)), self.params.get("args", {})
                self.pools[locale] = _faker_pool(self.params["provider"], locale, seed, key, size, args)
            self.pool = [value for pool in self.pools.values() for value in pool]

    @property
    def needs_locale(self) -> bool:
        return len(self.pools) > 1

    def begin(self, batch: int) -> None:
        self.rng = _rng(self.seed, self.table_name, self.column.name, str(batch))

    def draw(self, slots: list[int], locales: list[str] | None = None) -> list[Any]:
        p, rng, n = self.params, self.rng, len(slots)
        if locales is not None and self.needs_locale:  # each row from its own locale's pool
            picks = rng.integers(0, len(next(iter(self.pools.values()))), n)
            return [self.pools[locale][int(i)] for locale, i in zip(locales, picks, strict=True)]
        if self.kind == "sequence":
            start = int(p.get("start", 1))
            return [start + slot for slot in slots]
        if self.kind == "uuid":
            return [str(uuid.UUID(bytes=bytes(b), version=4)) for b in rng.integers(0, 256, (n, 16), dtype="uint8")]
        if self.kind == "integer":
            return rng.integers(int(p["min"]), int(p["max"]) + 1, n).tolist()
        if self.kind == "uniform":
            return _rounded(rng.uniform(p["min"], p["max"], n), p)
        if self.kind == "normal":
            return _rounded(_clipped(rng.normal(p["mean"], p["std"], n), p), p)
        if self.kind == "lognormal":
            return _rounded(_clipped(rng.lognormal(p["mean"], p["std"], n), p), p)
        if self.kind == "poisson":
            return rng.poisson(p["lam"], n).tolist()
        if self.kind == "boolean":
            return (rng.random(n) < p.get("p", 0.5)).tolist()
        if self.kind == "choice":
            weights = p.get("weights")
            probabilities = None if weights is None else [w / sum(weights) for w in weights]
            indexes = rng.choice(len(p["values"]), size=n, p=probabilities)
            return [p["values"][i] for i in indexes]
        if self.kind in ("date", "datetime"):
            return self._dates(n)
        return [self.pool[i] for i in rng.integers(0, len(self.pool), n)]

    def _dates(self, n: int) -> list[Any]:
        start, end = parse_date(self.params["start"], "start"), parse_date(self.params["end"], "end")
        if self.kind == "date":
            days = self.rng.integers(0, (end - start).days + 1, n)
            return [(start + dt.timedelta(days=int(d))).date() for d in days]
        seconds = self.rng.integers(0, int((end - start).total_seconds()) + 1, n)
        return [start + dt.timedelta(seconds=int(s)) for s in seconds]

    def domain_size(self) -> float:
        """How many distinct values this sampler can give (for checking unique rules up front)."""
        p = self.params
        if self.kind == "integer":
            return p["max"] - p["min"] + 1
        if self.kind == "choice":
            return len(p["values"])
        if self.kind == "boolean":
            return 2
        if self.kind == "date":
            return (parse_date(p["end"], "end") - parse_date(p["start"], "start")).days + 1
        if self.kind == "faker":
            return len(set(map(str, self.pool or [])))
        return float("inf")


def _clipped(values, p: dict[str, Any]):
    import numpy as np

    return np.clip(values, p.get("min", -np.inf), p.get("max", np.inf))


def _rounded(values, p: dict[str, Any]) -> list[Any]:
    digits = p.get("decimals")
    return [round(float(v), digits) for v in values] if digits is not None else [float(v) for v in values]


@functools.lru_cache(maxsize=32)
def _faker(locale: str) -> Any:
    from faker import Faker

    try:
        fake = Faker(locale)  # building one loads every provider (~0.1 s): once per locale
    except AttributeError as exc:  # how Faker says it has no such locale
        raise SpecError("locale", f"Faker has no locale {locale!r} (e.g. en_US, de_DE, ja_JP)") from exc
    for generator in fake.factories:
        for provider in generator.providers:
            _fix_order(provider)
    return fake


# Faker draws an element by its index, so a provider's data must be in the same order in every process.
# Data kept in a set, or in a list made from one (it_IT's cities: `list({city for ...})`), is in string-hash
# order, which PYTHONHASHSEED changes per process: the same seed gave other cities. Such data is sorted on
# our own Faker instances (never on Faker's classes), and a set handed to `random_elements` at call time too.
_MIN_ORDER_CHECK = 16  # shorter authored lists agree with a set's order by chance too often


def _fix_order(provider: Any) -> None:
    for name in dir(provider):
        if name.startswith("__"):
            continue
        value = getattr(provider, name, None)
        fixed = _in_fixed_order(value)
        if fixed is None and isinstance(value, dict):
            items = {key: _in_fixed_order(item) for key, item in value.items()}
            if any(item is not None for item in items.values()):
                fixed = {key: value[key] if item is None else item for key, item in items.items()}
        if fixed is not None:
            setattr(provider, name, fixed)
    draw = provider.random_elements

    def random_elements(elements=("a", "b", "c"), *args: Any, **kwargs: Any) -> Any:
        if isinstance(elements, (set, frozenset)):
            elements = tuple(sorted(elements, key=_order_key))
        return draw(elements, *args, **kwargs)

    provider.random_elements = random_elements


def _order_key(value: Any) -> tuple[str, str]:
    return type(value).__name__, repr(value)  # any mix of types, the same in every process


def _in_fixed_order(value: Any) -> Any:
    """`value` sorted when its order comes from string hashes; None when it is fine as it is."""
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(value, key=_order_key))
    if isinstance(value, (list, tuple)) and _hash_ordered(value):
        return type(value)(sorted(value, key=_order_key))
    return None


def _hash_ordered(values: list | tuple) -> bool:
    """Made by iterating a set: its items come in the order a set of them has. Authored data agrees with
    that order about half the time, pair by pair; a set's iteration (collisions aside) almost always."""
    if len(values) < _MIN_ORDER_CHECK or not all(type(v) is str for v in values):  # int hashes are fixed
        return False
    rank = {value: i for i, value in enumerate(set(values))}
    agree = sum(rank[a] < rank[b] for a, b in zip(values, values[1:]))
    return agree >= 0.9 * (len(values) - 1)


def _faker_pool(provider: str, locale: str, seed: int, key: str, size: int, args: dict[str, Any]) -> list[Any]:
    fake = _faker(locale)
    fake.seed_instance(int.from_bytes(hashlib.sha256(f"{seed}|{key}".encode()).digest()[:8], "little"))
    method = getattr(fake, provider, None)
    if method is None or provider.startswith("_") or not callable(method):
        raise SpecError(key, f"unknown Faker provider {provider!r} for locale {locale}")
    try:
        return [method(**args) for _ in range(size)]
    except TypeError as exc:
        raise SpecError(key, f"Faker provider {provider!r}: {exc}") from exc


class _ReferenceSampler:
    """Parent keys for a child table: each parent gets a number of children from `per_parent`."""

    def __init__(self, column: ColumnSpec, parent_keys: list[Any], table: TableSpec, seed: int) -> None:
        self.bring: dict[str, list[Any]] = {}
        rng = _rng(seed, table.name, column.name)
        spec = column.params.get("per_parent")
        if not parent_keys:
            raise GenerationFailed(f"{table.name}.{column.name}: the parent table {column.params['table']} is empty")
        if spec is None:  # plain foreign key: any parent, uniformly
            self.keys = [parent_keys[i] for i in rng.integers(0, len(parent_keys), table.rows)]
            return
        counts = _children_counts(spec, len(parent_keys), rng)
        keys = [key for key, count in zip(parent_keys, counts, strict=True) for _ in range(count)]
        while len(keys) < table.rows:  # top up from random parents; never fewer rows than asked
            keys.append(parent_keys[int(rng.integers(0, len(parent_keys)))])
        order = rng.permutation(len(keys))[: table.rows]
        self.keys = [keys[i] for i in sorted(order)]  # a parent's children stay together, as in real data

    def begin(self, batch: int) -> None:
        pass  # keys belong to slots, drawn once for the whole table

    def draw(self, slots: list[int]) -> list[Any]:
        return [self.keys[slot] for slot in slots]

    def ranks(self) -> list[int]:
        """Each slot's place among its parent's children (0, 1, 2 ...): the time step of a series."""
        ranks, previous, count = [], object(), 0
        for key in self.keys:
            count = count + 1 if key == previous else 0
            previous = key
            ranks.append(count)
        return ranks


class _SeriesSampler:
    """Per-entity ordered times, or values with a level per entity, trend, seasonality and noise."""

    def __init__(self, column: ColumnSpec, table: TableSpec, seed: int, entity: _ReferenceSampler) -> None:
        self.params, self.entity = column.params, entity
        self.seed, self.key = seed, f"{table.name}.{column.name}"
        self.ranks = entity.ranks()
        self.rng = _rng(seed, table.name, column.name)

    def begin(self, batch: int) -> None:
        self.rng = _rng(self.seed, self.key, str(batch))

    def _entity_draw(self, key: Any) -> Any:
        return _rng(self.seed, self.key, "entity", value_key(key))

    def draw(self, slots: list[int]) -> list[Any]:
        import math

        p = self.params
        keys = self.entity.draw(slots)
        steps = [self.ranks[slot] for slot in slots]
        noise = self.rng.standard_normal(len(slots))
        if p.get("role", "value") == "time":
            every = parse_every(p.get("every", "1d"), "every")
            spread = parse_every(p["spread"], "spread").total_seconds() if "spread" in p else 0.0
            start = parse_date(p["start"], "start")
            jitter = float(p.get("jitter", 0))
            times = []
            for key, step, u in zip(keys, steps, self.rng.random(len(slots)), strict=True):
                offset = float(self._entity_draw(key).random()) * spread
                moment = start + dt.timedelta(seconds=offset) + every * (step + jitter * u)
                times.append(moment.replace(microsecond=0))
            return times
        level, season = p.get("level", {}), p.get("season") or {}
        values = []
        for key, step, z in zip(keys, steps, noise, strict=True):
            entity = self._entity_draw(key)
            base = float(level.get("mean", 0)) + float(level.get("std", 0)) * float(entity.standard_normal())
            wave = 0.0
            if season:
                phase = float(entity.random()) * 2 * math.pi if season.get("random_phase") else 0.0
                wave = float(season.get("amplitude", 0)) * math.sin(2 * math.pi * step / season["period"] + phase)
            values.append(base + float(p.get("trend", 0)) * step + wave + float(p.get("noise", 0)) * float(z))
        return _rounded(_clipped(values, p), p)


class _HierarchySampler:
    """A tree over a sequence key, filled breadth first: row 0 at the top, then `fanout` reports each."""

    def __init__(self, column: ColumnSpec, table: TableSpec) -> None:
        self.fanout = int(column.params["fanout"])
        self.role = column.params.get("role", "manager")
        self.start = int(table.column(column.params["key"]).params.get("start", 1))

    def begin(self, batch: int) -> None:
        pass

    def draw(self, slots: list[int]) -> list[Any]:
        if self.role == "manager":
            return [None if slot == 0 else self.start + (slot - 1) // self.fanout for slot in slots]
        levels = []
        for slot in slots:
            depth = 0
            while slot:
                slot, depth = (slot - 1) // self.fanout, depth + 1
            levels.append(depth)
        return levels


def _children_counts(spec: dict[str, Any], parents: int, rng) -> list[int]:
    if spec["distribution"] == "fixed":
        return [int(spec.get("n", 1))] * parents
    if spec["distribution"] == "uniform":
        return rng.integers(int(spec.get("min", 0)), int(spec.get("max", 3)) + 1, parents).tolist()
    return rng.poisson(float(spec.get("lam", 2.0)), parents).tolist()


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
        self.samplers: dict[str, Any] = {}
        self.brought: dict[tuple[str, str], list[Any]] = {}
        self.llm: dict[str, Any] = {}
        for column in self.order:  # inputs first, so a series finds its entity's sampler
            if column.kind == "sampler":
                self.samplers[column.name] = _ColumnSampler(column, table, spec.seed)
            elif column.kind == "reference":
                parent = column.params["table"]
                keys = parent_keys[(parent, column.params["column"])]
                sampler = self.samplers[column.name] = _ReferenceSampler(column, keys, table, spec.seed)
                position = {key: i for i, key in enumerate(keys)}
                for name in column.outputs[1:]:  # `bring`: parent columns copied next to the key
                    values = parent_keys[(parent, name)]
                    self.brought[(column.name, name)] = [values[position[key]] for key in sampler.keys]
            elif column.kind == "timeseries":
                entity = self.samplers[column.params["entity"]]
                self.samplers[column.name] = _SeriesSampler(column, table, spec.seed, entity)
            elif column.kind == "hierarchy":
                self.samplers[column.name] = _HierarchySampler(column, table)
            elif column.kind in ("llm", "llm_object"):
                if llm_columns is None:
                    raise GenerationFailed(f"{table.name}.{column.name}: LLM columns need an engine")
                self.llm[column.name] = llm_columns(column, table)
        self.batch_rows = table.batch_rows or (LLM_BATCH_ROWS if self.llm else BATCH_ROWS)
        self.near_duplicates = {
            name: NearDuplicateIndex(float(threshold))
            for name, llm in self.llm.items()
            if llm.column.kind == "llm" and (threshold := llm.column.params.get("near_duplicate", 0.8)) is not False
        }
        for name, texts in (self.start.texts or {}).items():
            for text in texts:
                if name in self.near_duplicates:
                    self.near_duplicates[name].add(text)
        self._check_unique_domains()

    def _check_unique_domains(self) -> None:
        for rule in self.table.rules:
            sampler = self.samplers.get(rule.column)
            if rule.kind == "unique" and isinstance(sampler, _ColumnSampler):
                if sampler.domain_size() < self.table.rows:
                    raise GenerationFailed(
                        f"{self.table.name}.{rule.column}: unique over {self.table.rows} rows is impossible, the "
                        f"sampler has only {int(sampler.domain_size())} distinct values"
                    )

    def _candidates(self, slots: list[int]) -> list[dict[str, Any] | None]:
        """A row for each slot, columns in dependency order; None where an LLM cell could not be filled."""
        names, columns = [], []
        for column in self.order:  # sampled columns first, all at once; the others need the row
            sampler = self.samplers.get(column.name)
            if sampler is not None:
                names.append(column.name)
                needs_locale = getattr(sampler, "needs_locale", False)
                columns.append(
                    sampler.draw(slots, columns[names.index("locale")]) if needs_locale else sampler.draw(slots)
                )
                for name in column.outputs[1:] if column.kind == "reference" else ():
                    names.append(name)
                    columns.append([self.brought[(column.name, name)][slot] for slot in slots])
        rows: list[dict[str, Any]] = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        if not names:
            rows = [{} for _ in slots]
        alive = list(range(len(slots)))
        for column in self.order:
            if column.name in self.samplers:
                continue
            if column.kind == "expression":
                expression = column.expression
                for i in alive:
                    try:
                        rows[i][column.name] = expression(rows[i])
                    except Exception as exc:  # noqa: BLE001 - the user's expression: any error is theirs to see
                        where, slot = f"{self.table.name}.{column.name}", slots[i]
                        raise ExpressionFailed(
                            where, slot, expression.source, rows[i], expression.names, exc, self._written(slot)
                        ) from exc
            else:
                filled = self.llm[column.name].fill([rows[i] for i in alive], [slots[i] for i in alive])
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
            for sampler in self.samplers.values():
                sampler.begin(index)
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
        column = self.table.column(name)
        return column is not None and column.kind == "sampler" and column.params["sampler"] in ("sequence", "uuid")

    def _why_short(self) -> str:
        dropped = [f"{name}: {llm.stats.dropped_rows} rows without a valid reply" for name, llm in self.llm.items()]
        if any(llm.stats.dropped_rows for llm in self.llm.values()):
            return "; ".join(dropped)
        return "loosen the rules or widen the samplers"


def parent_columns(spec: DatasetSpec) -> set[tuple[str, str]]:
    """(table, column) pairs child tables read: reference keys and the columns they bring along."""
    return {
        (c.params["table"], name)
        for t in spec.tables
        for c in t.columns
        if c.kind == "reference"
        for name in [c.params["column"], *c.outputs[1:]]
    }


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

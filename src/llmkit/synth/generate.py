"""Rows from a spec: vectorized samplers, expressions per row, references to parent keys, rules enforced.

Reproducible: every column draws from its own random stream, seeded by (spec seed, table, column), so the
same spec and seed give byte-identical files, and adding a column does not change the others. Exactly `rows` valid rows come out: rows
breaking a rule are drawn again (up to a budget), never padded with blanks; a rule that cannot be met
(unique over too small a domain) fails before generating.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from llmkit.errors import LlmkitError
from llmkit.synth.spec import ColumnSpec, DatasetSpec, Rule, SpecError, TableSpec, column_order, parse_date

BATCH_ROWS = 10_000
FAKER_POOL = 2_000  # distinct values drawn from Faker per provider, then sampled: ~30x faster than a call per row
RETRY_ROUNDS = 20


class GenerationFailed(LlmkitError):
    """The run could not deliver the rows asked for; says why and how many were kept."""


@dataclass
class TableBatch:
    table: str
    rows: list[dict[str, Any]]
    done: int  # rows of this table delivered so far, this batch included
    total: int


def _rng(seed: int, *names: str):
    import numpy as np

    digest = hashlib.sha256("|".join([str(seed), *names]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


class _ColumnSampler:
    """Draws values for one sampler column, in batches, from its own random stream."""

    def __init__(self, column: ColumnSpec, table: TableSpec, seed: int) -> None:
        self.column, self.params = column, column.params
        self.rng = _rng(seed, table.name, column.name)
        self.kind = self.params["sampler"]
        self.counter = int(self.params.get("start", 1)) if self.kind == "sequence" else 0
        self.pool: list[Any] | None = None
        if self.kind == "faker":
            self.pool = _faker_pool(
                self.params["provider"],
                table.locale,
                seed,
                f"{table.name}.{column.name}",
                int(self.params.get("pool", FAKER_POOL)),
            )

    def draw(self, n: int) -> list[Any]:
        p, rng = self.params, self.rng
        if self.kind == "sequence":
            values = list(range(self.counter, self.counter + n))
            self.counter += n
            return values
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


def _faker_pool(provider: str, locale: str, seed: int, key: str, size: int) -> list[Any]:
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(int.from_bytes(hashlib.sha256(f"{seed}|{key}".encode()).digest()[:8], "little"))
    method = getattr(fake, provider, None)
    if method is None or provider.startswith("_") or not callable(method):
        raise SpecError(key, f"unknown Faker provider {provider!r} for locale {locale}")
    return [method() for _ in range(size)]


class _ReferenceSampler:
    """Parent keys for a child table: each parent gets a number of children from `per_parent`."""

    def __init__(self, column: ColumnSpec, parent_keys: list[Any], table: TableSpec, seed: int) -> None:
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

    def draw(self, n: int, start: int) -> list[Any]:
        return self.keys[start : start + n]


def _children_counts(spec: dict[str, Any], parents: int, rng) -> list[int]:
    if spec["distribution"] == "fixed":
        return [int(spec.get("n", 1))] * parents
    if spec["distribution"] == "uniform":
        return rng.integers(int(spec.get("min", 0)), int(spec.get("max", 3)) + 1, parents).tolist()
    return rng.poisson(float(spec.get("lam", 2.0)), parents).tolist()


def _row_ok(row: dict[str, Any], rules: list[Rule], seen: dict[str, set]) -> bool:
    for rule in rules:
        value = row.get(rule.column)
        if rule.kind == "not_null" and value in (None, ""):
            return False
        if rule.kind == "unique" and value in seen[rule.column]:
            return False
        if rule.kind == "range" and value is not None:
            if ("min" in rule.params and value < rule.params["min"]) or (
                "max" in rule.params and value > rule.params["max"]
            ):
                return False
        if rule.kind == "regex" and not re.fullmatch(rule.params["pattern"], str(value)):
            return False
        if rule.kind == "check" and not rule.expression(row):
            return False
    return True


class TableGenerator:
    def __init__(self, table: TableSpec, spec: DatasetSpec, parent_keys: dict[tuple[str, str], list[Any]]) -> None:
        self.table, self.spec = table, spec
        self.order = column_order(table)
        self.samplers: dict[str, Any] = {}
        for column in self.order:
            if column.kind == "sampler":
                self.samplers[column.name] = _ColumnSampler(column, table, spec.seed)
            elif column.kind == "reference":
                keys = parent_keys[(column.params["table"], column.params["column"])]
                self.samplers[column.name] = _ReferenceSampler(column, keys, table, spec.seed)
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

    def _candidates(self, n: int, start: int) -> list[dict[str, Any]]:
        columns: dict[str, list[Any]] = {}
        for column in self.order:
            sampler = self.samplers.get(column.name)
            if isinstance(sampler, _ReferenceSampler):
                columns[column.name] = sampler.draw(n, start)
            elif sampler is not None:
                columns[column.name] = sampler.draw(n)
        rows = [{name: values[i] for name, values in columns.items()} for i in range(n)]
        for column in self.order:
            if column.kind == "expression":
                for row in rows:
                    row[column.name] = column.expression(row)
        return rows

    def batches(self) -> Iterator[TableBatch]:
        seen = {rule.column: set() for rule in self.table.rules if rule.kind == "unique"}
        done = 0
        while done < self.table.rows:
            want = min(BATCH_ROWS, self.table.rows - done)
            kept: list[dict[str, Any]] = []
            for _attempt in range(RETRY_ROUNDS):
                for row in self._candidates(want - len(kept), done + len(kept)):
                    if _row_ok(row, self.table.rules, seen):
                        for column, values in seen.items():
                            values.add(row[column])
                        kept.append(row)
                if len(kept) == want:
                    break
            if len(kept) < want:
                raise GenerationFailed(
                    f"{self.table.name}: only {done + len(kept)} of {self.table.rows} rows meet the rules after "
                    f"{RETRY_ROUNDS} rounds of redraws; loosen the rules or widen the samplers"
                )
            done += len(kept)
            yield TableBatch(self.table.name, kept, done, self.table.rows)


def generate(spec: DatasetSpec) -> Iterator[TableBatch]:
    """Tables in spec order (parents before children), each in batches of up to BATCH_ROWS rows."""
    parent_keys: dict[tuple[str, str], list[Any]] = {}
    wanted = {(c.params["table"], c.params["column"]) for t in spec.tables for c in t.columns if c.kind == "reference"}
    for table in spec.tables:
        generator = TableGenerator(table, spec, parent_keys)
        for batch in generator.batches():
            for key in wanted:
                if key[0] == table.name:
                    parent_keys.setdefault(key, []).extend(row[key[1]] for row in batch.rows)
            yield batch

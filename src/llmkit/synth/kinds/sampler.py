"""`sampler` columns: values drawn independently per row, vectorized per batch (sequence, uuid, numbers,
choice, boolean, dates, Faker providers in the table's locale or in each row's locale)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from llmkit.synth.draw import ColumnDrawer, DrawContext, clipped, random_stream, rounded
from llmkit.synth.fields import NUMBER, need, parse_date
from llmkit.synth.kinds import ColumnKind, register_kind
from llmkit.synth.types import ColumnSpec, SpecError, TableSpec

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
FAKER_POOL = 2_000  # distinct values drawn from Faker per provider, then sampled: ~30x faster than a call per row
_NUMBER = {"type": "number"}

# ---- parsing ------------------------------------------------------------------------------------------


def _check_range(params: dict[str, Any], path: str) -> None:
    low, high = need(params, "min", path, NUMBER), need(params, "max", path, NUMBER)
    if low > high:
        raise SpecError(f"{path}.min", f"min {low} is greater than max {high}")


def _check_spread(params: dict[str, Any], path: str) -> None:
    need(params, "mean", path, NUMBER)
    if need(params, "std", path, NUMBER) <= 0:
        raise SpecError(f"{path}.std", "must be > 0")


def _check_poisson(params: dict[str, Any], path: str) -> None:
    if need(params, "lam", path, NUMBER) <= 0:
        raise SpecError(f"{path}.lam", "must be > 0")


def _check_choice(params: dict[str, Any], path: str) -> None:
    values = need(params, "values", path, list)
    if not values:
        raise SpecError(f"{path}.values", "needs at least one value")
    weights = params.get("weights")
    if weights is None:
        return
    if not isinstance(weights, list) or len(weights) != len(values):
        raise SpecError(f"{path}.weights", f"needs one weight per value ({len(values)})")
    if any(not isinstance(w, NUMBER) or w < 0 for w in weights) or sum(weights) <= 0:
        raise SpecError(f"{path}.weights", "weights must be >= 0 and not all 0")


def _check_dates(params: dict[str, Any], path: str) -> None:
    start, end = (parse_date(params.get(key), f"{path}.{key}") for key in ("start", "end"))
    if start > end:
        raise SpecError(f"{path}.start", f"start {start} is after end {end}")


def _check_boolean(params: dict[str, Any], path: str) -> None:
    p = params.get("p", 0.5)
    if not isinstance(p, NUMBER) or not 0 <= p <= 1:
        raise SpecError(f"{path}.p", "must be a probability in [0, 1]")


def _check_faker(params: dict[str, Any], path: str) -> None:
    need(params, "provider", path, str)  # checked against Faker when the table's locale is known
    if not isinstance(params.get("args", {}), dict):
        raise SpecError(f"{path}.args", "expected a mapping of the provider's arguments")


_CHECKS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "uniform": _check_range,
    "integer": _check_range,
    "normal": _check_spread,
    "lognormal": _check_spread,
    "poisson": _check_poisson,
    "choice": _check_choice,
    "date": _check_dates,
    "datetime": _check_dates,
    "boolean": _check_boolean,
    "faker": _check_faker,
}


def parse(column: ColumnSpec, path: str) -> None:
    sampler = column.params.get("sampler")
    if sampler not in SAMPLERS:
        raise SpecError(f"{path}.sampler", f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    check = _CHECKS.get(sampler)
    if check is not None:  # sequence and uuid take no parameters worth checking
        check(column.params, path)


def json_schema() -> dict[str, Any]:
    return {
        "title": "sampler",
        "properties": {
            "kind": {"const": "sampler"},
            "sampler": {"enum": list(SAMPLERS)},
            "start": {},
            "end": {},
            "min": _NUMBER,
            "max": _NUMBER,
            "mean": _NUMBER,
            "std": _NUMBER,
            "lam": _NUMBER,
            "p": _NUMBER,
            "decimals": {"type": "integer"},
            "values": {"type": "array"},
            "weights": {"type": "array", "items": _NUMBER},
            "provider": {"type": "string", "description": "a Faker provider, e.g. name, city, iban"},
            "args": {"type": "object"},
            "pool": {"type": "integer", "minimum": 1},
        },  # fmt: skip
        "required": ["name", "sampler"],
    }


# ---- drawing ------------------------------------------------------------------------------------------


def _choice(rng, p: dict[str, Any], n: int) -> list[Any]:
    weights = p.get("weights")
    probabilities = None if weights is None else [w / sum(weights) for w in weights]
    indexes = rng.choice(len(p["values"]), size=n, p=probabilities)
    return [p["values"][i] for i in indexes]


def _dates(rng, p: dict[str, Any], n: int) -> list[Any]:
    start, end = parse_date(p["start"], "start"), parse_date(p["end"], "end")
    days = rng.integers(0, (end - start).days + 1, n)
    return [(start + dt.timedelta(days=int(d))).date() for d in days]


def _datetimes(rng, p: dict[str, Any], n: int) -> list[Any]:
    start, end = parse_date(p["start"], "start"), parse_date(p["end"], "end")
    seconds = rng.integers(0, int((end - start).total_seconds()) + 1, n)
    return [start + dt.timedelta(seconds=int(s)) for s in seconds]


def _uuids(rng, p: dict[str, Any], n: int) -> list[Any]:
    return [str(uuid.UUID(bytes=bytes(b), version=4)) for b in rng.integers(0, 256, (n, 16), dtype="uint8")]


# Each (random stream, params, count) -> values; sequence and faker need more than that (see the drawer).
_DRAWS: dict[str, Callable[[Any, dict[str, Any], int], list[Any]]] = {
    "uuid": _uuids,
    "integer": lambda rng, p, n: rng.integers(int(p["min"]), int(p["max"]) + 1, n).tolist(),
    "uniform": lambda rng, p, n: rounded(rng.uniform(p["min"], p["max"], n), p),
    "normal": lambda rng, p, n: rounded(clipped(rng.normal(p["mean"], p["std"], n), p), p),
    "lognormal": lambda rng, p, n: rounded(clipped(rng.lognormal(p["mean"], p["std"], n), p), p),
    "poisson": lambda rng, p, n: rng.poisson(p["lam"], n).tolist(),
    "boolean": lambda rng, p, n: (rng.random(n) < p.get("p", 0.5)).tolist(),
    "choice": _choice,
    "date": _dates,
    "datetime": _datetimes,
}


class SamplerDrawer(ColumnDrawer):
    """Draws values for one sampler column, in batches, from its own random stream."""

    def __init__(self, column: ColumnSpec, table: TableSpec, seed: int) -> None:
        self.column, self.params = column, column.params
        self.seed, self.table_name = seed, table.name
        self.rng = random_stream(seed, table.name, column.name)
        self.kind = self.params["sampler"]
        self.unique_by_construction = self.kind in ("sequence", "uuid")
        self.pools: dict[str, list[Any]] = {}  # per locale, when the table mixes locales
        if self.kind == "faker":
            self.pools = _faker_pools(column, table, seed)
        self.pool = [value for pool in self.pools.values() for value in pool]

    @property
    def needs_locale(self) -> bool:
        return len(self.pools) > 1

    def begin(self, batch: int) -> None:
        self.rng = random_stream(self.seed, self.table_name, self.column.name, str(batch))

    def draw(self, slots: list[int], drawn: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {self.column.name: self._values(slots, drawn)}

    def _values(self, slots: list[int], drawn: dict[str, list[Any]]) -> list[Any]:
        rng, n = self.rng, len(slots)
        if self.needs_locale:  # each row from its own locale's pool
            picks = rng.integers(0, len(next(iter(self.pools.values()))), n)
            return [self.pools[locale][int(i)] for locale, i in zip(drawn["locale"], picks, strict=True)]
        if self.kind == "sequence":
            start = int(self.params.get("start", 1))
            return [start + slot for slot in slots]
        if self.kind == "faker":
            return [self.pool[i] for i in rng.integers(0, len(self.pool), n)]
        return _DRAWS[self.kind](rng, self.params, n)

    def domain_size(self) -> float:
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
            return len(set(map(str, self.pool)))
        return float("inf")


def _drawer(column: ColumnSpec, context: DrawContext) -> SamplerDrawer:
    return SamplerDrawer(column, context.table, context.seed)


# ---- Faker ---------------------------------------------------------------------------------------------


def _faker_pools(column: ColumnSpec, table: TableSpec, seed: int) -> dict[str, list[Any]]:
    """A pool of drawn values per locale of the table; rows then sample from the pools."""
    pools = {}
    size, args = int(column.params.get("pool", FAKER_POOL)), column.params.get("args", {})
    for locale in table.locales or [table.locale]:
        key = f"{table.name}.{column.name}" + (f".{locale}" if len(table.locales) > 1 else "")
        pools[locale] = _faker_pool(column.params["provider"], locale, seed, key, size, args)
    return pools


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
    that order about half the time, pair by pair (at most 0.59 for 40 words over 60 hash seeds); a list made
    from a set agrees almost always (at least 0.85 there: rebuilding the set can move a colliding item)."""
    if len(values) < _MIN_ORDER_CHECK or not all(type(v) is str for v in values):  # int hashes are fixed
        return False
    rank = {value: i for i, value in enumerate(set(values))}
    agree = sum(rank[a] < rank[b] for a, b in zip(values, values[1:], strict=False))
    return agree >= 0.75 * (len(values) - 1)


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


register_kind(ColumnKind("sampler", parse, _drawer, json_schema, order=10))

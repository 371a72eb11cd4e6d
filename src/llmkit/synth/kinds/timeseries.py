"""`timeseries` columns: per-entity ordered events. `role: time` gives each entity's times (start, step,
jitter, spread); `role: value` a level per entity plus trend, seasonality and noise. The entity is a
reference column, whose children stay together, so a child's rank among its siblings is its time step."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from llmkit.synth.draw import ColumnDrawer, DrawContext, clipped, random_stream, rounded, value_key
from llmkit.synth.fields import need, parse_date, parse_every
from llmkit.synth.kinds import ColumnKind, register_kind
from llmkit.synth.types import ColumnSpec, SpecError, TableSpec

_NUMBER = {"type": "number"}


def _check_time(params: dict[str, Any], path: str) -> None:
    parse_date(params.get("start"), f"{path}.start")
    parse_every(params.get("every", "1d"), f"{path}.every")
    jitter = params.get("jitter", 0)
    if not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
        raise SpecError(f"{path}.jitter", "must be a fraction of the step in [0, 1]")


def _check_value(params: dict[str, Any], path: str) -> None:
    level = params.get("level", {"mean": 0, "std": 0})
    if not isinstance(level, dict) or not isinstance(level.get("mean", 0), (int, float)):
        raise SpecError(f"{path}.level", "expected {mean: number, std: number}")
    if level.get("std", 0) < 0 or params.get("noise", 0) < 0:
        raise SpecError(f"{path}.noise", "noise and level.std must be >= 0")
    season = params.get("season")
    if season is not None and (not isinstance(season, dict) or season.get("period", 0) <= 0):
        raise SpecError(f"{path}.season", "expected {period: steps > 0, amplitude: number}")


def parse(column: ColumnSpec, path: str) -> None:
    params = column.params
    need(params, "entity", path, str)
    role = params.get("role", "value")
    if role == "time":
        _check_time(params, path)
    elif role == "value":
        _check_value(params, path)
    else:
        raise SpecError(f"{path}.role", "expected time or value")
    column.depends_on = [params["entity"]]


def check_in_table(table: TableSpec, column: ColumnSpec, path: str) -> None:
    entity = table.column(column.params["entity"])
    if entity is None or entity.kind != "reference":
        raise SpecError(f"{path}.entity", "must name a reference column of this table (its children stay together)")


def json_schema() -> dict[str, Any]:
    return {
        "title": "timeseries",
        "properties": {
            "kind": {"const": "timeseries"},
            "entity": {"type": "string", "description": "a reference column: one series per parent"},
            "role": {"enum": ["time", "value"]},
            "start": {"type": "string", "description": "ISO date or datetime, e.g. 2024-01-31"},
            "every": {"type": ["string", "number"]},
            "spread": {"type": ["string", "number"]},
            "jitter": _NUMBER,
            "trend": _NUMBER,
            "noise": _NUMBER,
            "min": _NUMBER,
            "max": _NUMBER,
            "decimals": {"type": "integer"},
            "level": {"type": "object", "properties": {"mean": _NUMBER, "std": _NUMBER}},
            "season": {
                "type": "object",
                "properties": {"period": _NUMBER, "amplitude": _NUMBER, "random_phase": {"type": "boolean"}},
            },
        },  # fmt: skip
        "required": ["name", "kind", "entity"],
    }


class SeriesDrawer(ColumnDrawer):
    """Per-entity ordered times, or values with a level per entity, trend, seasonality and noise."""

    def __init__(self, column: ColumnSpec, context: DrawContext) -> None:
        table = context.table
        self.column, self.params = column, column.params
        self.entity = context.drawers[self.params["entity"]]  # a ReferenceDrawer (checked when parsed)
        self.seed, self.key = context.seed, f"{table.name}.{column.name}"
        self.ranks = self.entity.ranks()
        self.rng = random_stream(context.seed, table.name, column.name)

    def begin(self, batch: int) -> None:
        self.rng = random_stream(self.seed, self.key, str(batch))

    def _entity_stream(self, key: Any) -> Any:
        """An entity's own stream: its offset, level and phase are the same in every batch."""
        return random_stream(self.seed, self.key, "entity", value_key(key))

    def draw(self, slots: list[int], drawn: dict[str, list[Any]]) -> dict[str, list[Any]]:
        keys = [self.entity.keys[slot] for slot in slots]
        steps = [self.ranks[slot] for slot in slots]
        noise = self.rng.standard_normal(len(slots))  # drawn for both roles: the streams stay as they were
        if self.params.get("role", "value") == "time":
            return {self.column.name: self._times(keys, steps)}
        return {self.column.name: self._values(keys, steps, noise)}

    def _times(self, keys: list[Any], steps: list[int]) -> list[Any]:
        p = self.params
        every = parse_every(p.get("every", "1d"), "every")
        spread = parse_every(p["spread"], "spread").total_seconds() if "spread" in p else 0.0
        start, jitter = parse_date(p["start"], "start"), float(p.get("jitter", 0))
        times = []
        for key, step, u in zip(keys, steps, self.rng.random(len(keys)), strict=True):
            offset = float(self._entity_stream(key).random()) * spread
            moment = start + dt.timedelta(seconds=offset) + every * (step + jitter * u)
            times.append(moment.replace(microsecond=0))
        return times

    def _values(self, keys: list[Any], steps: list[int], noise) -> list[Any]:
        p = self.params
        level, season = p.get("level", {}), p.get("season") or {}
        values = []
        for key, step, z in zip(keys, steps, noise, strict=True):
            entity = self._entity_stream(key)
            base = float(level.get("mean", 0)) + float(level.get("std", 0)) * float(entity.standard_normal())
            wave = 0.0
            if season:
                phase = float(entity.random()) * 2 * math.pi if season.get("random_phase") else 0.0
                wave = float(season.get("amplitude", 0)) * math.sin(2 * math.pi * step / season["period"] + phase)
            values.append(base + float(p.get("trend", 0)) * step + wave + float(p.get("noise", 0)) * float(z))
        return rounded(clipped(values, p), p)


register_kind(ColumnKind("timeseries", parse, SeriesDrawer, json_schema, check_in_table=check_in_table, order=50))

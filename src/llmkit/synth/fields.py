"""Reading one field of a spec: present and of the right type, a date, a time step. Errors name the field."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from llmkit.synth.types import SpecError

NUMBER = (int, float)


def need(mapping: Any, key: str, path: str, kind: type | tuple[type, ...]) -> Any:
    """`mapping[key]`, which must be there and of `kind` (a bool is not an int here, though Python says so)."""
    if not isinstance(mapping, dict) or key not in mapping:
        raise SpecError(f"{path}.{key}", "missing")
    value = mapping[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SpecError(f"{path}.{key}", f"expected {names}, got {type(value).__name__}")
    return value


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


def parse_every(value: Any, path: str) -> dt.timedelta:
    """'1d', '6h', '30m', '45s' or a number of days."""
    if isinstance(value, (int, float)) and value > 0:
        return dt.timedelta(days=value)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([dhms])", str(value))
    if not match:
        raise SpecError(path, f"expected a step such as 1d, 6h, 30m or 45s, got {value!r}")
    unit = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}[match.group(2)]
    return dt.timedelta(**{unit: float(match.group(1))})

"""One event vocabulary for every capability's stream, and the serialisers adapters share.

Generation, transcription, minutes and synthetic data each stream typed events. Every event has a
`type` ("delta", "minutes.progress", ...) and `to_dict()` (JSON-ready: dates as ISO text, paths as text),
so one serialiser writes any capability's stream as JSON lines, Server-Sent Events, WebSocket messages
or UI updates; the CLI still renders the typed objects directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar


class Event:
    """Mixin for a dataclass event: `type` names it on the wire; `to_dict` is its JSON form."""

    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        fields = {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        return {"type": self.type, **fields}


def plain(value: Any) -> Any:
    """A value in JSON's vocabulary: nested dataclasses (their own to_dict when they have one), lists,
    dicts with text keys, dates as ISO text, paths as text."""
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def to_json_line(event: Event) -> str:
    """One line of JSON Lines (no trailing newline)."""
    return json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"))


def to_sse(event: Event) -> str:
    """One Server-Sent Event: `event: <type>` and the JSON as its data, ended by a blank line."""
    return f"event: {event.type}\ndata: {to_json_line(event)}\n\n"

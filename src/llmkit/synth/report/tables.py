"""Reading a run's outputs back (CSV, JSONL, Parquet parts, SQLite) and typing their text into values."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError

TEXT_MIN_LENGTH = 25  # a string column whose values average this many characters is free text
CATEGORY_LIMIT = 50  # more distinct strings than this (and not text): an identifier-like column


@dataclass
class Column:
    name: str
    kind: str  # numeric | datetime | boolean | categorical | text | id
    values: list[Any]  # typed; None where empty


def load_tables(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Rows per table from a run's folder (CSV, JSONL, Parquet parts, SQLite) or one CSV, JSONL, Parquet or
    SQLite file. A file that cannot be read as its suffix says fails naming the file."""
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"{path}: no such file or folder")
    files = [path] if path.is_file() else sorted(path.iterdir())
    tables: dict[str, list[dict[str, Any]]] = {}
    for file in files:
        try:
            tables.update(_load_one(file))
        except (OSError, UnicodeDecodeError, ValueError, csv.Error, sqlite3.DatabaseError) as exc:
            raise InvalidInputError(f"{file}: cannot read it as {file.suffix.lstrip('.') or 'data'}: {exc}") from exc
    if not tables:
        raise InvalidInputError(f"{path}: no CSV, JSONL, Parquet or SQLite tables found")
    return tables


def _load_one(file: Path) -> dict[str, list[dict[str, Any]]]:
    if file.suffix == ".csv":
        with file.open(newline="", encoding="utf-8") as handle:
            return {file.stem: list(csv.DictReader(handle))}
    if file.suffix == ".jsonl":
        with file.open(encoding="utf-8") as handle:
            return {file.stem: [json.loads(line) for line in handle if line.strip()]}
    if file.suffix in (".sqlite", ".db") and file.is_file():
        return _load_sqlite(file)
    if file.suffix == ".parquet" and file.is_file():
        import pyarrow.parquet as pq

        return {file.stem: pq.read_table(file).to_pylist()}
    if file.is_dir() and any(file.glob("part-*.parquet")):
        import pyarrow.parquet as pq

        return {file.name: [r for part in sorted(file.glob("part-*.parquet")) for r in pq.read_table(part).to_pylist()]}
    if file.is_dir() and file.name == "parquet":  # the hf format keeps its Parquet parts here
        return load_tables(file)
    return {}


def _load_sqlite(file: Path) -> dict[str, list[dict[str, Any]]]:
    db = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)  # read-only: a report never writes
    try:
        tables = {}
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            cursor = db.execute(f'SELECT * FROM "{name}"')
            names = [d[0] for d in cursor.description]
            tables[name] = [dict(zip(names, row, strict=True)) for row in cursor]
        return tables
    finally:
        db.close()


def _typed(raw: Any) -> Any:
    """A value as it was generated, from the text a CSV gives back (JSONL and Parquet keep types)."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        return raw
    if raw in ("True", "False", "true", "false"):
        return raw.lower() == "true"
    try:
        number = float(raw)
        return int(number) if number.is_integer() and "." not in raw and "e" not in raw.lower() else number
    except ValueError:
        pass
    if len(raw) >= 10 and raw[4] == "-" and raw[7] == "-":
        try:
            value = dt.datetime.fromisoformat(raw)
            return value.date() if len(raw) == 10 else value
        except ValueError:
            pass
    return raw


def columns_of(rows: list[dict[str, Any]]) -> list[Column]:
    names = list(rows[0]) if rows else []
    out = []
    for name in names:
        values = [_typed(row.get(name)) for row in rows]
        out.append(Column(name, _kind(values), values))
    return out


def typed_rows(columns: list[Column]) -> list[dict[str, Any]]:
    """The rows again, with typed values (the rule checks compare numbers and dates, not text)."""
    names = [c.name for c in columns]
    return [dict(zip(names, values, strict=True)) for values in zip(*[c.values for c in columns], strict=True)]


def _kind(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "categorical"
    if all(isinstance(v, bool) for v in present):
        return "boolean"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "numeric"
    if all(isinstance(v, (dt.date, dt.datetime)) for v in present):
        return "datetime"
    strings = [str(v) for v in present]
    if sum(map(len, strings)) / len(strings) >= TEXT_MIN_LENGTH:
        return "text"
    return "categorical" if len(set(strings)) <= CATEGORY_LIMIT else "id"


def as_number(value: Any) -> float | None:
    """Numbers, dates and booleans on one axis, for histograms and correlations."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dt.date):
        return float(value.toordinal())
    if isinstance(value, bool):
        return float(value)
    return float(value) if isinstance(value, (int, float)) else None


def read_reference(reference: Path) -> list[Column]:
    """The columns of a real CSV to compare against."""
    if not reference.is_file():
        raise InvalidInputError(f"{reference}: reference CSV not found")
    try:
        with reference.open(newline="", encoding="utf-8") as handle:
            return columns_of(list(csv.DictReader(handle)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"{reference}: cannot read the reference as a UTF-8 CSV file: {exc}") from exc

"""Writers that take rows batch by batch (memory stays flat): CSV, JSONL, SQLite (one database, foreign
keys declared). A registry, so more formats plug in the same way."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError
from llmkit.synth.spec import DatasetSpec


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


class CsvWriter:
    suffix = ".csv"

    def __init__(self, folder: Path, spec: DatasetSpec) -> None:
        self.folder, self.spec, self._files = folder, spec, {}

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        if table not in self._files:
            handle = (self.folder / f"{table}{self.suffix}").open("w", newline="", encoding="utf-8")
            columns = [c.name for c in self.spec.table(table).columns]
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            self._files[table] = (handle, writer)
        handle, writer = self._files[table]
        writer.writerows({k: _plain(v) for k, v in row.items()} for row in rows)
        handle.flush()

    def close(self) -> None:
        for handle, _ in self._files.values():
            handle.close()


class JsonlWriter(CsvWriter):
    suffix = ".jsonl"

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        if table not in self._files:
            self._files[table] = ((self.folder / f"{table}{self.suffix}").open("w", encoding="utf-8"), None)
        handle, _ = self._files[table]
        handle.writelines(json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n" for row in rows)
        handle.flush()


class SqliteWriter:
    def __init__(self, folder: Path, spec: DatasetSpec) -> None:
        self.spec = spec
        self.db = sqlite3.connect(folder / f"{spec.name}.sqlite")
        self.db.execute("PRAGMA foreign_keys = ON")
        for table in spec.tables:
            self.db.execute(f'DROP TABLE IF EXISTS "{table.name}"')
        for table in spec.tables:
            columns = [f'"{c.name}"' for c in table.columns]
            keys = [
                f'FOREIGN KEY("{c.name}") REFERENCES "{c.params["table"]}"("{c.params["column"]}")'
                for c in table.columns
                if c.kind == "reference"
            ]
            uniques = {r.column for r in table.rules if r.kind == "unique"}
            columns = [f"{col} UNIQUE" if col.strip('"') in uniques else col for col in columns]
            self.db.execute(f'CREATE TABLE "{table.name}" ({", ".join(columns + keys)})')

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        names = [c.name for c in self.spec.table(table).columns]
        marks = ", ".join("?" for _ in names)
        self.db.executemany(
            f'INSERT INTO "{table}" VALUES ({marks})', ([_plain(row[n]) for n in names] for row in rows)
        )
        self.db.commit()  # each finished batch is on disk

    def close(self) -> None:
        self.db.close()


WRITERS = {"csv": CsvWriter, "jsonl": JsonlWriter, "sqlite": SqliteWriter}


def open_writer(fmt: str, folder: Path, spec: DatasetSpec):
    if fmt not in WRITERS:
        raise InvalidInputError(f"unknown export format {fmt!r}; known: {', '.join(WRITERS)}")
    folder.mkdir(parents=True, exist_ok=True)
    return WRITERS[fmt](folder, spec)

"""Writers that take rows batch by batch (memory stays flat): CSV, JSONL, Parquet (a part file per
batch), SQLite (one database, foreign keys declared) and a Hugging Face `datasets` folder. A registry, so
more formats plug in the same way.

Every writer can resume: `checkpoint()` says what is on disk after the last finished batch, and a writer
opened with that checkpoint first cuts anything written after it (a batch half-written when the
process died), then appends. `read_back(table)` gives the rows already written.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError
from llmkit.extras import require
from llmkit.synth.spec import DatasetSpec


def plain_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def plain_columns(rows: list[dict[str, Any]], names: list[str]) -> list[list[Any]]:
    """The batch column by column, dates as ISO text (converted only in columns that hold dates)."""
    columns = []
    for name in names:
        values = [row[name] for row in rows]
        first = next((v for v in values if v is not None), None)  # a generated column holds one type
        if isinstance(first, (dt.date, dt.datetime)):
            values = [plain_value(v) for v in values]
        columns.append(values)
    return columns


class CsvWriter:
    suffix = ".csv"

    def __init__(self, folder: Path, spec: DatasetSpec, checkpoint: dict[str, Any] | None = None) -> None:
        self.folder, self.spec, self._files = folder, spec, {}
        self._sizes: dict[str, int] = dict(checkpoint or {})
        for table in spec.tables:  # a fresh run replaces old files; a resumed one cuts them back
            path = self._path(table.name)
            if table.name in self._sizes and path.exists():
                with path.open("r+b") as handle:
                    handle.truncate(self._sizes[table.name])
            else:
                path.unlink(missing_ok=True)
                self._sizes.pop(table.name, None)

    def _path(self, table: str) -> Path:
        return self.folder / f"{table}{self.suffix}"

    def location(self, table: str) -> Path:
        """Where `table` is written (named when writing fails)."""
        return self._path(table)

    def _open(self, table: str) -> Any:
        if table not in self._files:
            fresh = table not in self._sizes
            handle = self._path(table).open("a", newline="", encoding="utf-8")
            writer = csv.writer(handle)
            if fresh:
                writer.writerow(self.spec.table(table).output_names)
            self._files[table] = (handle, writer)
        return self._files[table]

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        handle, writer = self._open(table)
        writer.writerows(zip(*plain_columns(rows, self.spec.table(table).output_names), strict=True))
        handle.flush()
        self._sizes[table] = handle.tell()

    def checkpoint(self) -> dict[str, Any]:
        return dict(self._sizes)

    def read_back(self, table: str) -> Iterator[dict[str, Any]]:
        if self._path(table).exists():
            with self._path(table).open(newline="", encoding="utf-8") as handle:
                yield from csv.DictReader(handle)

    def close(self) -> None:
        for handle, _ in self._files.values():
            handle.close()


class JsonlWriter(CsvWriter):
    suffix = ".jsonl"

    def _open(self, table: str) -> Any:
        if table not in self._files:
            self._files[table] = (self._path(table).open("a", encoding="utf-8"), None)
        return self._files[table]

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        handle, _ = self._open(table)
        names = self.spec.table(table).output_names
        handle.writelines(
            json.dumps({k: plain_value(row[k]) for k in names}, ensure_ascii=False) + "\n" for row in rows
        )
        handle.flush()
        self._sizes[table] = handle.tell()

    def read_back(self, table: str) -> Iterator[dict[str, Any]]:
        if self._path(table).exists():
            with self._path(table).open(encoding="utf-8") as handle:
                yield from (json.loads(line) for line in handle)


class ParquetWriter:
    """One Parquet file per batch under <table>/ (a batch is the unit a resumed run keeps or redoes)."""

    def __init__(self, folder: Path, spec: DatasetSpec, checkpoint: dict[str, Any] | None = None) -> None:
        self.pa = require("pyarrow", "Parquet export")
        import pyarrow.parquet  # noqa: F401 - the submodule `write_table` lives in

        self.folder, self.spec = folder, spec
        self._parts: dict[str, int] = dict(checkpoint or {})
        self._schemas: dict[str, Any] = {}
        for table in spec.tables:
            for part in sorted((folder / table.name).glob("part-*.parquet")):
                if int(part.stem.split("-")[1]) >= self._parts.get(table.name, 0):
                    part.unlink()

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        pa = self.pa
        names = self.spec.table(table).output_names
        columns = {name: [row[name] for row in rows] for name in names}
        data = pa.table(columns, schema=self._schemas.get(table))
        self._schemas.setdefault(table, data.schema)  # later batches keep the first batch's types
        number = self._parts.get(table, 0)
        (self.folder / table).mkdir(exist_ok=True)
        pa.parquet.write_table(data, self.folder / table / f"part-{number:05d}.parquet")
        self._parts[table] = number + 1

    def checkpoint(self) -> dict[str, Any]:
        return dict(self._parts)

    def location(self, table: str) -> Path:
        return self.folder / table / f"part-{self._parts.get(table, 0):05d}.parquet"

    def read_back(self, table: str) -> Iterator[dict[str, Any]]:
        for part in sorted((self.folder / table).glob("part-*.parquet")):
            yield from self.pa.parquet.read_table(part).to_pylist()

    def close(self) -> None:
        pass


class HfDatasetWriter(ParquetWriter):
    """Parquet parts under parquet/, then one `datasets.DatasetDict` (a split per table) saved under
    dataset/ when the run finishes: `datasets.load_from_disk("<out>/dataset")` opens it."""

    def __init__(self, folder: Path, spec: DatasetSpec, checkpoint: dict[str, Any] | None = None) -> None:
        self.out = folder
        (folder / "parquet").mkdir(parents=True, exist_ok=True)
        super().__init__(folder / "parquet", spec, checkpoint)

    def finish(self) -> None:
        datasets = require("datasets", "Hugging Face datasets export")
        splits = {}
        for table in self.spec.tables:
            parts = sorted(str(p) for p in (self.folder / table.name).glob("part-*.parquet"))
            if parts:
                splits[table.name] = datasets.Dataset.from_parquet(parts, cache_dir=str(self.out / ".cache"))
        datasets.DatasetDict(splits).save_to_disk(str(self.out / "dataset"))
        shutil.rmtree(self.out / ".cache", ignore_errors=True)  # datasets' Arrow copies of the parts


class SqliteWriter:
    def __init__(self, folder: Path, spec: DatasetSpec, checkpoint: dict[str, Any] | None = None) -> None:
        self.spec, self.path = spec, folder / f"{spec.name}.sqlite"
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA foreign_keys = ON")
        self._rows: dict[str, int] = dict(checkpoint or {})
        if checkpoint is not None:  # batches commit whole: only rows past the checkpoint can be extra
            for table in spec.tables:
                self.db.execute(f'DELETE FROM "{table.name}" WHERE rowid > ?', (self._rows.get(table.name, 0),))
            self.db.commit()
            return
        for table in reversed(spec.tables):
            self.db.execute(f'DROP TABLE IF EXISTS "{table.name}"')
        referenced: dict[str, set[str]] = {}
        for table in spec.tables:
            for c in table.columns:
                if c.kind == "reference":
                    referenced.setdefault(c.params["table"], set()).add(c.params["column"])
                elif c.kind == "hierarchy" and c.params.get("role", "manager") == "manager":
                    referenced.setdefault(table.name, set()).add(c.params["key"])
        for table in spec.tables:
            columns = [f'"{name}"' for name in table.output_names]
            keys = [
                f'FOREIGN KEY("{c.name}") REFERENCES "{c.params["table"]}"("{c.params["column"]}")'
                for c in table.columns
                if c.kind == "reference"
            ]
            # SQLite accepts a foreign key only into a UNIQUE (or primary key) column: referenced keys are declared so.
            uniques = {r.column for r in table.rules if r.kind == "unique"} | referenced.get(table.name, set())
            columns = [f"{col} UNIQUE" if col.strip('"') in uniques else col for col in columns]
            keys += [
                f'FOREIGN KEY("{c.name}") REFERENCES "{table.name}"("{c.params["key"]}")'
                for c in table.columns
                if c.kind == "hierarchy" and c.params.get("role", "manager") == "manager"
            ]
            self.db.execute(f'CREATE TABLE "{table.name}" ({", ".join(columns + keys)})')

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        names = self.spec.table(table).output_names
        marks = ", ".join("?" for _ in names)
        self.db.executemany(
            f'INSERT INTO "{table}" VALUES ({marks})', ([plain_value(row[n]) for n in names] for row in rows)
        )
        self.db.commit()  # each finished batch is on disk
        self._rows[table] = self._rows.get(table, 0) + len(rows)

    def checkpoint(self) -> dict[str, Any]:
        return dict(self._rows)

    def location(self, table: str) -> Path:
        return self.path

    def read_back(self, table: str) -> Iterator[dict[str, Any]]:
        cursor = self.db.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
        names = [d[0] for d in cursor.description]
        yield from (dict(zip(names, values, strict=True)) for values in cursor)

    def close(self) -> None:
        self.db.close()


WRITERS = {
    "csv": CsvWriter,
    "jsonl": JsonlWriter,
    "parquet": ParquetWriter,
    "sqlite": SqliteWriter,
    "hf": HfDatasetWriter,
}


def open_writer(fmt: str, folder: Path, spec: DatasetSpec, checkpoint: dict[str, Any] | None = None):
    if fmt not in WRITERS:
        raise InvalidInputError(f"unknown export format {fmt!r}; known: {', '.join(WRITERS)}")
    folder.mkdir(parents=True, exist_ok=True)
    return WRITERS[fmt](folder, spec, checkpoint)

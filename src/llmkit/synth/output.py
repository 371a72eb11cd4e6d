"""Where a run's files go: a folder, or one data file the user named (`-o customers.csv`); the room it needs.

A single file is generated in a hidden work folder beside it (`.customers.csv.synth/`, which keeps the
resume state) and moved into place when the run finishes; the work folder is then removed, so a finished
run leaves exactly the file asked for and a crashed one can still be resumed.

Failures to write (a read-only place, a file in the way, a full disk) become `OutputError`, naming the path.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError, LlmkitError
from llmkit.synth.export import open_writer, plain_columns
from llmkit.synth.spec import DatasetSpec

DATA_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet", ".sqlite": "sqlite", ".db": "sqlite"}
ESTIMATE_FROM_ROWS = 100_000  # smaller runs cannot surprise a disk; a larger one is sized before it starts
SAMPLE_ROWS = 500  # rows per table generated (in memory and a temporary folder) to measure bytes per row
# Refuse when the estimate exceeds the free space by more than it can be off: a 500-row sample sizes CSV and
# JSONL within ~5 %, but overstates Parquet (~17 %) and SQLite (~26 %), whose fixed overheads it cannot spread.
REFUSE_OVER = {"csv": 1.1, "jsonl": 1.1, "parquet": 1.3, "hf": 1.3, "sqlite": 1.4}
WARN_OVER = 0.5  # warn when it takes more than this share of the free space


class OutputError(InvalidInputError):
    """The output cannot be written: names the path and why; finished batches stay on disk."""


@dataclass(frozen=True)
class OutputTarget:
    folder: Path  # where the writers work: the output folder, or the hidden work folder of `file`
    fmt: str
    file: Path | None = None  # the one data file asked for


def output_target(spec: DatasetSpec, out: Path, fmt: str | None) -> OutputTarget:
    """A path ending in a data suffix (and not an existing folder) names one file; anything else a folder."""
    out = Path(out)
    wanted = DATA_SUFFIXES.get(out.suffix.lower())
    if wanted is None or out.is_dir():
        return OutputTarget(out, fmt or "csv")
    if fmt is not None and fmt != wanted:
        raise InvalidInputError(
            f"{out}: the suffix {out.suffix} means {wanted}, but the format asked for is {fmt}; "
            f"drop --format, or name a {fmt} file or a folder"
        )
    if len(spec.tables) > 1 and wanted != "sqlite":  # one SQLite database holds every table
        names = ", ".join(t.name for t in spec.tables)
        raise InvalidInputError(
            f"{out}: spec {spec.name!r} has {len(spec.tables)} tables ({names}), which do not fit one {wanted} file; "
            f"--out must be a folder (e.g. {out.with_suffix('')}/) or a .sqlite file"
        )
    return OutputTarget(out.parent / f".{out.name}.synth", wanted, out)


def deliver(target: OutputTarget, spec: DatasetSpec) -> None:
    """Move the finished table (or database) from the work folder to the file asked for; drop the folder."""
    assert target.file is not None
    work, table = target.folder, spec.tables[0].name
    if target.fmt in ("csv", "jsonl"):
        os.replace(work / f"{table}.{target.fmt}", target.file)
    elif target.fmt == "sqlite":
        os.replace(work / f"{spec.name}.sqlite", target.file)
    else:  # parquet: the parts (a batch each) become the row groups of one file
        import pyarrow.parquet as pq

        parts = sorted((work / table).glob("part-*.parquet"))
        joined = work / "joined.parquet"
        schema = pq.read_schema(parts[0])
        with pq.ParquetWriter(joined, schema) as writer:
            for part in parts:
                writer.write_table(pq.read_table(part, schema=schema))
        os.replace(joined, target.file)
    shutil.rmtree(work)


def make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), None)
        why = f"{blocker} is a file, not a folder" if blocker is not None else exc.strerror or str(exc)
        raise OutputError(f"{folder}: cannot create the output folder: {why}") from exc


def write_failure(exc: BaseException, where: Path, folder: Path, kept_batches: int) -> OutputError:
    """An OSError (or SQLite's own I/O error) while writing `where` (unless it names its own file), as one
    line naming the file and what is kept."""
    path = getattr(exc, "filename", None) or where
    why = getattr(exc, "strerror", None) or str(exc)
    kept = (
        f"; the {kept_batches} finished batch(es) are kept in {folder}: run the same command again to resume"
        if kept_batches
        else ""
    )
    hint = "; free some space or choose another --out" if "space" in why or "full" in why else ""
    return OutputError(f"{path}: cannot write: {why}{hint}{kept}")


def is_write_failure(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    words = ("disk", "full", "readonly", "read-only", "unable to open", "i/o")
    return isinstance(exc, sqlite3.OperationalError) and any(w in str(exc).lower() for w in words)


# ---- room on disk -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpaceEstimate:
    bytes: int  # about what the rest of the run writes
    free: int  # free bytes where it writes
    where: Path  # the existing folder the free space was measured on
    rows: int
    out: Path  # the output asked for
    fmt: str

    @property
    def size(self) -> str:
        return _size(self.bytes)

    @property
    def warning(self) -> str | None:
        if self.bytes <= self.free * WARN_OVER:
            return None
        return f"{self.rows:,} rows will take about {_size(self.bytes)}; {self.where} has {_size(self.free)} free"


def _size(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1000 or unit == "TB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1000
    return ""  # unreachable


def estimate_space(spec: DatasetSpec, target: OutputTarget, remaining: dict[str, int]) -> SpaceEstimate | None:
    """About how many bytes the `remaining` rows of each table take in the target format, from a small sample
    written with the real writer; None for small runs and for specs with LLM columns (too slow to sample)."""
    rows = sum(remaining.values())
    if rows < ESTIMATE_FROM_ROWS or any(table.uses_llm for table in spec.tables):
        return None
    from llmkit.synth.generate import generate

    sample = DatasetSpec(
        spec.name, spec.seed, [dataclasses.replace(t, rows=min(t.rows, SAMPLE_ROWS)) for t in spec.tables]
    )
    text_bytes: dict[str, int] = {t.name: 0 for t in spec.tables}
    fmt = "parquet" if target.fmt == "hf" else target.fmt
    with tempfile.TemporaryDirectory(prefix="llmkit-synth-sample-") as folder:
        writer = open_writer(fmt, Path(folder), sample)
        try:
            for batch in generate(sample):
                writer.write(batch.table, batch.rows)
                text_bytes[batch.table] += _csv_bytes(sample.table(batch.table).output_names, batch.rows)
        except LlmkitError:
            return None  # the run itself meets the same problem and reports it where it happens
        finally:
            writer.close()
        written = sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())
    ratio = written / max(sum(text_bytes.values()), 1)  # the format's size against plain CSV text
    if target.fmt == "hf":
        ratio *= 2  # the Parquet parts stay, and the dataset keeps its own Arrow copy
    per_row = {t.name: text_bytes[t.name] / max(t.rows, 1) for t in sample.tables}
    total = int(sum(per_row[name] * count for name, count in remaining.items()) * ratio)
    where = next(p for p in [target.folder, *target.folder.parents] if p.exists())
    return SpaceEstimate(total, shutil.disk_usage(where).free, where, rows, target.file or target.folder, target.fmt)


def refuse_without_room(estimate: SpaceEstimate | None) -> None:
    if estimate is not None and estimate.bytes > estimate.free * REFUSE_OVER.get(estimate.fmt, 1.1):
        raise OutputError(
            f"{estimate.out}: not enough disk space: {estimate.rows:,} rows need about {_size(estimate.bytes)} as "
            f"{estimate.fmt}, only {_size(estimate.free)} is free on {estimate.where}; lower --rows or choose "
            "another --out"
        )


def _csv_bytes(names: list[str], rows: list[dict[str, Any]]) -> int:
    text = io.StringIO()
    csv.writer(text).writerows(zip(*plain_columns(rows, names), strict=True))
    return len(text.getvalue().encode("utf-8"))


def previous_run_files(folder: Path, state: dict[str, Any]) -> list[Path]:
    """What an earlier run recorded in `state` wrote into `folder` (for --fresh to remove)."""
    fmt, tables = state.get("format"), state.get("tables") or list(state.get("batches", {}))
    files: list[Path] = []
    if fmt in ("csv", "jsonl"):
        files += [folder / f"{t}.{fmt}" for t in tables]
    elif fmt == "sqlite" and state.get("spec"):
        files.append(folder / f"{state['spec']}.sqlite")
    elif fmt in ("parquet", "hf"):
        parts = folder / "parquet" if fmt == "hf" else folder
        files += [part for t in tables for part in sorted((parts / t).glob("part-*.parquet"))]
    return files


def remove_previous_run(folder: Path, state: dict[str, Any]) -> None:
    for file in previous_run_files(folder, state):
        file.unlink(missing_ok=True)
        if file.suffix == ".parquet" and not any(file.parent.iterdir()):
            file.parent.rmdir()
    if state.get("format") == "hf":
        shutil.rmtree(folder / "dataset", ignore_errors=True)


__all__ = [
    "DATA_SUFFIXES",
    "OutputError",
    "OutputTarget",
    "SpaceEstimate",
    "refuse_without_room",
    "deliver",
    "estimate_space",
    "output_target",
]

"""Synthetic data runs: spec (or built-in template) -> rows in batches -> files, with progress events.

A run keeps `.synth-state.json` in its output folder, rewritten after every finished batch; started again
on the same spec, seed and format, it resumes after the last finished batch (what was written stays,
a half-written batch is cut). The state names the spec, tables and format, so a folder holding another
spec's run is refused rather than mixed. A single output file (`-o customers.csv`) is made in a hidden work
folder beside it (see `output`). When the run ends, `synth-run.json` records rows, timings and each LLM
column's validity, retries and near-duplicates, which the quality report reads.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from llmkit.errors import InvalidInputError
from llmkit.events import Event
from llmkit.synth.export import WRITERS, open_writer
from llmkit.synth.generate import (
    BATCH_ROWS,
    TableBatch,
    TableGenerator,
    TableStart,
    generate,
    parent_columns,
    value_key,
)
from llmkit.synth.output import (
    SpaceEstimate,
    deliver,
    estimate_space,
    is_write_failure,
    make_folder,
    output_target,
    refuse_without_room,
    remove_previous_run,
    write_failure,
)
from llmkit.synth.spec import DatasetSpec, TableSpec, load_spec

TEMPLATES = Path(__file__).parent / "templates"
STATE_FILE = ".synth-state.json"
RUN_FILE = "synth-run.json"


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.yaml"))


def template_path(name: str) -> Path:
    if name not in template_names():
        raise InvalidInputError(f"unknown template {name!r}; known: {', '.join(template_names())}")
    return TEMPLATES / f"{name}.yaml"


def resolve_spec(name_or_path: str, rows: int | None = None, seed: int | None = None) -> DatasetSpec:
    """A built-in template name or a YAML file; `rows` sets the first table's rows and the others scale
    with it (tables marked `fixed_rows`, such as a list of departments, keep theirs)."""
    path = TEMPLATES / f"{name_or_path}.yaml" if name_or_path in template_names() else Path(name_or_path)
    if not path.is_file():
        raise InvalidInputError(
            f"{name_or_path!r} is neither a template ({', '.join(template_names())}) nor a spec file"
        )
    if rows is not None and rows < 1:
        raise InvalidInputError(f"rows must be at least 1, got {rows}")
    spec = load_spec(path)
    if seed is not None:
        spec.seed = seed
    scalable = [table for table in spec.tables if not table.fixed_rows]
    if rows is not None and scalable:
        scale = rows / max(scalable[0].rows, 1)
        for table in scalable:
            table.rows = rows if table is scalable[0] else max(int(round(table.rows * scale)), 0)
    return spec


@dataclass(frozen=True)
class SynthProgress(Event):
    type: ClassVar[str] = "synth.progress"
    table: str
    done: int
    total: int


@dataclass
class RunSummary:
    """What `synth-run.json` holds."""

    spec: str
    seed: int
    format: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    resumed_batches: int = 0
    llm: list[dict[str, Any]] = field(default_factory=list)


def _fingerprint(spec: DatasetSpec, fmt: str, model: str | None) -> str:
    """Same spec (as parsed, rows and seed included), format and model: a run may resume."""
    text = json.dumps([repr(spec), fmt, model], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _read_state(folder: Path) -> dict[str, Any] | None:
    path = folder / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return state if isinstance(state, dict) else None


def _resumable(state: dict[str, Any] | None, fingerprint: str) -> bool:
    return state is not None and state.get("fingerprint") == fingerprint and not state.get("complete")


def _conflict(state: dict[str, Any], spec: DatasetSpec, fmt: str, folder: Path) -> str | None:
    """Why the files of the earlier run recorded in `state` would stay beside this run's (None: all replaced)."""
    tables = state.get("tables") or list(state.get("batches") or {})  # older states list tables only there
    reasons = []
    if state.get("spec") not in (None, spec.name):
        reasons.append(f"spec {state['spec']!r}")
    stale = [name for name in tables if spec.table(name) is None]
    if stale:
        reasons.append(f"table(s) {', '.join(stale)}, which {spec.name!r} does not make")
    if state.get("format") not in (None, fmt):
        reasons.append(f"{state['format']} files")
    if not reasons:
        return None
    return (
        f"{folder} holds another run's files ({'; '.join(reasons)}) that would be left beside this {fmt} run of "
        f"{spec.name!r}; start fresh (--fresh) to replace them, or choose another --out"
    )


def resume_point(spec: DatasetSpec, out: Path, fmt: str | None = None, model: str | None = None) -> int:
    """Finished batches of an unfinished run of this spec in `out` that `run` would keep (0: none)."""
    target = output_target(spec, Path(out), fmt)
    state = _read_state(target.folder)
    resumable = _resumable(state, _fingerprint(spec, target.fmt, model))
    return sum(state["batches"].values()) if resumable and state else 0


def space_needed(
    spec: DatasetSpec, out: Path, fmt: str | None = None, model: str | None = None, resume: bool = True
) -> SpaceEstimate | None:
    """About the disk space the run still needs (None for small runs); raises `OutputError` when it clearly
    exceeds the free space, before anything is generated."""
    target = output_target(spec, Path(out), fmt)
    state = _read_state(target.folder)
    done = state["batches"] if resume and _resumable(state, _fingerprint(spec, target.fmt, model)) and state else {}
    remaining = {
        t.name: max(t.rows - done.get(t.name, 0) * (t.batch_rows or BATCH_ROWS), 0) for t in spec.tables
    }
    estimate = estimate_space(spec, target, remaining)
    refuse_without_room(estimate)
    return estimate


def _write_state(folder: Path, state: dict[str, Any]) -> None:
    path = folder / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    temporary.replace(path)  # atomic: a kill never leaves half a state file


def _starts(spec: DatasetSpec, writer: Any, batches: dict[str, int]) -> tuple[dict[str, TableStart], dict]:
    """Rebuild what the written batches hold: unique values, LLM texts, parent keys."""
    starts: dict[str, TableStart] = {}
    parent_keys: dict[tuple[str, str], list[Any]] = {}
    wanted = parent_columns(spec)
    for table in spec.tables:
        if not batches.get(table.name):
            continue
        uniques = [r.column for r in table.rules if r.kind == "unique"]
        texts = [c.name for c in table.columns if c.kind == "llm"]
        start = TableStart(batches[table.name], {c: set() for c in uniques}, {c: [] for c in texts})
        keys = [column for (name, column) in wanted if name == table.name]
        for row in writer.read_back(table.name):
            for column in uniques:
                start.unique_values[column].add(value_key(row[column]))
            for column in texts:
                start.texts[column].append(str(row[column]))
            for column in keys:
                parent_keys.setdefault((table.name, column), []).append(row[column])
        starts[table.name] = start
    return starts, parent_keys


def run(
    spec: DatasetSpec,
    out: Path,
    fmt: str | None = None,
    *,
    model: str | None = None,
    engine: Any = None,
    resume: bool = True,
    check_space: bool = True,
) -> Iterator[SynthProgress]:
    """Write every table to `out` in `fmt`, a batch at a time; a failure keeps the batches already written.

    `out` is a folder, or one file for a single-table spec (`customers.csv`; any spec for `.sqlite`), whose
    suffix sets the format. `model` is the default for LLM columns that name none; `engine` (an
    `llmkit.Engine`) is created on first need. With `resume`, an unfinished run of the same spec, seed and
    format continues; a folder holding another spec's run is refused (without `resume`, that run's files
    are removed first). With `check_space`, a large run that clearly does not fit on the disk is refused.
    """
    target = output_target(spec, Path(out), fmt)
    folder, fmt = target.folder, target.fmt
    if fmt not in WRITERS:
        raise InvalidInputError(f"unknown export format {fmt!r}; known: {', '.join(WRITERS)}")
    fingerprint = _fingerprint(spec, fmt, model)
    previous = _read_state(folder)
    if previous is not None and resume and (conflict := _conflict(previous, spec, fmt, folder)):
        raise InvalidInputError(conflict)
    if check_space:
        space_needed(spec, Path(out), fmt, model, resume)
    make_folder(folder)
    if previous is not None and not resume:
        try:
            remove_previous_run(folder, previous)
        except OSError as exc:
            raise write_failure(exc, folder, folder, 0) from exc
    state = previous if resume and _resumable(previous, fingerprint) else None
    state = state or {"fingerprint": fingerprint, "batches": {}, "checkpoint": None}
    state.update(spec=spec.name, tables=[table.name for table in spec.tables], format=fmt)
    summary = RunSummary(spec.name, spec.seed, fmt, resumed_batches=sum(state["batches"].values()))
    generators: list[TableGenerator] = []
    started = time.perf_counter()
    writer, failed, table = None, True, None
    try:
        writer = open_writer(fmt, folder, spec, state["checkpoint"])
        starts, parent_keys = _starts(spec, writer, state["batches"])
        llm_columns = _llm_factory(spec, model, engine)
        for batch in generate(spec, llm_columns, starts, parent_keys, generators.append):
            table = batch.table
            writer.write(batch.table, batch.rows)
            table = None  # a failure from here on is the state file's, which names itself
            state["batches"][batch.table] = batch.index + 1
            state["checkpoint"] = writer.checkpoint()
            _write_state(folder, state)
            yield SynthProgress(batch.table, batch.done, batch.total)
        if hasattr(writer, "finish"):
            writer.finish()
        state["complete"] = True
        _write_state(folder, state)
        writer.close()
        if target.file is not None:
            deliver(target, spec)
        failed = False
    except Exception as exc:
        if is_write_failure(exc):
            where = writer.location(table) if writer is not None and table else folder
            raise write_failure(exc, where, folder, sum(state["batches"].values())) from exc
        raise
    finally:
        if writer is not None:
            _close(writer, folder, failed)
        summary.seconds = round(time.perf_counter() - started, 3)
        summary.rows = {t.name: _rows_done(t, state["batches"].get(t.name, 0), generators) for t in spec.tables}
        summary.llm = [llm.stats.to_dict() for g in generators for llm in g.llm.values()]
        if folder.is_dir():  # a single file's work folder is gone once the file is in place
            _write_summary(folder, summary, failed)


def _close(writer: Any, folder: Path, failed: bool) -> None:
    try:
        writer.close()
    except OSError as exc:  # after a failed write, closing retries the same buffered bytes: the first error stands
        if not failed:
            raise write_failure(exc, folder, folder, 0) from exc


def _write_summary(folder: Path, summary: RunSummary, failed: bool) -> None:
    try:
        (folder / RUN_FILE).write_text(json.dumps(summary.__dict__, indent=2), encoding="utf-8")
    except OSError as exc:
        if not failed:  # after a failure its own error says more (a full disk is why this write fails too)
            raise write_failure(exc, folder, folder, 0) from exc


def _rows_done(table: TableSpec, batches: int, generators: list[TableGenerator]) -> int:
    size = next((g.batch_rows for g in generators if g.table is table), 0)
    return min(batches * size, table.rows) if size else 0


def _llm_factory(spec: DatasetSpec, model: str | None, engine: Any) -> Any:
    if not any(table.uses_llm for table in spec.tables):
        return None
    holder: dict[str, Any] = {"engine": engine}

    def make(column, table):
        from llmkit.synth.llm import LlmColumn

        if holder["engine"] is None:
            from llmkit.generation import Engine

            holder["engine"] = Engine()
        return LlmColumn(column, table, spec.seed, holder["engine"], model)

    return make


__all__ = [
    "RunSummary",
    "SpaceEstimate",
    "SynthProgress",
    "TableBatch",
    "resolve_spec",
    "resume_point",
    "run",
    "space_needed",
    "template_names",
    "template_path",
]

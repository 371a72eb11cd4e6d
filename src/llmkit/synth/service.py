"""Synthetic data runs: spec (or built-in template) -> rows in batches -> files, with progress events.

A run keeps `.synth-state.json` in its output folder, rewritten after every finished batch; started again
on the same spec, seed and format, it resumes after the last finished batch (what was written stays,
a half-written batch is cut). When the run ends, `synth-run.json` records rows, timings and each LLM
column's validity, retries and near-duplicates, which the quality report reads.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmkit.errors import InvalidInputError
from llmkit.synth.export import open_writer
from llmkit.synth.generate import TableBatch, TableGenerator, TableStart, generate, parent_columns, value_key
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
class SynthProgress:
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


def _read_state(out: Path, fingerprint: str) -> dict[str, Any] | None:
    path = out / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return state if state.get("fingerprint") == fingerprint and not state.get("complete") else None


def _write_state(out: Path, state: dict[str, Any]) -> None:
    path = out / STATE_FILE
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
    fmt: str = "csv",
    *,
    model: str | None = None,
    engine: Any = None,
    resume: bool = True,
) -> Iterator[SynthProgress]:
    """Write every table to `out` in `fmt`, a batch at a time; a failure keeps the batches already written.

    `model` is the default for LLM columns that name none; `engine` (an `llmkit.Engine`) is created on
    first need. With `resume`, an unfinished run of the same spec, seed and format continues.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(spec, fmt, model)
    state = _read_state(out, fingerprint) if resume else None
    state = state or {"fingerprint": fingerprint, "batches": {}, "checkpoint": None}
    writer = open_writer(fmt, out, spec, state["checkpoint"])
    starts, parent_keys = _starts(spec, writer, state["batches"])
    summary = RunSummary(spec.name, spec.seed, fmt, resumed_batches=sum(state["batches"].values()))
    generators: list[TableGenerator] = []
    started = time.perf_counter()
    llm_columns = _llm_factory(spec, model, engine)
    try:
        for batch in generate(spec, llm_columns, starts, parent_keys, generators.append):
            writer.write(batch.table, batch.rows)
            state["batches"][batch.table] = batch.index + 1
            state["checkpoint"] = writer.checkpoint()
            _write_state(out, state)
            yield SynthProgress(batch.table, batch.done, batch.total)
        if hasattr(writer, "finish"):
            writer.finish()
        state["complete"] = True
        _write_state(out, state)
    finally:
        writer.close()
        summary.seconds = round(time.perf_counter() - started, 3)
        summary.rows = {t.name: _rows_done(t, state["batches"].get(t.name, 0), generators) for t in spec.tables}
        summary.llm = [llm.stats.to_dict() for g in generators for llm in g.llm.values()]
        (out / RUN_FILE).write_text(json.dumps(summary.__dict__, indent=2), encoding="utf-8")


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
            from llmkit.generation.service import Engine

            holder["engine"] = Engine()
        return LlmColumn(column, table, spec.seed, holder["engine"], model)

    return make


__all__ = ["RunSummary", "SynthProgress", "TableBatch", "resolve_spec", "run", "template_names", "template_path"]

"""Synthetic data runs: spec (or built-in template) -> rows in batches -> files, with progress events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from llmkit.errors import InvalidInputError
from llmkit.synth.export import open_writer
from llmkit.synth.generate import TableBatch, generate
from llmkit.synth.spec import DatasetSpec, load_spec

TEMPLATES = Path(__file__).parent / "templates"


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.yaml"))


def resolve_spec(name_or_path: str, rows: int | None = None, seed: int | None = None) -> DatasetSpec:
    """A built-in template name or a YAML file; `rows` sets the first table's rows (children scale with it)."""
    path = TEMPLATES / f"{name_or_path}.yaml" if name_or_path in template_names() else Path(name_or_path)
    if not path.is_file():
        raise InvalidInputError(
            f"{name_or_path!r} is neither a template ({', '.join(template_names())}) nor a spec file"
        )
    spec = load_spec(path)
    if seed is not None:
        spec.seed = seed
    if rows is not None:
        scale = rows / max(spec.tables[0].rows, 1)
        for table in spec.tables:
            table.rows = rows if table is spec.tables[0] else max(int(round(table.rows * scale)), 0)
    return spec


@dataclass(frozen=True)
class SynthProgress:
    table: str
    done: int
    total: int


def run(spec: DatasetSpec, out: Path, fmt: str = "csv") -> Iterator[SynthProgress]:
    """Write every table to `out` in `fmt`, a batch at a time; a failure keeps the batches already written."""
    writer = open_writer(fmt, out, spec)
    try:
        for batch in generate(spec):
            writer.write(batch.table, batch.rows)
            yield SynthProgress(batch.table, batch.done, batch.total)
    finally:
        writer.close()


__all__ = ["SynthProgress", "TableBatch", "resolve_spec", "run", "template_names"]

"""Many meetings, each in its own folder under one root: done ones skipped, one failure not stopping the rest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llmkit.asr import output_folders, remove_if_empty
from llmkit.errors import LlmkitError
from llmkit.minutes.types import MinutesEvent

if TYPE_CHECKING:
    from llmkit.minutes.service import MinutesPipeline


@dataclass(frozen=True)
class BatchEvent:
    """One meeting's event in a batch: an event of its stream, or that it was skipped or failed."""

    source: Path
    folder: Path
    event: MinutesEvent | None = None
    skipped: bool = False  # already done in `folder`
    error: LlmkitError | None = None  # this meeting failed; the batch goes on


def meeting_folder(source: Path, out_root: Path) -> Path:
    """The folder of one meeting run on its own (see `asr.files.output_folders` for a batch)."""
    return output_folders([source], out_root)[0]


def is_done(folder: Path) -> bool:
    return (folder / "minutes.json").is_file()


def stream_batch(
    pipeline: MinutesPipeline, sources: list[Path], out_root: Path, force: bool = False
) -> Iterator[BatchEvent]:
    """Each meeting into its own folder under `out_root` (`meeting`, `meeting-2` for a second file of that
    name); done ones skipped unless `force`; a failure is reported, not raised, and the folder it created
    removed if the run left nothing in it."""
    sources = [Path(source) for source in sources]
    for source, folder in zip(sources, output_folders(sources, out_root), strict=True):
        if is_done(folder) and not force:
            yield BatchEvent(source, folder, skipped=True)
            continue
        existed = folder.exists()
        try:
            for event in pipeline.stream(source, folder, reuse_transcript=not force):
                yield BatchEvent(source, folder, event)
        except LlmkitError as exc:
            if not existed:
                remove_if_empty([folder])
            yield BatchEvent(source, folder, error=exc)

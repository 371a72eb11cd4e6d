"""Meeting minutes tab: upload or record, progress (transcription %, part N/M) from the minutes event
stream, the transcript as the pipeline writes it, the summary as it streams, the rendered minutes and every
file it wrote (md, json, html, docx, txt, srt, vtt). The sample-meeting button runs the shipped sample."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmkit.asr import write_first_seconds
from llmkit.minutes import (
    MINUTES_FORMATS,
    SAMPLE_MEETING,
    MinutesDelta,
    MinutesDone,
    MinutesOptions,
    MinutesPipeline,
    MinutesProgress,
    to_markdown,
)
from llmkit.ui.app import UiContext, gradio, guarded, register_tab

QUICK_SECONDS = 45.0  # the same cut as `llmkit demo --quick`
_DOWNLOADS = (".md", ".json", ".html", ".docx", ".txt", ".srt", ".vtt")


def progress_line(event: MinutesProgress) -> str:
    if event.stage == "transcribe":
        share = event.done / event.total if event.total else 0.0
        return f"Transcribing: {share:.0%} of the audio ({event.done:.0f} s of {event.total:.0f} s)"
    if event.stage == "map":
        return f"Reading the transcript: {event.message or f'part {event.done:.0f}/{event.total:.0f}'}"
    return {"reduce": "Merging the parts...", "write": "Writing the minutes..."}.get(event.stage, event.message)


def transcript_so_far(folder: Path) -> str:
    """The transcript text the pipeline has written so far (its files grow segment by segment)."""
    for name in ("transcript.txt", "transcript.partial.txt"):
        path = folder / name
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace")
    return ""


def downloads(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if p.suffix in _DOWNLOADS and ".partial" not in p.name)


def _fraction(event: MinutesProgress) -> float:
    """Overall progress: transcription is the first half, the parts most of the rest."""
    share = event.done / event.total if event.total else 0.0
    return {"transcribe": 0.5 * share, "map": 0.5 + 0.4 * share, "reduce": 0.92, "write": 0.95}.get(event.stage, 0.0)


def run_minutes(ctx: UiContext, audio: str | None, quick: bool, progress: Any = None) -> Iterator[tuple]:
    """Yields (status, transcript, summary, minutes markdown, files)."""
    gr = gradio()
    if not audio:
        raise gr.Error("Upload a recording or record one with the microphone first (or run the sample meeting).")
    folder = ctx.session_dir("minutes")
    source = Path(audio)
    if quick:
        source = write_first_seconds(source, QUICK_SECONDS, folder)
    pipeline = ctx.shared("minutes", lambda: MinutesPipeline(
        MinutesOptions(formats=MINUTES_FORMATS), engine=ctx.engine))  # fmt: skip
    summary = ""
    # The pipeline's first progress event comes when a 10-minute window is done: say what runs until then
    yield "Transcribing: the first window of the audio...", "", "", "", None
    for event in pipeline.stream(source, folder):
        if isinstance(event, MinutesProgress):
            if progress is not None:
                progress(_fraction(event), desc=progress_line(event))
            yield progress_line(event), transcript_so_far(folder), summary, "", None
        elif isinstance(event, MinutesDelta):
            summary += event.text
            yield "Writing the summary...", transcript_so_far(folder), summary, "", None
        elif isinstance(event, MinutesDone):
            minutes = event.minutes
            done = f"Done in {minutes.stats.get('total_s', 0):.0f} s: {len(minutes.action_items)} action items."
            yield done, transcript_so_far(folder), minutes.summary, to_markdown(minutes), downloads(folder)


@register_tab("minutes", "Meeting minutes", order=30)
def build(ctx: UiContext) -> None:
    gr = gradio()
    with gr.Row():
        audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Recording", elem_id="min-audio")
        with gr.Column():
            quick = gr.Checkbox(value=False, label=f"Only the first {QUICK_SECONDS:.0f} s", elem_id="min-quick")
            run_button = gr.Button("Write minutes", variant="primary", elem_id="min-run")
            sample_button = gr.Button("Run the sample meeting", elem_id="min-sample")
            gr.Markdown(f"Sample: `{SAMPLE_MEETING.name}` (3 min, four voices, shipped with llmkit).")
    status = gr.Markdown("", elem_id="min-status")
    with gr.Row():
        transcript = gr.Textbox(label="Transcript", lines=12, max_lines=12, elem_id="min-transcript", interactive=False)
        summary = gr.Textbox(label="Summary", lines=12, elem_id="min-summary", interactive=False)
    rendered = gr.Markdown(elem_id="min-rendered")
    files = gr.File(label="Downloads", file_count="multiple", elem_id="min-files")
    outputs = [status, transcript, summary, rendered, files]
    tracker = gr.Progress()  # Gradio fills a handler's Progress default with the live tracker

    def on_run(audio_path: str | None, quick_only: bool, progress: Any = tracker) -> Iterator[tuple]:
        yield from run_minutes(ctx, audio_path, quick_only, progress)

    def on_sample(quick_only: bool, progress: Any = tracker) -> Iterator[tuple]:
        yield from run_minutes(ctx, str(SAMPLE_MEETING), quick_only, progress)

    run_button.click(guarded(on_run), [audio, quick], outputs, concurrency_id="minutes")
    sample_button.click(guarded(on_sample), [quick], outputs, concurrency_id="minutes")

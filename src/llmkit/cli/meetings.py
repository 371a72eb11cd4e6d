"""`llmkit transcribe` and `llmkit minutes`: thin adapters over `llmkit.asr` and `llmkit.minutes`.

Many files per call: each meeting gets its own folder under --out (`meeting`, `meeting-2` for a second file
of the same name); one that fails is reported and the rest go on (exit code 1 at the end if any failed); a
meeting already done is skipped unless --force. A failed rerun never destroys an earlier good result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from llmkit.cli.render import Progress, bar, render_minutes_batch
from llmkit.errors import LlmkitError


def _formats(value: str, known: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = [v for v in chosen if v not in known]
    if unknown or not chosen:
        raise click.BadParameter(f"{', '.join(unknown) or 'none given'}; choose from {', '.join(known)}")
    return chosen


def _speakers(value: str | None) -> tuple[int | None, list[str]]:
    """--speakers 3 (how many) or --speakers Dana,Omar,Ravi (who: the count, and names to choose from)."""
    if not value:
        return None, []
    if value.strip().isdigit():
        count = int(value)
        if not 1 <= count <= 20:
            raise click.BadParameter(f"{count}: between 1 and 20 speakers")
        return count, []
    from llmkit.minutes import distinct_names

    names = distinct_names(value.split(","))  # a name given twice is one person
    if not names:
        raise click.BadParameter(f"{value!r}: a number, or names separated by commas")
    return len(names), names


def _speaker_map(pairs: tuple[str, ...]) -> dict[str, str]:
    from llmkit.minutes import parse_speaker_map

    try:
        return parse_speaker_map(list(pairs))
    except LlmkitError as exc:
        raise click.BadParameter(str(exc)) from exc


def _diarize_option(default: str):
    return click.option(
        "--diarize/--no-diarize",
        "diarize",
        default=None,
        help="Tell speakers apart (needs pip install 'llmkit[speakers]'). "
        + ("Default: on when more than one voice is heard." if default == "auto" else "Default: off."),
    )


_SPEAKERS_HELP = (
    "How many people speak (3), or who (Dana,Omar,Ravi): a hint for diarization and naming "
    "(names the ASR mishears are matched to the list)."
)
_MAP_HELP = "Name a speaker yourself: SPEAKER_2=Dana (repeatable; wins over what the transcript says)."


def _report(failures: list[tuple[str, str]]) -> None:
    if failures:
        click.echo(f"{len(failures)} file(s) failed:", err=True)
        for source, error in failures:
            click.echo(f"  {source}: {error}", err=True)
        sys.exit(1)


@click.command()
@click.argument("audio", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "-o",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder for transcript files (one sub-folder per input). Without it, text goes to stdout.",
)
@click.option("--format", "formats", default="txt,srt,vtt,json", show_default=True, help="Comma-separated.")
@click.option("--asr-model", default=None, help="tiny.en (embedded), a CTranslate2 Whisper folder or hub id.")
@click.option("--asr-engine", default=None, help="faster-whisper (default) | openai.")
@click.option("--language", default=None, help="Language code (default: the model's own / detected).")
@click.option("--word-timestamps", is_flag=True, help="Also time every word (json).")
@click.option("--no-vad", is_flag=True, help="Transcribe silence too (VAD is on by default).")
@click.option("--force", is_flag=True, help="Redo files whose transcript is already in --out.")
@_diarize_option("off")
@click.option("--speakers", "speakers_hint", default=None, help=_SPEAKERS_HELP)
@click.option("--speaker-map", "speaker_map", multiple=True, help=_MAP_HELP)
def transcribe(
    audio, out, formats, asr_model, asr_engine, language, word_timestamps, no_vad, force, diarize, speakers_hint,
    speaker_map,
) -> None:  # fmt: skip
    """Transcribe AUDIO files (any format ffmpeg reads) with timestamps, showing progress; --diarize adds
    who said what (speakers named from what they say, --speakers, --speaker-map)."""
    from llmkit.asr import (
        TRANSCRIPT_FORMATS,
        Transcriber,
        TranscriptionOptions,
        TranscriptionProgress,
        TranscriptWriter,
        output_folders,
    )
    from llmkit.minutes import introductions, name_speakers

    chosen = _formats(formats, TRANSCRIPT_FORMATS)
    count, names = _speakers(speakers_hint)
    mapping = _speaker_map(speaker_map)
    options = TranscriptionOptions(
        language=language,
        word_timestamps=word_timestamps,
        vad=not no_vad,
        diarize="on" if diarize or (diarize is None and (count or mapping)) else "off",
        speakers=count,
    )
    transcriber = Transcriber(engine=asr_engine, model=asr_model, options=options)

    def namer(transcript):
        return name_speakers(transcript, names or None, mapping)

    progress, failures = Progress(), []
    sources = [Path(a) for a in audio]
    folders = output_folders(sources, Path(out)) if out else [None] * len(sources)
    for source, folder in zip(sources, folders, strict=True):
        if folder and not force and (folder / "transcript.json").is_file():
            click.echo(f"{source}: already transcribed in {folder} (--force to redo)", err=True)
            continue
        try:
            writer = TranscriptWriter(folder, chosen) if folder else None

            def on_progress(event: TranscriptionProgress, name: str = source.name) -> None:
                progress.show(f"{name} {bar(event.fraction)} of the audio")

            transcript = transcriber.transcribe(
                source, writer=writer, on_progress=on_progress, namer=namer, anchors=introductions
            )
            progress.done()
            if folder is None:
                for segment in transcript.segments:
                    who = f"{segment.speaker}: " if segment.speaker else ""
                    click.echo(f"[{segment.start:8.2f} -> {segment.end:8.2f}] {who}{segment.text}")
                for speaker in transcript.speakers:
                    how = f"named by {speaker.evidence}" if speaker.name else "no name found"
                    click.echo(f"# {speaker.label}: {speaker.display}, {speaker.talk_s:.0f} s ({how})", err=True)
            else:
                click.echo(
                    f"{source}: {len(transcript.segments)} segments, {transcript.duration:.0f} s -> {folder}", err=True
                )
        except LlmkitError as exc:
            progress.done()
            failures.append((str(source), str(exc)))
            click.echo(f"error: {exc}", err=True)
    _report(failures)


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "-o",
    default="minutes",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the results; each meeting gets its own sub-folder.",
)
@click.option("--model", "-m", default=None, help="Model for the minutes (catalog name, hub id, path).")
@click.option("--backend", "-b", default=None, help="transformers | llamacpp | openai.")
@click.option("--asr-model", default=None, help="Whisper model for audio inputs (default: embedded tiny.en).")
@click.option("--asr-engine", default=None, help="faster-whisper (default) | openai.")
@click.option("--language", default=None)
@click.option("--format", "formats", default="md,json,html", show_default=True, help="md,json,html,docx")
@click.option(
    "--extractor",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "hybrid", "llm"]),
    help="hybrid: rules find items, the model writes prose (auto for models under 1B); llm: the model "
    "extracts everything as schema-constrained JSON.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the minutes as JSON Lines instead of Markdown: one compact JSON object per meeting, one per "
    "line (progress and the streamed summary go to stderr).",
)
@click.option("--force", is_flag=True, help="Redo meetings already done in --out.")
@_diarize_option("auto")
@click.option("--speakers", "speakers_hint", default=None, help=_SPEAKERS_HELP)
@click.option("--speaker-map", "speaker_map", multiple=True, help=_MAP_HELP)
def minutes(
    inputs, out, model, backend, asr_model, asr_engine, language, formats, extractor, as_json, force, diarize,
    speakers_hint, speaker_map,
) -> None:  # fmt: skip
    """Minutes from AUDIO or transcript files (txt/srt/vtt/json): summary streamed, files per meeting. Who
    said what comes from diarization (on when more than one voice is heard) and names from the transcript."""
    from llmkit.minutes import MINUTES_FORMATS, MinutesOptions, MinutesPipeline

    count, names = _speakers(speakers_hint)

    options = MinutesOptions(
        model=model,
        backend=backend,
        extractor=extractor,
        formats=_formats(formats, MINUTES_FORMATS),
        asr_engine=asr_engine,
        asr_model=asr_model,
        language=language,
        diarize={True: "on", False: "off", None: "auto"}[diarize],
        speakers=count,
        speaker_names=names,
        speaker_map=_speaker_map(speaker_map),
    )
    _report(render_minutes_batch(MinutesPipeline(options), [Path(i) for i in inputs], Path(out), force, as_json))

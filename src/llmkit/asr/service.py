"""Transcription: audio file -> streamed segments and progress, window by window, memory flat."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from pathlib import Path

from llmkit.asr.audio import SAMPLE_RATE, AudioError, AudioWindow, probe_duration, read_windows
from llmkit.asr.diarization import DiarizationOptions, Diarizer, VoiceAnchor, create_diarizer, diarize
from llmkit.asr.engines import AsrEngine, create_asr_engine
from llmkit.asr.files import TranscriptWriter
from llmkit.asr.types import (
    Segment,
    Transcript,
    TranscriptionOptions,
    TranscriptionProgress,
    TranscriptionSegment,
)
from llmkit.config import Settings, load_settings
from llmkit.errors import InvalidInputError, LlmkitError, MissingExtraError

DIARIZE_MODES = ("off", "auto", "on")
# Names the speakers of a diarized transcript (the minutes package's evidence-based naming, passed in by
# the caller so that this layer does not import the one above it).
SpeakerNamer = Callable[[Transcript], Transcript]
# Moments the transcript ties to one person each (e.g. self-introductions): people the diarizer keeps apart.
SpeakerAnchors = Callable[[list[Segment]], list[VoiceAnchor]]


class NoSpeechError(LlmkitError):
    def __init__(self, path: str, duration: float):
        super().__init__(f"{path}: no speech found in {duration:.0f} s of audio (silence, music or noise only)")


TranscriptionEvent = TranscriptionSegment | TranscriptionProgress


class Transcriber:
    """Holds one loaded ASR engine; `stream` is the core call, `transcribe` collects it."""

    def __init__(
        self,
        settings: Settings | None = None,
        engine: str | None = None,
        model: str | None = None,
        options: TranscriptionOptions | None = None,
        diarizer: Diarizer | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self._engine_name, self._model_name = engine, model
        self._engine: AsrEngine | None = None
        # A recording that fit in one window stays decoded until it is diarized: decoding it again would
        # cost about half of the diarization's time. Longer ones are read again (flat memory).
        self._decoded: tuple[Path, list[AudioWindow]] | None = None
        self.options = options or TranscriptionOptions()
        if self.options.diarize not in DIARIZE_MODES:
            raise InvalidInputError(f"diarize is {self.options.diarize!r}; choose from {', '.join(DIARIZE_MODES)}")
        self._diarizer: Diarizer | None = diarizer  # None: the one the options name, made when first needed

    @property
    def diarizer(self) -> Diarizer:
        if self._diarizer is None:
            self._diarizer = create_diarizer(self.options.diarizer)
        return self._diarizer

    @property
    def engine(self) -> AsrEngine:
        if self._engine is None:
            self._engine = create_asr_engine(self.settings, self._engine_name, self._model_name)
        return self._engine

    def stream(self, path: Path) -> Iterator[TranscriptionEvent]:
        """Segments (timed from the start of the file) and a progress event after each window."""
        path = Path(path)
        total = _duration_or_zero(path)
        engine = self.engine
        options = replace(self.options, word_timestamps=True) if self.options.diarize != "off" else self.options
        self._decoded = None
        for index, window in enumerate(read_windows(path, self.options.window_s)):
            keep = index == 0 and self.options.diarize != "off"
            self._decoded = (path, [window]) if keep else None
            for segment in engine.transcribe_window(window.samples, options):
                yield TranscriptionSegment.of(_shifted(segment, window.start))
            done = window.start + len(window.samples) / SAMPLE_RATE
            yield TranscriptionProgress(done, max(total, done))

    def stream_to(
        self,
        path: Path,
        writer: TranscriptWriter | None = None,
        namer: SpeakerNamer | None = None,
        anchors: SpeakerAnchors | None = None,
    ) -> Generator[TranscriptionEvent, None, Transcript]:
        """`stream`, writing each segment as it comes; returns the finished transcript, diarized (and its
        speakers named by `namer`) if the options ask for it."""
        segments, duration = [], 0.0
        try:
            for event in self.stream(path):
                if isinstance(event, TranscriptionProgress):
                    duration = event.seconds_total
                else:
                    segments.append(event.segment)
                    if writer:
                        writer.add(event.segment)
                yield event
            if not segments:
                raise NoSpeechError(str(path), duration)
            engine = self.engine
            transcript = Transcript(
                str(path), segments, duration, self.options.language or "en", engine.name, engine.model
            )
            transcript = self.diarized(path, transcript, namer, anchors)
        except BaseException:  # also a consumer that stops early (GeneratorExit)
            self._decoded = None
            if writer:
                writer.abandon()  # what was written stays on disk; an earlier result is never touched
            raise
        if writer:
            writer.finish(transcript)
        return transcript

    def diarized(
        self,
        path: Path,
        transcript: Transcript,
        namer: SpeakerNamer | None = None,
        anchors: SpeakerAnchors | None = None,
    ) -> Transcript:
        """`transcript` with a speaker on every segment, as the options ask: in "auto" mode only when more
        than one voice is heard, and a missing speakers extra is a warning there, not an error."""
        decoded, self._decoded = self._decoded, None  # held no longer than this call, whatever happens
        mode = self.options.diarize
        if mode == "off":
            return transcript
        found = tuple(anchors(transcript.segments)) if anchors else ()
        options = DiarizationOptions(self.options.speakers, self.options.window_s, anchors=found)
        try:
            audio = decoded[1] if decoded and decoded[0] == Path(path) else None
            segments, speakers = diarize(path, transcript.segments, options, self.diarizer, audio)
        except MissingExtraError as exc:
            if mode == "on":
                raise
            transcript.warnings.append(f"speakers not told apart: {exc}")
            return transcript
        if mode == "auto" and len(speakers) < 2:
            return transcript
        transcript = replace(transcript, segments=segments, speakers=speakers)
        return namer(transcript) if namer else transcript

    def transcribe(
        self,
        path: Path,
        writer: TranscriptWriter | None = None,
        on_progress=None,
        namer: SpeakerNamer | None = None,
        anchors: SpeakerAnchors | None = None,
    ) -> Transcript:
        """The whole transcript; with a writer, each segment is on disk as soon as it is known."""
        events = self.stream_to(path, writer, namer, anchors)
        while True:
            try:
                event = next(events)
            except StopIteration as done:
                return done.value
            if on_progress and isinstance(event, TranscriptionProgress):
                on_progress(event)


def _duration_or_zero(path: Path) -> float:
    try:
        return probe_duration(path)
    except AudioError:
        raise
    except Exception:  # noqa: BLE001 - a container without a duration still decodes
        return 0.0


def _shifted(segment: Segment, offset: float) -> Segment:
    if not offset:
        return segment
    words = tuple(type(w)(w.start + offset, w.end + offset, w.text, w.probability) for w in segment.words)
    return Segment(segment.start + offset, segment.end + offset, segment.text, words, segment.speaker)

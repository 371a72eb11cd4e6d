"""Meeting minutes: audio or transcript -> transcript files -> parts -> map -> reduce -> streamed minutes.

`MinutesPipeline.stream` is the core call (progress, the summary as it is written, the finished minutes);
`run` collects it. Merging and building the minutes live in reduce.py, holding model text to the transcript in
grounding.py, many meetings at once in batch.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit.asr import (
    TRANSCRIPT_FORMATS,
    Transcriber,
    Transcript,
    TranscriptionOptions,
    TranscriptionProgress,
    TranscriptWriter,
    load_complete_transcript,
    read_transcript,
)
from llmkit.config import Settings, load_settings
from llmkit.errors import LlmkitError
from llmkit.minutes import extract, llm, speakers
from llmkit.minutes.chunking import Chunk, chunk_sentences, token_counter
from llmkit.minutes.grounding import clean_title, grounded_prose, stated_topic, whole_sentences
from llmkit.minutes.reduce import MergedNotes, build_minutes, reduce_notes
from llmkit.minutes.render import write_minutes
from llmkit.minutes.types import Attendee, ChunkNotes, Minutes, MinutesDelta, MinutesDone, MinutesEvent, MinutesProgress

if TYPE_CHECKING:
    from llmkit.generation import Engine
    from llmkit.models import ModelEntry

TRANSCRIPT_SUFFIXES = {".txt", ".srt", ".vtt", ".json"}
SMALL_MODEL_B = 1.0  # below this many billion parameters, `auto` picks the hybrid extractor


@dataclass
class MinutesOptions:
    model: str | None = None  # catalog name, hub id, path; None = the default model
    backend: str | None = None
    extractor: str = "auto"  # auto | hybrid | llm
    part_tokens: int = 1500  # upper bound on a part; small models answer better on short parts
    reserve_tokens: int = 800  # kept free in the window for instructions and the answer
    formats: tuple[str, ...] = ("md", "json", "html")
    transcript_formats: tuple[str, ...] = TRANSCRIPT_FORMATS
    asr_engine: str | None = None
    asr_model: str | None = None
    language: str | None = None
    diarize: str = "auto"  # who said what: on | auto (only when more than one voice is heard) | off
    speakers: int | None = None  # how many people speak, if known
    speaker_names: list[str] = field(default_factory=list)  # the people present, if known (names to choose from)
    speaker_map: dict[str, str] = field(default_factory=dict)  # SPEAKER_2 -> Dana: the user's word wins

    def __post_init__(self) -> None:
        self.speaker_names = speakers.distinct_names(self.speaker_names)  # "Anna, anna" is one person


class MinutesPipeline:
    def __init__(
        self,
        options: MinutesOptions | None = None,
        settings: Settings | None = None,
        engine: Engine | None = None,
        transcriber: Transcriber | None = None,
    ) -> None:
        self.options = options or MinutesOptions()
        self.settings = settings or load_settings()
        self._engine = engine
        self._transcriber = transcriber

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from llmkit.generation import Engine

            self._engine = Engine(settings=self.settings)
        return self._engine

    @property
    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = Transcriber(
                self.settings,
                self.options.asr_engine,
                self.options.asr_model,
                TranscriptionOptions(
                    language=self.options.language,
                    diarize=self.options.diarize,
                    speakers=self.options.speakers or (len(self.options.speaker_names) or None),
                ),
            )
        return self._transcriber

    # -- the core call -------------------------------------------------------------------------------------

    def stream(
        self, source: Path, out_dir: Path | None = None, reuse_transcript: bool = True
    ) -> Iterator[MinutesEvent]:
        """`reuse_transcript`: audio whose complete transcript.json is already in `out_dir` (an earlier run
        that failed after transcribing) is not transcribed again."""
        started = time.perf_counter()
        source = Path(source)
        transcript = yield from self._transcript(source, out_dir, reuse_transcript)
        stats: dict[str, Any] = {
            "transcribe_s": round(time.perf_counter() - started, 2),
            "audio_s": round(transcript.duration, 2),
            "json_attempts": 0,
            "json_invalid_parts": 0,
        }
        entry = self.engine.resolve(self.options.model)
        extractor = self._extractor(entry)
        writer = llm.ModelWriter(self.engine, self.options.model, self.options.backend)
        notes, count_note = yield from self._map_parts(transcript, entry, extractor, writer, stats, out_dir)
        yield MinutesProgress("reduce", 0, 1, "merging parts")
        merged = reduce_notes(notes)
        yield MinutesProgress("write", 0, 1, "writing the minutes")
        minutes = yield from self._write(transcript, merged, notes, writer)
        minutes.source, minutes.model, minutes.extractor = str(source), entry.name, extractor
        if count_note:
            minutes.warnings.append(f"part sizes {count_note}")
        minutes.warnings[:0] = transcript.warnings
        minutes.stats = {**stats, "total_s": round(time.perf_counter() - started, 2), **minutes.stats}
        if out_dir is not None:
            write_minutes(minutes, out_dir, self.options.formats)
        yield MinutesDone(minutes)

    def _map_parts(
        self,
        transcript: Transcript,
        entry: ModelEntry,
        extractor: str,
        writer: llm.ModelWriter,
        stats: dict[str, Any],
        out_dir: Path | None,
    ) -> Iterator[MinutesEvent]:
        """Parts by the model's token counts, then each part's notes; returns (notes, token-count caveat)."""
        count, count_note = token_counter(entry.name)
        sentences = extract.sentences(transcript.segments)
        chunks = chunk_sentences(sentences, count, self._part_budget(entry))
        known_names = extract.names_in(sentences)
        stats["parts"] = len(chunks)
        notes: list[ChunkNotes] = []
        for chunk in chunks:
            yield MinutesProgress("map", chunk.part - 1, len(chunks), f"part {chunk.part}/{len(chunks)}")
            try:
                notes.append(self._map(writer, extractor, chunk, known_names, stats))
            except LlmkitError:
                _keep_partial_notes(out_dir, notes)
                raise
        yield MinutesProgress("map", len(chunks), len(chunks), f"part {len(chunks)}/{len(chunks)}")
        return notes, count_note

    def _write(
        self, transcript: Transcript, merged: MergedNotes, notes: list[ChunkNotes], writer: llm.ModelWriter
    ) -> Iterator[MinutesEvent]:
        """The summary streamed as the model writes it, then the title; model text is checked for grounding."""
        summary = ""
        prompt = llm.summary_prompt(merged.key_points, merged.decisions, merged.action_items)
        for piece in writer.stream(prompt, max_new_tokens=90):
            summary += piece
            yield MinutesDelta(piece)
        summary, dropped = grounded_prose(whole_sentences(summary, 3), transcript.text)
        for point in list(merged.key_points):
            lost = grounded_prose(point, transcript.text)[1]
            if lost:
                merged.key_points.remove(point)
                dropped += lost
        title = stated_topic(extract.sentences(transcript.segments))
        if not title:
            title = clean_title(writer.ask(llm.title_prompt(summary), max_new_tokens=16), transcript.text)
        minutes = build_minutes(transcript, merged, summary.strip(), title, notes)
        _add_speakers(minutes, transcript)
        for sentence, terms in dropped:
            minutes.warnings.append(
                f"dropped a model sentence naming {', '.join(terms)}, which the transcript does not: {sentence!r}"
            )
        return minutes

    def run(self, source: Path, out_dir: Path | None = None) -> Minutes:
        for event in self.stream(source, out_dir):
            if isinstance(event, MinutesDone):
                return event.minutes
        raise LlmkitError("the minutes pipeline ended without a result")  # pragma: no cover

    # -- steps -------------------------------------------------------------------------------------------

    def name_speakers(self, transcript: Transcript) -> Transcript:
        """Names from the transcript's evidence, the user's list and map (see minutes/speakers.py)."""
        return speakers.name_speakers(transcript, self.options.speaker_names or None, self.options.speaker_map)

    def _transcript(self, source: Path, out_dir: Path | None, reuse: bool) -> Iterator[MinutesEvent]:
        """A transcript file as read, the complete transcript an earlier run left in `out_dir`, or the audio
        transcribed (files written as they grow, progress shown)."""
        if source.suffix.lower() in TRANSCRIPT_SUFFIXES:
            return self.name_speakers(read_transcript(source))
        done = load_complete_transcript(out_dir, source) if out_dir is not None and reuse else None
        if done is not None and self._same_asr(done):
            yield MinutesProgress("transcribe", done.duration, done.duration, "transcript.json reused")
            return done
        writer = TranscriptWriter(out_dir, self.options.transcript_formats) if out_dir else None
        events = self.transcriber.stream_to(source, writer, self.name_speakers, speakers.introductions)
        while True:
            try:
                event = next(events)
            except StopIteration as done:
                return done.value
            if isinstance(event, TranscriptionProgress):
                yield MinutesProgress(
                    "transcribe", event.seconds_done, event.seconds_total, f"{event.fraction:.0%} of the audio"
                )

    def _same_asr(self, transcript: Transcript) -> bool:
        """An earlier transcript counts only if the engine and model asked for now (if any) made it."""
        engine, model = self.options.asr_engine, self.options.asr_model
        return (not engine or engine == transcript.engine) and (not model or model == transcript.model)

    def _extractor(self, entry: ModelEntry) -> str:
        if self.options.extractor != "auto":
            return self.options.extractor
        small = entry.params_b and entry.params_b < SMALL_MODEL_B
        return "hybrid" if small else "llm"

    def _part_budget(self, entry: ModelEntry) -> int:
        window = entry.context_length or 4096
        room = window - self.options.reserve_tokens
        return max(min(self.options.part_tokens, room), 64)

    def _map(
        self, writer: llm.ModelWriter, extractor: str, chunk: Chunk, known_names: list[str], stats: dict[str, Any]
    ) -> ChunkNotes:
        if extractor == "llm":
            notes, attempts = llm.llm_notes(writer, chunk.part, chunk.text)
            stats["json_attempts"] += attempts
            if notes.raw:
                stats["json_invalid_parts"] += 1
            for item in notes.action_items:
                item.timestamp = chunk.sentences[0].time
            return notes
        notes = extract.cue_notes(chunk.part, chunk.sentences, known_names)
        point = llm.key_point(writer, [sentence.text for sentence in chunk.sentences])
        if point:
            notes.key_points.append(point)
        return notes


def _add_speakers(minutes: Minutes, transcript: Transcript) -> None:
    """A diarized meeting: named speakers are attendees, decisions and open questions say who raised them,
    and the minutes list who spoke how long (and what named them)."""
    if not transcript.speakers:
        return
    present = {a.name for a in minutes.attendees}
    for speaker in transcript.speakers:
        if speaker.name and speaker.name not in present:
            minutes.attendees.append(Attendee(speaker.name, True))
            present.add(speaker.name)
    for decision in minutes.decisions:
        decision.raised_by = speakers.speaker_at(transcript.segments, decision.timestamp)
    said = extract.sentences(transcript.segments)
    minutes.open_questions_by = [
        next((s.speaker for s in said if s.text == question), "") for question in minutes.open_questions
    ]
    minutes.speakers = [s.to_dict() | {"display": s.display} for s in transcript.speakers]


def _keep_partial_notes(out_dir: Path | None, notes: list[ChunkNotes]) -> None:
    """The model failed midway: what the finished parts gave is written next to the transcript (best effort:
    the model's error is what the user needs to see)."""
    if out_dir is None or not notes:
        return
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "notes.partial.json").write_text(json.dumps([asdict(n) for n in notes], indent=1))
    except OSError:
        pass

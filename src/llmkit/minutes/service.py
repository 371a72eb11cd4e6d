"""Meeting minutes: audio or transcript -> transcript files -> parts -> map -> reduce -> streamed minutes.

`MinutesPipeline.stream` is the core call (progress, the summary as it is written, the finished minutes);
`run` collects it; `stream_batch` does many meetings, each in its own folder, one failure not stopping the rest.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmkit.asr.files import (
    TRANSCRIPT_FORMATS,
    TranscriptWriter,
    load_complete_transcript,
    remove_if_empty,
    output_folders,
    read_transcript,
)
from llmkit.asr.service import Transcriber
from llmkit.asr.types import Transcript, TranscriptionOptions, TranscriptionProgress
from llmkit.config import Settings, load_settings
from llmkit.errors import LlmkitError
from llmkit.minutes import extract, llm
from llmkit.minutes.chunking import chunk_sentences, token_counter
from llmkit.minutes.render import MINUTES_FORMATS, write_minutes
from llmkit.minutes.types import (
    ActionItem,
    Attendee,
    ChunkNotes,
    Decision,
    Minutes,
    MinutesDelta,
    MinutesDone,
    MinutesEvent,
    MinutesProgress,
)

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


class MinutesPipeline:
    def __init__(
        self,
        options: MinutesOptions | None = None,
        settings: Settings | None = None,
        engine: Any = None,
        transcriber: Transcriber | None = None,
    ) -> None:
        self.options = options or MinutesOptions()
        self.settings = settings or load_settings()
        self._engine = engine
        self._transcriber = transcriber

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from llmkit.generation.service import Engine

            self._engine = Engine(settings=self.settings)
        return self._engine

    @property
    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = Transcriber(
                self.settings,
                self.options.asr_engine,
                self.options.asr_model,
                TranscriptionOptions(language=self.options.language),
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
        entry: Any,
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
        summary, dropped = grounded_prose(_whole_sentences(summary, 3), transcript.text)
        for point in list(merged.key_points):
            lost = grounded_prose(point, transcript.text)[1]
            if lost:
                merged.key_points.remove(point)
                dropped += lost
        title = stated_topic(extract.sentences(transcript.segments))
        if not title:
            title = _clean_title(writer.ask(llm.title_prompt(summary), max_new_tokens=16), transcript.text)
        minutes = build_minutes(transcript, merged, summary.strip(), title, notes)
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

    def _transcript(self, source: Path, out_dir: Path | None, reuse: bool) -> Iterator[MinutesEvent]:
        """A transcript file as read, the complete transcript an earlier run left in `out_dir`, or the audio
        transcribed (files written as they grow, progress shown)."""
        if source.suffix.lower() in TRANSCRIPT_SUFFIXES:
            return read_transcript(source)
        done = load_complete_transcript(out_dir, source) if out_dir is not None and reuse else None
        if done is not None and self._same_asr(done):
            yield MinutesProgress("transcribe", done.duration, done.duration, "transcript.json reused")
            return done
        writer = TranscriptWriter(out_dir, self.options.transcript_formats) if out_dir else None
        events = self.transcriber.stream_to(source, writer)
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

    def _extractor(self, entry: Any) -> str:
        if self.options.extractor != "auto":
            return self.options.extractor
        small = entry.params_b and entry.params_b < SMALL_MODEL_B
        return "hybrid" if small else "llm"

    def _part_budget(self, entry: Any) -> int:
        window = entry.context_length or 4096
        room = window - self.options.reserve_tokens
        return max(min(self.options.part_tokens, room), 64)

    def _map(
        self, writer: llm.ModelWriter, extractor: str, chunk: Any, known_names: list[str], stats: dict[str, Any]
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


def _keep_partial_notes(out_dir: Path | None, notes: list[ChunkNotes]) -> None:
    """The model failed midway: what the finished parts gave is written next to the transcript (best effort:
    the model's error is what the user needs to see)."""
    if out_dir is None or not notes:
        return
    from dataclasses import asdict

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "notes.partial.json").write_text(json.dumps([asdict(n) for n in notes], indent=1))
    except OSError:
        pass


# -- reduce and build ------------------------------------------------------------------------------------


@dataclass
class MergedNotes:
    key_points: list[str]
    decisions: list[Decision]
    action_items: list[ActionItem]
    open_questions: list[str]
    names: list[str]


_STOPWORDS = {
    "the",
    "for",
    "with",
    "and",
    "that",
    "this",
    "them",
    "not",
    "will",
    "please",
    "our",
    "from",
    "into",
    "about",
    "before",
    "after",
    "all",
    "are",
    "can",
    "you",
    "your",
    "its",
    "was",
    "has",
    "have",
    "then",
}


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2 and w not in _STOPWORDS}


def _similar(a: str, b: str, threshold: float) -> bool:
    """Overlap of content words relative to the shorter text: a request and its reply ("Marcus, please
    book the security review ..." / "I will book the security review by Thursday") share most of theirs."""
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= threshold


def reduce_notes(notes: list[ChunkNotes]) -> MergedNotes:
    """Merge the parts: near-duplicate decisions and action items (the request and the reply) become one."""
    items: list[ActionItem] = []
    for item in (i for n in notes for i in n.action_items):
        twin = next(
            (
                x
                for x in items
                if _similar(x.task, item.task, 0.6) and (x.owner == item.owner or "unassigned" in (x.owner, item.owner))
            ),
            None,
        )
        if twin is None:
            items.append(item)
            continue
        if twin.owner == "unassigned":
            twin.owner = item.owner
        twin.due = twin.due or item.due
        if len(item.task) > len(twin.task) and twin.owner == item.owner:
            twin.task = item.task
    decisions: list[Decision] = []
    for decision in (d for n in notes for d in n.decisions):
        if not any(_similar(d.text, decision.text, 0.7) for d in decisions):
            decisions.append(decision)
    questions: list[str] = []
    for question in (q for n in notes for q in n.open_questions):
        if not any(_similar(q, question, 0.7) for q in questions):
            questions.append(question)
    names = sorted({name for n in notes for name in n.names if name})
    return MergedNotes([p for n in notes for p in n.key_points], decisions, items, questions, names)


_DATE = re.compile(
    r"\b((?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?:,)? the \w+ of \w+|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December) \d{1,2}(?:st|nd|rd|th)?"
    r"(?:,? \d{4})?|\d{4}-\d{2}-\d{2})\b"
)
_LOCATION = re.compile(
    r"\b(?:meeting|we are|we're) (?:is )?(?:in|at) (?:the )?([A-Z][\w ]{2,40}?(?:room|office|hall))\b"
)


def build_minutes(
    transcript: Transcript, merged: MergedNotes, summary: str, title: str, notes: list[ChunkNotes]
) -> Minutes:
    text = transcript.text
    spoken = {w.lower() for w in re.findall(r"[A-Za-z']+", text)}
    warnings = []
    for item in merged.action_items:
        item.grounded = item.owner == "unassigned" or all(p.lower() in spoken for p in item.owner.split())
        if not item.grounded:
            warnings.append(f"action item owner {item.owner!r} is not named in the transcript")
        if item.due and grounded_prose(item.due, text)[1]:
            warnings.append(f"dropped due date {item.due!r} of {item.task!r}: not stated in the transcript")
            item.due = ""
    lowercase = set(re.findall(r"\b[a-z][a-z']+\b", text))
    names = [n for n in merged.names if n.split() and all(extract.is_name_word(p, lowercase, True) for p in n.split())]
    attendees = [Attendee(name, all(p.lower() in spoken for p in name.split())) for name in names]
    warnings += [f"attendee {a.name!r} is not named in the transcript" for a in attendees if not a.grounded]
    raw_parts = [n.part for n in notes if n.raw]
    if raw_parts:
        warnings.append(
            f"the model gave no valid JSON for part(s) {raw_parts} after retries; its raw text is "
            "kept in minutes.json under stats.raw_parts"
        )
    date_match, place_match = _DATE.search(text), _LOCATION.search(text)
    date = date_match.group(1) if date_match else ""
    minutes = Minutes(
        title=title or (f"Meeting, {date}" if date else "Meeting"),
        summary=summary,
        attendees=attendees,
        date=date,
        location=place_match.group(1) if place_match else "",
        discussion=merged.key_points,
        decisions=merged.decisions,
        action_items=merged.action_items,
        open_questions=merged.open_questions,
        warnings=warnings,
    )
    if raw_parts:
        minutes.stats["raw_parts"] = {n.part: n.raw for n in notes if n.raw}
    return minutes


_TERM = re.compile(r"\$?\d[\d,.:]*%?|(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b")


def grounded_prose(text: str, transcript_text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """Keep the model's sentences whose numbers and proper names all occur in the transcript.

    Small models invent specifics ("a 15% increase", "iOS and Android"); a sentence carrying one is dropped
    and reported rather than passed off as fact. Returns (kept text, [(dropped sentence, unsupported terms)]).
    """
    spoken = transcript_text.lower()
    kept, dropped = [], []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if not sentence:
            continue
        terms = [
            t for t in _TERM.findall(sentence) if t.strip("$%.,:").lower() not in spoken and t not in extract.NOT_NAMES
        ]
        (dropped.append((sentence, terms)) if terms else kept.append(sentence))
    return " ".join(kept), dropped


def _clean_title(text: str, transcript_text: str) -> str:
    """The model's title, first line only, without numbers the meeting never mentioned (small models add years);
    "" if it echoes our prompt instead of naming the meeting's subject, or names nothing the meeting said."""
    title = text.strip().splitlines()[0] if text.strip() else ""
    title = title.strip(" \"'*#").removeprefix("Title:").strip()
    words = [w for w in title.split() if all(number in transcript_text for number in re.findall(r"\d+", w))]
    title = " ".join(words).strip(" -–:,.")[:80]
    spoken = set(re.findall(r"[a-z0-9]+", transcript_text.lower()))
    if llm.echoes_prompt(title, transcript_text) or not any(
        len(w) > 3 and w in spoken for w in re.findall(r"[a-z0-9]+", title.lower())
    ):
        return ""
    return title


# What a meeting says it is about: "This is the launch review for ...", "Agenda: the renewal of ...",
# "Today we plan our booth ...", "We are here to discuss ...".
_TOPIC = re.compile(
    r"\b(?:this is (?=the |our )|welcome to (?=the |our )|agenda(?: for today)?(?: is)?:?\s|the topic is |"
    r"topic:\s|we are here to (?:discuss|talk about|review|plan|decide on) |today we (?=\w+ (?:the|our) )|"
    r"let us talk about |this meeting is about )\s*(.+?)(?=[.;!?]|, | on (?:Monday|Tuesday|Wednesday|Thursday|"
    r"Friday|Saturday|Sunday|the \w+ of)\b| with |$)",
    re.I,
)


def stated_topic(sentence_list: list[extract.Sentence]) -> str:
    """The meeting's subject in its own words, from the first minute or so; "" if it does not state one."""
    for sentence in sentence_list[:8]:
        match = _TOPIC.search(sentence.plain)
        if not match:
            continue
        topic = re.sub(r"^(?:the|our|a)\s+", "", match.group(1).strip(), flags=re.I).strip(" ,:")
        if 2 <= len(topic.split()) <= 10:
            return topic[:1].upper() + topic[1:]
    return ""


def _whole_sentences(text: str, limit: int) -> str:
    """At most `limit` sentences, never a cut-off one (the token budget can end mid-sentence)."""
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    complete = [p for p in parts if p.endswith((".", "!", "?"))]
    return " ".join(complete[:limit]) if complete else " ".join(text.split())


# -- batch ------------------------------------------------------------------------------------------------


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


__all__ = [
    "MINUTES_FORMATS",
    "BatchEvent",
    "MinutesOptions",
    "MinutesPipeline",
    "is_done",
    "meeting_folder",
    "stream_batch",
]

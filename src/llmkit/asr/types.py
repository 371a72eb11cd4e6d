"""Typed transcripts and transcription events; every adapter renders these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from llmkit.events import Event


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the recording
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str = ""  # a name, or SPEAKER_n when nothing names them; "" when not diarized

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.words:
            data.pop("words")
        if not self.speaker:
            data.pop("speaker")
        return data


@dataclass
class Speaker:
    """One voice the diarizer found: its label, the name evidence gave it (if any) and how long it spoke."""

    label: str  # SPEAKER_n, as clustered
    name: str = ""  # "" while nothing names them
    evidence: str = ""  # the line that named them ("[00:00:12] I'm Dana from finance"), or the user's map
    talk_s: float = 0.0

    @property
    def display(self) -> str:
        return self.name or self.label

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Transcript:
    source: str
    segments: list[Segment]
    duration: float = 0.0  # seconds of audio (0 for a transcript read from text)
    language: str = "en"
    engine: str = ""
    model: str = ""
    warnings: list[str] = field(default_factory=list)  # problems in a transcript file read (kept, not dropped)
    speakers: list[Speaker] = field(default_factory=list)  # empty when not diarized

    @property
    def text(self) -> str:
        return " ".join(segment.text.strip() for segment in self.segments).strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "duration": self.duration,
            "language": self.language,
            "engine": self.engine,
            "model": self.model,
            "text": self.text,
            "segments": [s.to_dict() for s in self.segments],
            **({"speakers": [s.to_dict() for s in self.speakers]} if self.speakers else {}),
        }


@dataclass(frozen=True)
class TranscriptionSegment(Segment, Event):
    """A segment as the stream yields it: a Segment (timed from the start of the file) on the wire."""

    type: ClassVar[str] = "transcription.segment"

    @classmethod
    def of(cls, segment: Segment) -> TranscriptionSegment:
        return cls(segment.start, segment.end, segment.text, segment.words, segment.speaker)

    @property
    def segment(self) -> Segment:
        """The plain segment, as a transcript keeps it."""
        return Segment(self.start, self.end, self.text, self.words, self.speaker)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **Segment.to_dict(self)}


@dataclass(frozen=True)
class TranscriptionProgress(Event):
    """Emitted after each window: how much of the audio is done."""

    type: ClassVar[str] = "transcription.progress"

    seconds_done: float
    seconds_total: float

    @property
    def fraction(self) -> float:
        return min(self.seconds_done / self.seconds_total, 1.0) if self.seconds_total else 1.0


@dataclass
class TranscriptionOptions:
    language: str | None = None  # None: the model's own (English for *.en models) or detected
    word_timestamps: bool = False
    vad: bool = True  # skip silence: no hallucinated text over it
    batch_size: int = 8
    beam_size: int = 1
    window_s: float = 600.0  # audio decoded and transcribed this much at a time: memory stays flat
    # Who speaks when (needs `pip install 'llmkit[speakers]'`; turns word timestamps on): "on"; "auto": only
    # when more than one voice is heard, and without the extra a warning instead of an error; "off".
    diarize: str = "off"
    diarizer: str = "resemblyzer"  # a name in the diarizer registry (asr/diarization.py)
    speakers: int | None = None  # how many people speak, if known (None: found from the audio)
    extra: dict[str, Any] = field(default_factory=dict)

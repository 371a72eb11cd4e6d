"""Typed minutes and pipeline events. `Minutes.to_dict` is the documented JSON schema (docs/minutes-schema.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from llmkit.events import Event


@dataclass
class ActionItem:
    owner: str  # a name from the transcript, or "unassigned"
    task: str
    due: str = ""  # only if stated
    timestamp: float = 0.0  # seconds into the recording where it was said
    grounded: bool = True  # False: the owner's name does not occur in the transcript (flagged, not fact)


@dataclass
class Decision:
    text: str
    timestamp: float = 0.0
    raised_by: str = ""  # the speaker who said it, in a diarized meeting


@dataclass
class Attendee:
    name: str
    grounded: bool = True


@dataclass
class ChunkNotes:
    """What the map step found in one part of the transcript."""

    part: int
    key_points: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    action_items: list[ActionItem] = field(default_factory=list)
    open_questions: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    raw: str = ""  # the model's own text when it did not give valid JSON (kept, not dropped)


@dataclass
class Minutes:
    title: str
    summary: str
    attendees: list[Attendee]
    date: str  # only if stated in the transcript, else ""
    location: str
    discussion: list[str]
    decisions: list[Decision]
    action_items: list[ActionItem]
    open_questions: list[str]
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    model: str = ""
    extractor: str = ""  # "hybrid" (rules find, the model phrases) or "llm" (the model extracts JSON)
    stats: dict[str, Any] = field(default_factory=dict)
    # A diarized meeting: who spoke (name or SPEAKER_n, talk time in seconds, the evidence that named them),
    # and who raised each open question (parallel to open_questions; "" where unknown).
    speakers: list[dict[str, Any]] = field(default_factory=list)
    open_questions_by: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MinutesProgress(Event):
    type: ClassVar[str] = "minutes.progress"
    stage: str  # transcribe | map | reduce | write
    done: float  # parts done, or seconds of audio
    total: float
    message: str = ""


@dataclass(frozen=True)
class MinutesDelta(Event):
    """A piece of the minutes' prose (summary) as the model writes it."""

    type: ClassVar[str] = "minutes.delta"
    text: str


@dataclass(frozen=True)
class MinutesDone(Event):
    type: ClassVar[str] = "minutes.done"
    minutes: Minutes

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "minutes": self.minutes.to_dict()}


MinutesEvent = MinutesProgress | MinutesDelta | MinutesDone

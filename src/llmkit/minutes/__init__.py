"""Meeting minutes: audio or transcript in, grounded minutes out (md, json, html, docx), streamed."""

from llmkit.minutes.chunking import TranscriptTooLongError
from llmkit.minutes.render import MINUTES_FORMATS, write_minutes
from llmkit.minutes.service import MinutesOptions, MinutesPipeline
from llmkit.minutes.types import (
    ActionItem,
    Attendee,
    Decision,
    Minutes,
    MinutesDelta,
    MinutesDone,
    MinutesEvent,
    MinutesProgress,
)

__all__ = [
    "MINUTES_FORMATS",
    "ActionItem",
    "Attendee",
    "Decision",
    "Minutes",
    "MinutesDelta",
    "MinutesDone",
    "MinutesEvent",
    "MinutesOptions",
    "MinutesPipeline",
    "MinutesProgress",
    "TranscriptTooLongError",
    "write_minutes",
]

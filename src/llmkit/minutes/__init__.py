"""Meeting minutes: audio or transcript in, grounded minutes out (md, json, html, docx), streamed."""

import pathlib

from llmkit.minutes.batch import BatchEvent, is_done, meeting_folder, stream_batch
from llmkit.minutes.chunking import TranscriptTooLongError
from llmkit.minutes.render import MINUTES_FORMATS, to_markdown, write_minutes
from llmkit.minutes.service import MinutesOptions, MinutesPipeline
from llmkit.minutes.speakers import distinct_names, introductions, name_speakers, parse_speaker_map
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

# A 3-minute, four-voice scripted meeting (made with espeak-ng); its script is next to it.
SAMPLE_MEETING = pathlib.Path(__file__).parent / "samples" / "sample-meeting.mp3"

__all__ = [
    "MINUTES_FORMATS",
    "SAMPLE_MEETING",
    "ActionItem",
    "Attendee",
    "BatchEvent",
    "Decision",
    "Minutes",
    "MinutesDelta",
    "MinutesDone",
    "MinutesEvent",
    "MinutesOptions",
    "MinutesPipeline",
    "MinutesProgress",
    "TranscriptTooLongError",
    "distinct_names",
    "is_done",
    "introductions",
    "meeting_folder",
    "name_speakers",
    "parse_speaker_map",
    "stream_batch",
    "to_markdown",
    "write_minutes",
]

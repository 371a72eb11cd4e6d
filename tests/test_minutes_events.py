"""Every event the transcription and minutes streams yield is an `llmkit.events.Event`: a dotted `type` and a
JSON form that the shared serialisers write as JSON Lines and Server-Sent Events."""

from __future__ import annotations

import json

import pytest

from llmkit.asr import Segment, TranscriptionProgress, TranscriptionSegment, Word
from llmkit.events import Event, to_json_line, to_sse
from llmkit.minutes import ActionItem, Attendee, Decision, Minutes, MinutesDelta, MinutesDone, MinutesProgress


def _minutes() -> Minutes:
    return Minutes(
        title="Launch review",
        summary="The launch moves to Friday.",
        attendees=[Attendee("Maria")],
        date="",
        location="",
        discussion=["Launch date"],
        decisions=[Decision("Launch on Friday", 12.0)],
        action_items=[ActionItem("Marcus", "Book the review", "Thursday", 30.5)],
        open_questions=[],
        stats={"parts": 1},
    )


EVENTS = [
    (TranscriptionProgress(30.0, 120.0), "transcription.progress"),
    (TranscriptionSegment(1.5, 3.0, "Hello all.", (Word(1.5, 2.0, "Hello"),)), "transcription.segment"),
    (MinutesProgress("map", 1, 3, "part 1/3"), "minutes.progress"),
    (MinutesDelta("The launch "), "minutes.delta"),
    (MinutesDone(_minutes()), "minutes.done"),
]


@pytest.mark.parametrize(("event", "kind"), EVENTS, ids=[kind for _, kind in EVENTS])
def test_each_streamed_event_serialises(event, kind):
    assert isinstance(event, Event) and event.type == kind
    line = to_json_line(event)
    assert "\n" not in line and json.loads(line) == json.loads(json.dumps(event.to_dict()))
    assert json.loads(line)["type"] == kind
    assert to_sse(event) == f"event: {kind}\ndata: {line}\n\n"


def test_done_carries_the_minutes_own_json():
    minutes = _minutes()
    data = json.loads(to_json_line(MinutesDone(minutes)))
    assert data == {"type": "minutes.done", "minutes": json.loads(json.dumps(minutes.to_dict()))}


def test_a_streamed_segment_is_a_segment_whose_transcript_form_is_unchanged():
    plain = Segment(0.0, 1.0, "Hi.")
    streamed = TranscriptionSegment.of(plain)
    assert isinstance(streamed, Segment) and streamed.segment == plain and type(streamed.segment) is Segment
    assert streamed.to_dict() == {"type": "transcription.segment", **plain.to_dict()}

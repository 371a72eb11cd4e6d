"""Speaker names from evidence, transcripts that carry speakers, and minutes that use them (issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from llmkit.asr import Segment, Speaker, Transcript, TranscriptWriter, read_transcript
from llmkit.errors import InvalidInputError
from llmkit.minutes import MinutesOptions, MinutesPipeline, name_speakers, parse_speaker_map, to_markdown
from llmkit.minutes.extract import find_action_items, sentences

MEETINGS = Path(__file__).resolve().parents[1] / "benchmarks" / "meetings"


def _diarized(lines: list[tuple[str, str]]) -> Transcript:
    """A diarized transcript: (label, text) per segment, 4 s each."""
    segments = [Segment(i * 4.0, i * 4.0 + 3.5, text, (), label) for i, (label, text) in enumerate(lines)]
    speakers = [Speaker(label, talk_s=3.5) for label in dict.fromkeys(label for label, _ in lines)]
    return Transcript("meeting.mp3", segments, len(lines) * 4.0, speakers=speakers)


@pytest.mark.parametrize(
    "said, name",
    [
        ("Hi, this is Dana. Thanks for joining.", "Dana"),
        ("Omar here. I have twenty minutes.", "Omar"),
        ("Good morning, my name is Grace and I run the team.", "Grace"),
        ("Hi all, I'm Ben from sales.", "Ben"),
        ("Chloe speaking, from marketing.", "Chloe"),
        ("Hello, I am Maya, I lead the support team.", "Maya"),
    ],
)
def test_self_introductions_name_their_speaker(said, name):
    named = name_speakers(_diarized([("SPEAKER_1", "Let us start."), ("SPEAKER_2", said)]))
    assert named.speakers[1].name == name
    assert said in named.speakers[1].evidence and named.speakers[1].evidence.startswith("[00:00:04]")
    assert named.segments[1].speaker == name
    assert named.speakers[0].name == "" and named.segments[0].speaker == "SPEAKER_1"  # no evidence: stays


def test_introductions_are_anchored_at_the_name_said():
    """The diarizer's anchors: where each person said their own name (its word's time), keyed by the name;
    addressing someone else ("Peter, can you") or a word that is not a name is no anchor."""
    from llmkit.asr import Word
    from llmkit.minutes import introductions

    words = (Word(0.0, 0.3, " Hi"), Word(0.3, 0.5, " all,"), Word(0.6, 0.8, " I'm"), Word(0.8, 1.1, " Ben"))
    words += (Word(1.1, 1.5, " from"), Word(1.5, 1.9, " sales."), Word(2.5, 2.9, " Chloe"), Word(2.9, 3.4, " here."))
    words += (Word(4.0, 4.4, " Peter,"), Word(4.4, 4.6, " can"), Word(4.6, 4.8, " you?"))
    segment = Segment(0.0, 4.8, "".join(w.text for w in words).strip(), words)
    anchors = introductions([segment, Segment(5.0, 7.0, "And I'm very rude.")])
    assert [(a.key, a.start, a.end) for a in anchors] == [("ben", 0.8, 1.1), ("chloe", 2.5, 2.9)]
    no_words = introductions([Segment(9.0, 11.0, "My name is Grace.")])
    assert [(a.key, a.start, a.end) for a in no_words] == [("grace", 9.0, 11.0)]  # the whole segment


def test_the_one_addressed_is_the_one_who_answers_and_the_asker_is_not_them():
    named = name_speakers(
        _diarized(
            [
                ("SPEAKER_1", "Hi, I am Maya. Kofi, can you count the tickets per hour?"),
                ("SPEAKER_2", "Yes, I will count them by Wednesday."),
                ("SPEAKER_3", "The phone line is a problem too."),
            ]
        )
    )
    names = {s.label: s.name for s in named.speakers}
    assert names == {"SPEAKER_1": "Maya", "SPEAKER_2": "Kofi", "SPEAKER_3": ""}
    assert "answers 'Kofi'" in named.speakers[1].evidence


def test_a_misheard_name_is_corrected_by_the_list():
    """Whisper mishears names; with the list of people present, a heard name that sounds like exactly one
    listed name is that person. Without the list, the name stays as heard; a name like two listed ones, or like
    none, names nobody."""
    from llmkit.minutes.speakers import listed

    lines = [("SPEAKER_1", "Good morning, my name is Amanda."), ("SPEAKER_2", "Hi all, I'm Ben from sales.")]
    by_list = name_speakers(_diarized(lines), names=["Anna", "Ben", "David"])
    assert [s.name for s in by_list.speakers] == ["Anna", "Ben"]
    assert "Amanda" in by_list.speakers[0].evidence  # the evidence shows what was heard
    assert [s.name for s in name_speakers(_diarized(lines)).speakers] == ["Amanda", "Ben"]
    assert listed("Amanda", ["Anna", "Amara"]) is None  # alike to two: not guessed
    assert listed("Amanda", ["Anna", "anna", "Ben"]) == "Anna"  # one person listed twice is still one
    assert listed("Taylor", ["Dana", "Mark"]) is None
    assert listed("Dan", ["Dana", "Dan"]) == "Dan"  # the same name wins over an alike one
    assert listed("Amanda", ["Anna"], alike=False) is None
    from llmkit.cli.meetings import _speakers

    assert _speakers("Anna, anna,Ben") == (2, ["Anna", "Ben"])  # --speakers: a name given twice is one person


def test_a_listed_name_written_in_lower_case_still_names():
    """Whisper sometimes writes an unfamiliar name in lower case ("lina here"): a listed name counts in any
    case, unless it is also an English word ("bill here" may be about an invoice)."""
    lines = [("SPEAKER_1", "Okay, lina here, from the front desk."), ("SPEAKER_2", "I have the keys.")]
    assert [s.name for s in name_speakers(_diarized(lines), names=["Lina", "Omar", "Ravi"]).speakers] == ["Lina", ""]
    assert all(not s.name for s in name_speakers(_diarized(lines)).speakers)  # no list: not a name
    common = [("SPEAKER_1", "So, bill here, is it paid?"), ("SPEAKER_2", "Not yet.")]
    assert all(not s.name for s in name_speakers(_diarized(common), names=["Bill", "Omar", "Ravi"]).speakers)


def test_a_word_that_sounds_like_a_listed_name_is_not_that_person():
    """The list corrects misheard names, not ordinary words caught by the patterns: "Anyone?" is no Anna,
    "Great, can you ..." does not address Grace."""
    lines = [
        ("SPEAKER_1", "So, anyone want to start? Anyone?"),
        ("SPEAKER_2", "Great, can you share the numbers?"),
        ("SPEAKER_3", "Sure, here they are."),
    ]
    named = name_speakers(_diarized(lines), names=["Anna", "Grace", "Omar"])
    assert all(not s.name for s in named.speakers)


def test_greeting_someone_is_evidence_against_being_them():
    named = name_speakers(_diarized([("SPEAKER_1", "Hi Liam, hi Noah. Let us start."), ("SPEAKER_2", "Sure.")]))
    assert all(not s.name for s in named.speakers)


def test_a_name_list_and_the_map():
    lines = [("SPEAKER_1", "My name is Dana."), ("SPEAKER_2", "Sounds good."), ("SPEAKER_3", "Fine.")]
    by_list = name_speakers(_diarized(lines[:2]), names=["dana", "Ravi"])
    assert [s.name for s in by_list.speakers] == ["dana", "Ravi"]  # the user's spelling; Ravi by elimination
    assert "left over" in by_list.speakers[1].evidence
    mapped = name_speakers(_diarized(lines), mapping=parse_speaker_map(["SPEAKER_3=Oscar", "Dana=Dana Lee"]))
    assert [s.display for s in mapped.speakers] == ["Dana Lee", "SPEAKER_2", "Oscar"]
    assert mapped.speakers[2].evidence == "--speaker-map SPEAKER_3=Oscar"
    with pytest.raises(InvalidInputError, match="LABEL=NAME"):
        parse_speaker_map(["SPEAKER_2"])
    with pytest.raises(InvalidInputError, match="no speaker 'SPEAKER_9'"):
        name_speakers(_diarized(lines), mapping={"SPEAKER_9": "Zed"})


def test_a_name_listed_twice_through_the_api_is_one_person():
    """As through the CLI: the count the diarizer gets and the last-name-left rule see people, not entries."""
    options = MinutesOptions(speaker_names=["Dana", " dana ", "Ravi", ""])
    assert options.speaker_names == ["Dana", "Ravi"]
    assert MinutesPipeline(options).transcriber.options.speakers == 2
    lines = [("SPEAKER_1", "My name is Dana."), ("SPEAKER_2", "Sounds good.")]
    named = name_speakers(_diarized(lines), names=["Dana", "DANA", "Ravi"])
    assert [s.name for s in named.speakers] == ["Dana", "Ravi"]  # Ravi by elimination: one name left, not two


def test_outputs_carry_speakers_and_read_back(tmp_path):
    transcript = name_speakers(_diarized([("SPEAKER_1", "Hi, this is Dana."), ("SPEAKER_2", "Sure, I can help.")]))
    writer = TranscriptWriter(tmp_path)
    for segment in transcript.segments:
        writer.add(Segment(segment.start, segment.end, segment.text))  # streamed before diarization
    writer.finish(transcript)
    txt = (tmp_path / "transcript.txt").read_text()
    assert txt.splitlines() == ["[00:00:00] Dana: Hi, this is Dana.", "[00:00:04] SPEAKER_2: Sure, I can help."]
    assert "<v Dana>Hi, this is Dana." in (tmp_path / "transcript.vtt").read_text()
    assert "Dana: Hi, this is Dana." in (tmp_path / "transcript.srt").read_text()
    data = json.loads((tmp_path / "transcript.json").read_text())
    assert [s["speaker"] for s in data["segments"]] == ["Dana", "SPEAKER_2"]
    assert data["speakers"][0]["evidence"].endswith("Hi, this is Dana.")
    for fmt in ("txt", "srt", "vtt", "json"):
        back = read_transcript(tmp_path / f"transcript.{fmt}")
        assert [s.speaker for s in back.segments] == ["Dana", "SPEAKER_2"], fmt
        assert back.segments[0].text == "Hi, this is Dana."


def test_a_colon_in_one_line_is_not_a_speaker(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("[00:00:01] Decision: we renew the contract.\n[00:00:05] Then we go.\n[00:00:09] Fine.\n")
    assert all(not s.speaker for s in read_transcript(path).segments)


def test_i_will_belongs_to_its_speaker():
    transcript = name_speakers(
        _diarized(
            [
                ("SPEAKER_1", "Hi, this is Dana. The newsletter goes out soon."),
                ("SPEAKER_2", "Omar here. I will write the lead story by Friday."),
                ("SPEAKER_1", "Good. I will ask the design team for three photos."),
            ]
        )
    )
    said = sentences(transcript.segments)
    items = find_action_items(said, ["Dana", "Omar"])
    assert [(i.owner, i.task) for i in items] == [
        ("Omar", "Write the lead story"),
        ("Dana", "Ask the design team for three photos"),
    ]


def test_minutes_from_a_diarized_transcript_file(tmp_path, engine):
    path = tmp_path / "call.txt"
    path.write_text(
        "[00:00:00] SPEAKER_1: Hi, this is Dana. Thanks for joining the newsletter call.\n"
        "[00:00:05] SPEAKER_2: Omar here. I will write the lead story about the warehouse by Friday.\n"
        "[00:00:11] SPEAKER_1: We decided to drop the interview section for this issue.\n"
        "[00:00:16] SPEAKER_2: One open question is the send date of the spring issue.\n"
        "[00:00:21] SPEAKER_3: I will check the opening date with operations on Monday.\n"
    )
    options = MinutesOptions(speaker_map={"SPEAKER_3": "Lee"})
    minutes = MinutesPipeline(options, engine=engine).run(path, tmp_path / "out")
    assert {a.name for a in minutes.attendees} >= {"Dana", "Omar", "Lee"}
    assert {(i.owner, i.due) for i in minutes.action_items} == {("Omar", "Friday"), ("Lee", "Monday")}
    assert minutes.decisions[0].raised_by == "Dana"
    assert minutes.open_questions_by == ["Omar"]
    markdown = to_markdown(minutes)
    assert "**Talk time:** Dana" in markdown and "(raised by Dana)" in markdown
    assert "Dana (SPEAKER_1): named by [00:00:00] Hi, this is Dana." in markdown
    assert (tmp_path / "out" / "minutes.json").is_file()


def test_cli_transcribe_with_speakers(tmp_path):
    """`llmkit transcribe --diarize` on the two-person meeting, the way a user runs it."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "llmkit",
            "transcribe",
            str(MEETINGS / "speakers-pair.mp3"),
            "--diarize",
            "--speakers",
            "Dana,Mark",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "speakers-pair" / "transcript.txt").read_text().splitlines()
    speakers = {line.split("] ", 1)[1].split(":", 1)[0] for line in lines}
    assert speakers == {"Dana", "Mark"}
    bad = subprocess.run(
        [sys.executable, "-m", "llmkit", "transcribe", "x.mp3", "--speaker-map", "oops"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert bad.returncode == 2 and "LABEL=NAME" in bad.stderr

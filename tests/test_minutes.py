"""Meeting minutes with the real embedded model; transcripts from the scripted meetings."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from test_cli import run

from llmkit.errors import EndpointError, InvalidInputError
from llmkit.generation.types import Finished, GenerationResult, GenerationStats, TextDelta
from llmkit.minutes import MinutesOptions, MinutesPipeline, TranscriptTooLongError
from llmkit.minutes.evaluation import action_item_score, score, word_error_rate
from llmkit.minutes.grounding import grounded_prose

MEETINGS = Path(__file__).parents[1] / "benchmarks" / "meetings"


def script_transcript(name: str, folder: Path) -> Path:
    """The meeting's script as a timed transcript file (what a perfect ASR would give)."""
    from llmkit.minutes.evaluation import script_as_transcript

    return script_as_transcript(MEETINGS / f"{name}.lines.json", folder / f"{name}.txt")


@pytest.fixture(scope="module")
def pipeline(engine):
    return MinutesPipeline(MinutesOptions(), engine=engine)


@pytest.fixture(scope="module")
def launch(pipeline, tmp_path_factory):
    folder = tmp_path_factory.mktemp("launch")
    events = list(pipeline.stream(script_transcript("launch-review", folder), folder / "out"))
    return events, folder / "out"


def test_minutes_find_the_scripted_decisions_and_action_items(launch):
    events, _ = launch
    minutes = events[-1].minutes
    script = json.loads((MEETINGS / "launch-review.json").read_text())
    items = action_item_score(script["action_items"], minutes.action_items)
    decisions = score(script["decisions"], [d.text for d in minutes.decisions])
    assert items.recall >= 0.5 and items.precision >= 0.5, items
    assert decisions.recall >= 0.5 and decisions.precision >= 0.5, decisions
    booked = [i for i in minutes.action_items if "security review" in i.task.lower()]
    assert booked and booked[0].owner == "Marcus" and booked[0].due
    assert 70 <= booked[0].timestamp <= 110  # said at 1:19-1:30 into the meeting


def test_minutes_content_is_grounded(launch):
    minutes = launch[0][-1].minutes
    assert {"Priya", "Marcus", "Elena", "Tom"} <= {a.name for a in minutes.attendees}
    assert minutes.date == "Tuesday the fourth of March" and minutes.location == ""  # stated / not stated
    assert all(i.grounded for i in minutes.action_items)
    assert minutes.summary and minutes.title and minutes.extractor == "hybrid"


def test_minutes_stream_progress_parts_and_summary(launch):
    events, _ = launch
    kinds = [type(e).__name__ for e in events]
    assert kinds[-1] == "MinutesDone" and "MinutesDelta" in kinds
    assert any(e.message == "part 1/1" for e in events if type(e).__name__ == "MinutesProgress")
    streamed = "".join(e.text for e in events if type(e).__name__ == "MinutesDelta")
    assert events[-1].minutes.summary.split(".")[0] in " ".join(streamed.split())


def test_minutes_files(launch):
    _, out = launch
    data = json.loads((out / "minutes.json").read_text())
    for key in (
        "title",
        "summary",
        "attendees",
        "date",
        "location",
        "discussion",
        "decisions",
        "action_items",
        "open_questions",
        "warnings",
    ):
        assert key in data
    assert {"owner", "task", "due", "timestamp", "grounded"} <= set(data["action_items"][0])
    assert "## Action items" in (out / "minutes.md").read_text()
    page = (out / "minutes.html").read_text()
    assert page.startswith("<!doctype html>") and "<table>" in page and "http" not in page  # standalone


def test_docx_output(pipeline, tmp_path):
    pytest.importorskip("docx")
    from llmkit.minutes import write_minutes

    minutes = pipeline.run(script_transcript("office-move", tmp_path))
    (path,) = write_minutes(minutes, tmp_path / "out", ("docx",))
    import docx

    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert minutes.title in text and "Action items" in text


def test_long_transcripts_are_split_by_tokens_and_items_merged(engine, tmp_path):
    source = script_transcript("budget-planning", tmp_path)
    small_parts = MinutesPipeline(MinutesOptions(part_tokens=200), engine=engine)
    events = list(small_parts.stream(source))
    minutes = events[-1].minutes
    assert minutes.stats["parts"] >= 3
    messages = [e.message for e in events if type(e).__name__ == "MinutesProgress" and e.stage == "map"]
    assert f"part {minutes.stats['parts']}/{minutes.stats['parts']}" in messages
    script = json.loads((MEETINGS / "budget-planning.json").read_text())
    assert action_item_score(script["action_items"], minutes.action_items).recall >= 0.4


def test_an_utterance_longer_than_any_part_is_an_error(pipeline, tmp_path):
    rambling = tmp_path / "rambling.txt"
    rambling.write_text("[00:00:01] " + " ".join(["and then we talked about the roadmap"] * 400) + "\n")
    with pytest.raises(TranscriptTooLongError, match="no chunking can fit it"):
        pipeline.run(rambling)


def test_transcript_inputs_are_checked(pipeline, tmp_path):
    empty = tmp_path / "empty.srt"
    empty.write_text("\n")
    with pytest.raises(InvalidInputError, match="has no text"):
        pipeline.run(empty)
    broken = tmp_path / "broken.json"
    broken.write_text('{"segments": [{"start": 0}]}')
    with pytest.raises(InvalidInputError, match=r"segments\[0\].text"):
        pipeline.run(broken)


class ScriptedEngine:
    """Stands in for a model that misbehaves on cue (invalid JSON, a server failing midway): a real model
    cannot be made to fail on demand. Everything else in the pipeline is the real code."""

    def __init__(self, real, replies, fail_on_call=None):
        self.real, self.replies, self.fail_on_call, self.calls = real, list(replies), fail_on_call, 0
        self.requests: list[dict] = []

    def resolve(self, name):
        return self.real.resolve(name)

    def capabilities(self, model=None, backend=None):
        return self.real.capabilities(model, backend)

    def _next(self) -> str:
        self.calls += 1
        if self.fail_on_call and self.calls >= self.fail_on_call:
            raise EndpointError("http://127.0.0.1:9/v1", "connection lost midway")
        return self.replies[(self.calls - 1) % len(self.replies)]

    def generate(self, messages, params=None, **kwargs):
        self.requests.append({**kwargs, **(asdict(params) if params else {})})
        return GenerationResult(self._next(), STATS)

    def stream(self, messages, **kwargs):
        text = self._next()
        yield TextDelta(text)
        yield Finished(text, STATS)


STATS = GenerationStats("scripted", "scripted", 1, 1, 0.0, 0.0, 0.0, "stop")


def test_invalid_json_is_retried_then_kept_raw(engine, tmp_path):
    scripted = ScriptedEngine(engine, ["Sure! Here are the minutes: owner Marcus, task review"])
    pipeline = MinutesPipeline(MinutesOptions(extractor="llm"), engine=scripted)
    minutes = pipeline.run(script_transcript("hiring-sync", tmp_path))
    assert minutes.stats["json_attempts"] == 3 and minutes.stats["json_invalid_parts"] == 1
    json_requests = [r for r in scripted.requests if "json_schema" in r]
    assert [(r["temperature"], r.get("seed")) for r in json_requests] == [(0.0, None), (0.7, 2), (0.7, 3)]
    assert "Here are the minutes" in minutes.stats["raw_parts"][1]
    assert any("no valid JSON" in w for w in minutes.warnings)


def test_invented_owners_and_attendees_are_flagged(engine, tmp_path):
    reply = json.dumps(
        {
            "key_points": ["Hiring"],
            "decisions": ["Make an offer to Maria"],
            "action_items": [{"owner": "Zebulon", "task": "Prepare the offer", "due": ""}],
            "open_questions": [],
            "attendees": ["Liam", "Zebulon"],
        }
    )
    pipeline = MinutesPipeline(MinutesOptions(extractor="llm"), engine=ScriptedEngine(engine, [reply]))
    minutes = pipeline.run(script_transcript("hiring-sync", tmp_path))
    assert minutes.action_items[0].owner == "Zebulon" and not minutes.action_items[0].grounded
    assert {a.name: a.grounded for a in minutes.attendees} == {"Liam": True, "Zebulon": False}
    assert any("'Zebulon' is not named" in w for w in minutes.warnings)


def test_an_endpoint_failing_midway_keeps_what_was_done(engine, tmp_path):
    source = script_transcript("budget-planning", tmp_path)
    scripted = ScriptedEngine(engine, ["The budget."], fail_on_call=3)
    pipeline = MinutesPipeline(MinutesOptions(part_tokens=200), engine=scripted)
    with pytest.raises(EndpointError, match="midway"):
        pipeline.run(source, tmp_path / "out")
    kept = json.loads((tmp_path / "out" / "notes.partial.json").read_text())
    assert len(kept) == 2 and any(part["decisions"] or part["action_items"] for part in kept)


@pytest.mark.llamacpp
def test_llm_extractor_gets_valid_json_from_constrained_decoding(engine, tmp_path):
    from llmkit.generation.backends.base import backend_installed

    # Either llama.cpp runtime serves the llamacpp backend (xllamacpp is the extra's): not llama-cpp-python only.
    if not backend_installed("llamacpp"):
        pytest.skip("no llama.cpp runtime: pip install 'llmkit[llamacpp]'")
    pipeline = MinutesPipeline(MinutesOptions(extractor="llm", backend="llamacpp"), engine=engine)
    minutes = pipeline.run(script_transcript("office-move", tmp_path))
    assert minutes.stats["json_invalid_parts"] == 0 and minutes.stats["json_attempts"] == minutes.stats["parts"]


def test_prose_with_invented_specifics_is_dropped():
    kept, dropped = grounded_prose("We met. Costs rose 15% in Berlin. Lucy sends the rule.", "we met lucy sends rule")
    assert kept == "We met. Lucy sends the rule." and dropped[0][1] == ["15%", "Berlin"]


def test_word_error_rate():
    assert word_error_rate("the cat sat", "the cat sat") == 0
    assert word_error_rate("the cat sat on the mat", "the cat sat on mat") == pytest.approx(1 / 6)
    assert word_error_rate("ten people", "10 people") == 0


def test_cli_minutes_batch_skip_force_and_failures(tmp_path):
    good = script_transcript("office-move", tmp_path)
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"not audio at all" * 100)
    out = tmp_path / "out"
    result = run("minutes", str(bad), str(good), "-o", str(out), "--format", "md,json")
    assert result.returncode == 1 and "broken.mp3: " in result.stderr and "not a readable" in result.stderr
    assert (out / "office-move" / "minutes.md").is_file() and "## Action items" in result.stdout
    again = run("minutes", str(good), "-o", str(out))
    assert again.returncode == 0 and "already done" in again.stderr
    forced = run("minutes", str(good), "-o", str(out), "--force", "--json")
    assert forced.returncode == 0 and json.loads(forced.stdout)["action_items"]


def test_cli_transcribe_writes_files_and_help(tmp_path):
    for command in ("transcribe", "minutes"):
        assert run(command, "--help").returncode == 0
    result = run("transcribe", str(MEETINGS / "hiring-sync.mp3"), "-o", str(tmp_path), "--format", "txt,srt")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "hiring-sync").iterdir()) == ["transcript.srt", "transcript.txt"]
    assert "100%" in result.stderr


def test_cue_rules_for_requests_replies_and_decisions():
    from llmkit.asr.types import Segment
    from llmkit.minutes.extract import find_action_items, find_decisions, sentences
    from llmkit.minutes.reduce import reduce_notes
    from llmkit.minutes.types import ChunkNotes

    said = sentences(
        [
            Segment(0, 30, "Tom, you are right about that. Noah, you rewrite the take home task. Good, David."),
            Segment(
                30,
                60,
                "Please list the unused licenses before May. Marcus, please book the security review. "
                "Will do. I will book the security review by Thursday. So two decisions. First, every "
                "service gets a hard limit on connections. Second, staging gets a bigger database.",
            ),
        ]
    )
    items = find_action_items(said, [])
    assert [(i.owner, i.task) for i in items][:3] == [
        ("Noah", "Rewrite the take home task"),
        ("David", "List the unused licenses"),
        ("Marcus", "Book the security review"),
    ]
    merged = reduce_notes([ChunkNotes(1, action_items=items)]).action_items
    assert len(merged) == 3 and merged[2].due == "Thursday"  # the request and its reply are one item
    assert [d.text for d in find_decisions(said)] == [
        "Every service gets a hard limit on connections",
        "Staging gets a bigger database",
    ]
    assert 30 <= items[1].timestamp < 60


def test_json_schema_reaches_the_backends_that_can_constrain(engine):
    from llmkit.errors import UnsupportedError
    from llmkit.generation.backends.openai import request_body
    from llmkit.generation.types import Prompt, SamplingParams

    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    body = request_body("m", Prompt.of("hi"), SamplingParams(json_schema=schema))
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
    with pytest.raises(UnsupportedError, match="llamacpp"):
        engine.generate("hi", json_schema=schema, max_new_tokens=4)


def test_batch_api_skips_done_meetings_and_reports_failures(pipeline, tmp_path):
    from llmkit.minutes import stream_batch

    good = script_transcript("office-move", tmp_path)
    bad = tmp_path / "empty.txt"
    bad.write_text("\n")
    events = list(stream_batch(pipeline, [bad, good], tmp_path / "out"))
    assert events[0].source == bad and "has no text" in str(events[0].error)
    assert type(events[-1].event).__name__ == "MinutesDone" and (tmp_path / "out" / "office-move").is_dir()
    again = list(stream_batch(pipeline, [good], tmp_path / "out"))
    assert len(again) == 1 and again[0].skipped

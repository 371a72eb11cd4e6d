"""Minutes of short meetings the project never tuned on (benchmarks/meetings/*.json with "new_patterns": people
introduce themselves, requests to people by name are accepted, statements hand out tasks, contractions, one
decision): from the exact script, from audio through the real Whisper tiny.en, with the real embedded model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_minutes import ScriptedEngine

from llmkit.asr.types import Segment
from llmkit.minutes import MinutesOptions, MinutesPipeline, extract
from llmkit.minutes.evaluation import action_item_score, normalize_words, score, script_as_transcript
from llmkit.minutes.grounding import clean_title as _clean_title
from llmkit.minutes.grounding import stated_topic
from llmkit.minutes.llm import PROMPT_TEXTS, echoes_prompt

MEETINGS = Path(__file__).parents[1] / "benchmarks" / "meetings"
NEW_MEETINGS = sorted(
    p.stem
    for p in MEETINGS.glob("*.json")
    if not p.name.endswith(".lines.json") and json.loads(p.read_text()).get("new_patterns")
)


def script(name: str) -> dict:
    return json.loads((MEETINGS / f"{name}.json").read_text())


def said(*lines: str) -> list[extract.Sentence]:
    """Lines as a transcript gives them: one segment each, ten seconds apart."""
    return extract.sentences([Segment(10.0 * i, 10.0 * i + 9, line) for i, line in enumerate(lines)])


def cue_items(sentence_list):
    return extract.find_action_items(sentence_list, extract.names_in(sentence_list))


def test_there_are_several_new_patterns_meetings():
    assert len(NEW_MEETINGS) >= 4


@pytest.mark.parametrize("name", NEW_MEETINGS)
def test_cue_rules_on_the_exact_script(name):
    reference = script(name)
    lines = json.loads((MEETINGS / f"{name}.lines.json").read_text())
    sentence_list = extract.sentences([Segment(x["start"], x["end"], x["text"]) for x in lines])
    assert set(extract.names_in(sentence_list)) == set(reference["voices"])  # nobody else, no common words
    items = cue_items(sentence_list)
    found = action_item_score(reference["action_items"], items)
    assert (found.precision, found.recall) == (1.0, 1.0), [(i.owner, i.task) for i in items]
    assert len(items) == len(reference["action_items"])  # a request and its acceptance are one item
    for expected in reference["action_items"]:
        (item,) = [i for i in items if i.owner == expected["owner"] and _same_task(expected["task"], i.task)]
        if expected["due"]:
            assert item.due and set(normalize_words(item.due)) <= set(normalize_words(expected["due"])), item
        else:
            assert not item.due, item
    decisions = score(reference["decisions"], [d.text for d in extract.find_decisions(sentence_list)])
    assert (decisions.precision, decisions.recall) == (1.0, 1.0)


def _same_task(reference: str, found: str) -> bool:
    from llmkit.minutes.evaluation import matches

    return matches(reference, found)


def test_contractions_are_understood():
    assert extract.plain("I'll send it. We'll see. I'm gonna try. Let's go. You're up. Don't.") == (
        "I will send it. We will see. I am going to try. Let us go. You are up. Do not."
    )
    assert extract.plain("I\u2019ll book it") == "I will book it"
    for reply in ("Sure, I'll draft it by Friday.", "Okay, I'm gonna draft it by Friday.", "Yes, let me draft it by Friday."):
        items = cue_items(said("Hi Yusuf and Beth.", "Beth, I'd like you to draft the hiring plan.", reply))
        assert [(i.owner, i.task, i.due) for i in items] == [("Beth", "Draft the hiring plan", "Friday")], reply


def test_a_request_and_its_acceptance_are_one_item_with_the_stated_due_date():
    items = cue_items(
        said(
            "Welcome, Yusuf and Beth.",
            "Yusuf, could you renew the domain names before the audit?",
            "Yes. I will renew them on Thursday.",
            "Beth, can you ask the bank for the new card?",
            "Sure. I will do it tomorrow.",
            "Yusuf, you will also order new badges.",
            "Okay.",
        )
    )
    assert [(i.owner, i.due) for i in items] == [("Yusuf", "Thursday"), ("Beth", "tomorrow"), ("Yusuf", "")]
    assert items[0].task.startswith("Renew the domain names") and items[1].task == "Ask the bank for the new card"


def test_an_answer_to_a_request_belongs_to_the_person_asked():
    items = cue_items(said("Hi Beth, hi Yusuf.", "Beth, the supplier called again.", "Right. I will call them back today."))
    assert [(i.owner, i.task, i.due) for i in items] == [("Beth", "Call them back", "today")]
    named_last = cue_items(said("Hi Beth, hi Yusuf.", "Could you check the invoices, Yusuf?", "Sure, I will check them."))
    assert [(i.owner, i.task) for i in named_last] == [("Yusuf", "Check the invoices")]


def test_unseen_phrasings_of_requests_commitments_and_decisions():
    """Phrasings that none of the development meetings uses (written for this test, not taken from any
    meeting script)."""
    hello = "Hi Yusuf and Beth."
    items = cue_items(said(hello, "Yusuf, I need you to check the contract by Monday."))
    assert [(i.owner, i.task, i.due) for i in items] == [("Yusuf", "Check the contract", "Monday")]
    items = cue_items(said(hello, "Beth, would you mind updating the wiki page?", "Not at all."))
    assert [(i.owner, i.task) for i in items] == [("Beth", "Updating the wiki page")]
    items = cue_items(said(hello, "I will get the slides done tomorrow."))
    assert [(i.task, i.due) for i in items] == [("Get the slides done", "tomorrow")]
    decisions = lambda *lines: [d.text for d in extract.find_decisions(said(hello, *lines))]  # noqa: E731
    assert decisions("We have agreed to move the launch to May.") == ["Move the launch to May"]
    assert decisions("The decision is to keep the old supplier.") == ["Keep the old supplier"]
    assert decisions("Agreed: the budget stays at ten thousand.") == ["The budget stays at ten thousand"]


@pytest.mark.parametrize(
    "line",
    [
        "I will not be able to join on Friday.",  # a refusal, not a task
        "I will be honest, the numbers look bad.",  # a figure of speech
        "I will say one thing: the deadline is tight.",
        "Beth, can you hear me?",  # a question to a person that asks for nothing to be done
        "Yusuf, did you book the room?",
        "I would rather not say.",
    ],
)
def test_sentences_that_look_like_tasks_and_are_not(line):
    assert cue_items(said("Hi Yusuf and Beth.", line)) == []


@pytest.mark.parametrize(
    "line",
    [
        "We decided that last year, and it did not work.",  # an old decision recalled
        "If we agree to the price, we sign next week.",  # a condition, not a decision
        "Should we decide on the venue today?",
        "I think we should maybe decide later.",
        "We cannot decide this without the numbers.",
        "Did we agree on the colour?",
    ],
)
def test_sentences_that_look_like_decisions_and_are_not(line):
    assert extract.find_decisions(said("Hi Yusuf and Beth.", line)) == []


def test_attendees_are_people_not_common_words():
    sentence_list = said(
        "Hello, I'm Yusuf. Beth is here too.",
        "Agenda: the audit.",
        "Decision, we renew the domains for two years.",
        "Action item for Beth: renew the domains.",
        "Decision: Beth owns the audit. Summary: Beth and Yusuf handle it.",
        "Beth, please send the report. Okay, Decision made.",
    )
    assert extract.names_in(sentence_list) == ["Beth", "Yusuf"]


def test_a_title_that_echoes_our_prompt_is_rejected():
    transcript = "Yusuf, could you renew the domain names before the audit? Yes. I will renew them."
    leaked = "The summary should be no less than sentences long."
    assert echoes_prompt(leaked, transcript)
    for prompt in PROMPT_TEXTS:
        assert echoes_prompt(prompt, transcript), prompt
    assert _clean_title(leaked, transcript) == ""
    assert _clean_title("Title: Domain name renewal", transcript) == "Domain name renewal"
    assert not echoes_prompt("Domain name renewal before the audit", transcript)


def test_the_title_says_what_the_meeting_is_about():
    topics = {name: stated_topic(extract.sentences(_script_segments(name))) for name in NEW_MEETINGS}
    assert topics["vendor-renewal"] == "Renewal of our ticket system contract"
    assert topics["data-migration"] == "Check-in for the database migration"
    launch = stated_topic(extract.sentences(_script_segments("launch-review")))
    assert launch == "Launch review for the mobile app"


def _script_segments(name: str) -> list[Segment]:
    return [Segment(x["start"], x["end"], x["text"]) for x in json.loads((MEETINGS / f"{name}.lines.json").read_text())]


def test_a_model_title_leaking_our_prompt_falls_back_to_a_plain_title(engine, tmp_path):
    """The model is made to answer every question with our own instruction text (a real model cannot be made
    to on demand); the meeting states no topic, so the title must be the plain fallback."""
    source = tmp_path / "call.txt"
    source.write_text(
        "[00:00:01] Hi Beth. It is Monday the third of June.\n"
        "[00:00:05] Beth, could you renew the domain names before the audit?\n"
        "[00:00:09] Yes. I'll renew them on Thursday.\n"
    )
    leaked = ScriptedEngine(engine, ["The summary should be no less than sentences long."])
    minutes = MinutesPipeline(MinutesOptions(), engine=leaked).run(source)
    assert minutes.title == "Meeting, Monday the third of June"
    assert [(i.owner, i.due) for i in minutes.action_items] == [("Beth", "Thursday")]


@pytest.fixture(scope="module")
def pipeline(engine):
    return MinutesPipeline(MinutesOptions(formats=("json",)), engine=engine)


@pytest.mark.parametrize("name", ["vendor-renewal", "onboarding-plan"])
def test_minutes_of_new_patterns_meetings_from_the_script(pipeline, tmp_path, name):
    reference = script(name)
    source = script_as_transcript(MEETINGS / f"{name}.lines.json", tmp_path / f"{name}.txt")
    minutes = pipeline.run(source, tmp_path / "out")
    assert {a.name for a in minutes.attendees} == set(reference["voices"])
    items = action_item_score(reference["action_items"], minutes.action_items)
    assert (items.precision, items.recall) == (1.0, 1.0), minutes.action_items
    assert minutes.title and not echoes_prompt(minutes.title, " ".join(x[1] for x in reference["lines"]))


def test_minutes_of_a_new_patterns_meeting_from_audio(pipeline, tmp_path):
    """Through the real Whisper tiny.en: names may be misheard, but no common word becomes an attendee, and a
    request and its acceptance stay one item."""
    reference = script("vendor-renewal")
    minutes = pipeline.run(MEETINGS / "vendor-renewal.mp3", tmp_path / "out")
    attendees = {a.name for a in minutes.attendees}
    assert {"Dana", "Oscar"} <= attendees and len(attendees) <= 3, attendees  # Ravi may come back misheard
    assert not attendees & (extract.MEETING_WORDS | extract.NOT_NAMES)
    items = action_item_score(reference["action_items"], minutes.action_items)
    assert items.recall >= 0.5 and items.precision >= 0.5, minutes.action_items
    owners = [i.owner for i in minutes.action_items]
    assert len(owners) == len(set(owners))  # one item per person asked, not request + reply
    assert minutes.title and not echoes_prompt(minutes.title, " ".join(x[1] for x in reference["lines"]))

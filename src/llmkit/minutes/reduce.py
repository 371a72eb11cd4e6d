"""The reduce step: the parts' notes merged (a request and its reply become one item), then the minutes built
from them, with what the transcript does not support flagged."""

from __future__ import annotations

import re
from dataclasses import dataclass

from llmkit.asr import Transcript
from llmkit.minutes import extract
from llmkit.minutes.grounding import grounded_prose
from llmkit.minutes.types import ActionItem, Attendee, ChunkNotes, Decision, Minutes


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

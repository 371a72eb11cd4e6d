"""The cue-based layer of the map step: sentences, names, commitments, decisions, due dates, open questions.

A 135M-parameter model cannot reliably find action items in free text, but it does not need to: people
say them in a few recognisable shapes ("Marcus, please ...", "I will ... by Thursday", "we decided ...").
These rules find the candidates, grounded in the transcript by construction; the model then resolves
what rules cannot (who "I" is) and writes the prose. With a larger model the `llm` extractor asks the model
for everything as schema-constrained JSON instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llmkit.asr.types import Segment
from llmkit.minutes.types import ActionItem, ChunkNotes, Decision


@dataclass(frozen=True)
class Sentence:
    text: str
    time: float  # estimated from the position inside its segment


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def sentences(segments: list[Segment]) -> list[Sentence]:
    """Sentences across segment boundaries (ASR windows cut mid-sentence), each timed by interpolating
    inside the segment where it starts."""
    pieces, starts = [], []  # starts: (offset in the joined text, segment)
    offset = 0
    for segment in segments:
        text = segment.text.strip()
        if text:
            starts.append((offset, segment))
            pieces.append(text)
            offset += len(text) + 1
    joined = " ".join(pieces)
    result, position, index = [], 0, 0
    for part in _SENTENCE_END.split(joined):
        while index + 1 < len(starts) and starts[index + 1][0] <= position:
            index += 1
        seg_offset, segment = starts[index]
        fraction = (position - seg_offset) / max(len(segment.text.strip()), 1)
        result.append(Sentence(part.strip(), segment.start + min(fraction, 1.0) * max(segment.end - segment.start, 0)))
        position += len(part) + 1
    return [s for s in result if s.text]


NOT_NAMES = {
    "I",
    "Okay",
    "Ok",
    "Yes",
    "No",
    "Good",
    "Thanks",
    "Thank",
    "Hello",
    "Hi",
    "Hey",
    "The",
    "This",
    "That",
    "We",
    "Then",
    "So",
    "And",
    "But",
    "Also",
    "Last",
    "One",
    "First",
    "Second",
    "Third",
    "Most",
    "Any",
    "Our",
    "Let",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "English",
    "German",
    "Spanish",
    "French",
    "Germany",
    "Spain",
    "France",
    "Europe",
    "America",
    "Sure",
    "Right",
    "Fair",
    "Will",
    "What",
    "Why",
    "How",
    "When",
    "Where",
    "Who",
    "Do",
    "Does",
    "Can",
    "Should",
    "Please",
    "Great",
    "Welcome",
    "Today",
    "Tomorrow",
    "Here",
    "There",
    "It",
    "Is",
    "Are",
    "Every",
    "From",
    "With",
    "For",
    "In",
    "On",
    "At",
    "By",
    "To",
    "If",
    "Nobody",
    "Marketing",
    "Support",
    "Staging",
    "Sales",
    "Finance",
    "Well",
    "Now",
    "Sorry",
    "Alright",
    "Perfect",
    "Cool",
    "Fine",
    "Sounds",
    "Maybe",
    "Actually",
    "Just",
    "Everyone",
    "All",
}
_WORD = re.compile(r"\b[A-Z][a-z]{1,15}\b")
_ADDRESS = re.compile(r"^(?:(?:Hi|Hello|Thanks|Thank you|Okay|Good|So|And|Then)[ ,]+)?([A-Z][a-z]{1,15}),")
_WITH_NAMES = re.compile(r"\b(?:with|from|and|Hi|hi|Hello|hello|ask|to|thanks|Thanks)\s+([A-Z][a-z]{1,15})\b")


def names_in(sentence_list: list[Sentence]) -> list[str]:
    """People named in the text: words used to address someone, or capitalised mid-sentence words seen twice."""
    counts: dict[str, int] = {}
    addressed: set[str] = set()
    for sentence in sentence_list:
        match = _ADDRESS.match(sentence.text)
        if match and match.group(1) not in NOT_NAMES:
            addressed.add(match.group(1))
        for match in _WITH_NAMES.finditer(sentence.text):
            if match.group(1) not in NOT_NAMES:
                addressed.add(match.group(1))
        for word in _WORD.findall(sentence.text)[1:]:
            if word not in NOT_NAMES:
                counts[word] = counts.get(word, 0) + 1
    frequent = {word for word, n in counts.items() if n >= 2}
    return sorted(addressed | frequent)


# "Marcus, please ...", "Noah, you rewrite it" -- but not "Tom, you are right" or "Lucy, you know ...".
_REQUEST = re.compile(
    r"^(?:.*?\b)?([A-Z][a-z]{1,15}),\s+(?:please|can you|could you|would you|"
    r"you(?!\s+(?:are|were|know|think|mean|see|said|have|had|look|sound|seem|did|do|don't|agree|remember|may|might)\b))"
    r"\b\s*(.*)$"
)
_VOCATIVE = re.compile(r"^(?:\w+,\s+)?([A-Z][a-z]{1,15})[.?!]$")  # "Good, David." / "Marcus?"
_PLEASE = re.compile(r"^(?:please|can you|could you|would you)\s+(.*)$", re.I)
_SELF = re.compile(r"\b(?:I will|I'll|I am going to|I'm going to)\s+(.*)$", re.I)
_ON_ME = re.compile(r"\b(?:that is on me|that's on me|I will do it myself)\b", re.I)
_DUE = re.compile(
    r"\b(?:by|before|on|until|at)\s+((?:the\s+)?(?:end of (?:the )?\w+|next \w+|this \w+|\w+day|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\b|"
    r"(?:the\s+)?\w+(?:st|nd|rd|th)(?: of \w+)?|\d{1,2}(?:st|nd|rd|th)?(?: of \w+)?))|\b(today|tomorrow|this week|"
    r"next week|this month|end of the month)\b",
    re.I,
)
_DECISION = re.compile(
    r"\b(?:we decided|decided|the decision is|so we agree|we agree|agreed|from now on|then that is decided|"
    r"okay, decided|is decided|we will|then we)\b",
    re.I,
)
_OPEN = re.compile(r"\b(?:open question|we do not know|we don't know|still open|stays open|not confirmed)\b", re.I)


def due_date(text: str) -> str:
    match = _DUE.search(text)
    if not match:
        return ""
    return (match.group(1) or match.group(2) or "").strip()


def _task_text(text: str) -> str:
    task = re.sub(r"\s+", " ", text).strip().rstrip(".!?")
    due = _DUE.search(task)
    if due and due.start() > 10:  # keep the task, drop its due phrase (reported separately)
        task = task[: due.start()].strip().rstrip(",")
    return task[:1].upper() + task[1:] if task else task


def _request(text: str, previous: str) -> tuple[str, str] | None:
    """(person asked, what) for "Marcus, please book ..." or "Good, David. Please list ..."."""
    direct = _REQUEST.match(text)
    if direct and direct.group(1) not in NOT_NAMES:
        return direct.group(1), direct.group(2)
    vocative, please = _VOCATIVE.match(previous), _PLEASE.match(text)
    if vocative and please and vocative.group(1) not in NOT_NAMES:
        return vocative.group(1), please.group(1)
    return None


def find_action_items(sentence_list: list[Sentence], names: list[str]) -> list[ActionItem]:
    """Requests ("Marcus, please ...") and commitments ("I will ..."); "I" is the person just asked, if any."""
    items: list[ActionItem] = []
    last_addressed: tuple[str, int] | None = None  # (name, sentence index)
    for index, sentence in enumerate(sentence_list):
        request = _request(sentence.text, sentence_list[index - 1].text if index else "")
        if request:
            owner, rest = request
            if len(rest.split()) >= 3 or (len(rest.split()) >= 2 and not sentence.text.endswith("?")):
                items.append(ActionItem(owner, _task_text(rest), due_date(rest), sentence.time))
            last_addressed = (owner, index)
            continue
        commitment = _SELF.search(sentence.text)
        if commitment and len(commitment.group(1).split()) >= 3:
            # "I" answers the request just made ("Marcus, please ..." / "Will do. I will ..."), if there was one.
            recent = last_addressed is not None and index - last_addressed[1] <= 3
            owner = last_addressed[0] if recent else "unassigned"
            rest = commitment.group(1)
            items.append(ActionItem(owner, _task_text(rest), due_date(rest), sentence.time))
        elif _ON_ME.search(sentence.text) and items:
            items.append(ActionItem("unassigned", items[-1].task, items[-1].due, sentence.time))
    return items


_ENUMERATED = re.compile(r"^(?:first|second|third|fourth|and finally|finally)\b[,:]?\s*(.*)$", re.I)


def find_decisions(sentence_list: list[Sentence]) -> list[Decision]:
    decisions = []
    announced = False  # "So two decisions." -> the "First, ..." / "Second, ..." sentences that follow
    for index, sentence in enumerate(sentence_list):
        enumerated = _ENUMERATED.match(sentence.text)
        if announced and enumerated and len(enumerated.group(1).split()) >= 4:
            text = enumerated.group(1).rstrip(".")
            decisions.append(Decision(text[:1].upper() + text[1:], sentence.time))
            continue
        announced = bool(re.search(r"\bdecisions?\b", sentence.text, re.I)) and len(sentence.text.split()) <= 6
        match = _DECISION.search(sentence.text)
        if not match or _SELF.search(sentence.text) or sentence.text.endswith("?"):
            continue
        after = sentence.text[match.end() :].strip(" ,.:")
        if len(after.split()) < 4 and index + 1 < len(sentence_list):  # "Then let's decide now. We remove ..."
            after = sentence_list[index + 1].text
        elif match.group(0).lower() in ("we will", "then we"):
            after = sentence.text[match.start() :]
        text = after.strip().rstrip(".")
        if len(text.split()) >= 4:
            decisions.append(Decision(text[:1].upper() + text[1:], sentence.time))
    return decisions


def find_open_questions(sentence_list: list[Sentence]) -> list[str]:
    """Sentences flagged as open; a bare "One open question." hands over to the sentence after it."""
    found = []
    for index, sentence in enumerate(sentence_list):
        if not _OPEN.search(sentence.text):
            continue
        if len(sentence.text.split()) < 6 and index + 1 < len(sentence_list):
            found.append(sentence_list[index + 1].text)
        else:
            found.append(sentence.text)
    return found


def cue_notes(part: int, sentence_list: list[Sentence], known_names: list[str]) -> ChunkNotes:
    return ChunkNotes(
        part=part,
        decisions=find_decisions(sentence_list),
        action_items=find_action_items(sentence_list, known_names),
        open_questions=find_open_questions(sentence_list),
        names=names_in(sentence_list),
    )

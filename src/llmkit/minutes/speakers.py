"""Speaker names from evidence in a diarized transcript: who says who they are, who answers when a name is
addressed, a list of names the user gives, and the user's own map (SPEAKER_2=Dana), which wins. A speaker
without evidence stays SPEAKER_n; the line that named each speaker is kept as its evidence.

Scores per (speaker, name): a self-introduction ("this is Dana", "Omar here", "my name is Grace", "I'm Ben
from sales", "Chloe speaking") +3; answering right after the name was addressed ("Kofi, can you ...?") +1;
addressing or greeting a name ("Hi Liam, hi Noah") -2 for the one who says it, who is not that person.
Names are then given greedily, best score first, one name per speaker and one speaker per name. With the
user's list, only listed names count, and a heard name that sounds like exactly one of them is that person
(ASR mishears names); the last speaker and the last name left over go together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from llmkit.asr import Segment, Transcript, VoiceAnchor, short_clock
from llmkit.errors import InvalidInputError
from llmkit.minutes import extract

INTRODUCTION_SCORE = 3.0
ANSWER_SCORE = 1.0
ADDRESSER_SCORE = -2.0
# A heard name this alike to a listed one (difflib's ratio; same first letter) is that name misheard.
LISTED_NAME_SIMILARITY = 0.6
_NAME = r"([A-Z][a-z]{1,15})"
_INTRODUCTIONS = [
    re.compile(r"\b(?:I am|my name is|My name is|name is)\s+" + _NAME + r"\b"),
    re.compile(
        r"(?:^|[.!?]\s+|,\s+)(?:(?:hi|hello|hey|yes|okay|and|so)[, ]+)*(?:this is|This is|it is|It is)\s+"
        + _NAME
        + r"[.,!]"
    ),
    re.compile(r"(?:^|[.!?]\s+)(?:\w+[, ]+)?" + _NAME + r"\s+(?:here|speaking)\b"),
]
# The first-person ones: each is a different person in the room (not "this is Maria", who may be a candidate).
_FIRST_PERSON = (_INTRODUCTIONS[0], _INTRODUCTIONS[2])
# Someone addressed: "Kofi, can you ...", "Good, David. Please ...", "... the terms, Oscar?"
_ADDRESSED = [
    re.compile(
        r"(?:^|[.!?]\s+)(?:\w+,\s+)?" + _NAME + r",\s+(?:can|could|would|will|please|what|how|do|did|are|is|you)\b"
    ),
    re.compile(r",\s+" + _NAME + r"\?"),
    re.compile(r"(?:^|[.!?]\s+)(?:\w+,\s+)?" + _NAME + r"\?"),
]
_GREETED = re.compile(r"\b(?:Hi|Hello|Hey|hi|hello|hey|Thanks|thanks|Thank you|thank you)[, ]+" + _NAME + r"\b")


@dataclass
class _Vote:
    score: float = 0.0
    evidence: str = ""
    evidence_score: float = 0.0


def parse_speaker_map(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """["SPEAKER_2=Dana", ...] -> {"SPEAKER_2": "Dana"}; a pair without "=" or a name is an error."""
    mapping = {}
    for pair in pairs:
        label, _, name = pair.partition("=")
        if not label.strip() or not name.strip():
            raise InvalidInputError(f"--speaker-map {pair!r}: expected LABEL=NAME, e.g. SPEAKER_2=Dana")
        mapping[label.strip()] = name.strip()
    return mapping


def distinct_names(names: list[str] | tuple[str, ...]) -> list[str]:
    """The people in a list of names, each once: blanks dropped, a name given twice in any case is one person
    (its first spelling kept), so that the count and the last-name-left rule see people, not entries."""
    unique: dict[str, str] = {}
    for name in (n.strip() for n in names):
        if name:
            unique.setdefault(name.lower(), name)
    return list(unique.values())


def name_speakers(
    transcript: Transcript, names: list[str] | None = None, mapping: dict[str, str] | None = None
) -> Transcript:
    """The transcript with each diarized speaker named where evidence allows (segments then carry the name,
    `transcript.speakers` the name and its evidence line)."""
    if not transcript.speakers:
        return transcript
    names = distinct_names(names) if names else None
    labels = [s.label for s in transcript.speakers]
    votes = _votes(transcript.segments, set(labels), names)
    chosen = _assign(votes, labels, names)
    for label, name in (mapping or {}).items():
        target = next((x for x in labels if label in (x, chosen.get(x, ("",))[0])), None)
        if target is None:
            raise InvalidInputError(f"--speaker-map {label}={name}: no speaker {label!r}; found: {', '.join(labels)}")
        chosen[target] = (name, f"--speaker-map {label}={name}")
    speakers = [
        replace(s, name=chosen[s.label][0], evidence=chosen[s.label][1]) if s.label in chosen else s
        for s in transcript.speakers
    ]
    display = {s.label: s.display for s in speakers}
    segments = [replace(seg, speaker=display.get(seg.speaker, seg.speaker)) for seg in transcript.segments]
    return replace(transcript, segments=segments, speakers=speakers)


def introductions(segments: list[Segment]) -> list[VoiceAnchor]:
    """Where different people said who they are ("I am Dana", "Omar here"), as anchors for the diarizer:
    the name's word (its time from the word timestamps; the whole segment when there are none), keyed by the
    name. Voices that sound alike are then kept apart, and the count found is at least the names heard."""
    text = [extract.plain(s.text) for s in segments]
    lowercase = {w for t in text for w in re.findall(r"\b[a-z][a-z']+\b", t)}
    anchors = []
    for segment, plain_text in zip(segments, text, strict=True):
        for pattern in _FIRST_PERSON:
            for match in pattern.finditer(plain_text):
                name = match.group(1)
                if name != "I" and extract.is_name_word(name, lowercase, strong=True):
                    when = _said_at(segment, name, match.start(1) / max(len(plain_text), 1))
                    if when:
                        anchors.append(VoiceAnchor(*when, name.lower()))
    return anchors


def _said_at(segment: Segment, name: str, position: float) -> tuple[float, float] | None:
    """When `name` was said in the segment: its word nearest the match's relative position in the text (the
    whole segment when it has no word times; None when its words do not have the name)."""
    if not segment.words:
        return segment.start, segment.end
    said = [w for w in segment.words if w.text.strip(" .,!?;:'\"").lower() == name.lower()]
    if not said:
        return None
    length = max(segment.end - segment.start, 1e-6)
    word = min(said, key=lambda w: abs((w.start - segment.start) / length - position))
    return word.start, word.end


def _votes(segments: list[Segment], labels: set[str], allowed: list[str] | None) -> dict[tuple[str, str], _Vote]:
    lowercase = {w for s in segments for w in re.findall(r"\b[a-z][a-z']+\b", s.text)}

    def person(name: str, introduced: bool = False) -> str | None:
        """The person `name` stands for, or None. A name word here; one said in a self-introduction may also be
        a word the transcript uses in lower case ("Mark here" in a meeting that marks things): the introduction
        is the stronger evidence. With the user's list: a listed name (their spelling), or a name word that
        sounds like one ("Anyone?" is no Anna: not a name word)."""
        name_word = extract.is_name_word(name, set() if introduced else lowercase, strong=True)
        if allowed:
            return listed(name, allowed, alike=name_word)
        return name if name_word else None

    votes: dict[tuple[str, str], _Vote] = {}
    capitalise = _listed_capitaliser(allowed or [])

    def vote(label: str, name: str, score: float, segment: Segment, text: str) -> None:
        entry = votes.setdefault((label, name), _Vote())
        entry.score += score
        if score > entry.evidence_score:
            entry.evidence, entry.evidence_score = f"[{short_clock(segment.start)}] {text}", score

    for index, segment in enumerate(segments):
        if segment.speaker not in labels:
            continue
        text = capitalise(extract.plain(segment.text.strip()))
        for pattern in _INTRODUCTIONS:
            for heard in {m.group(1) for m in pattern.finditer(text)} - {"I"}:
                if name := person(heard, introduced=True):
                    vote(segment.speaker, name, INTRODUCTION_SCORE, segment, segment.text.strip())
        addressed = {m.group(1) for p in _ADDRESSED for m in p.finditer(text)}
        greeted = {m.group(1) for m in _GREETED.finditer(text)}
        for heard in addressed | greeted:
            if name := person(heard):
                vote(segment.speaker, name, ADDRESSER_SCORE, segment, segment.text.strip())
        for heard in addressed:
            answer = _answer(segments, index)
            if answer is not None and (name := person(heard)):
                vote(answer.speaker, name, ANSWER_SCORE, answer, f"answers {heard!r}: {answer.text.strip()}")
    return votes


def _listed_capitaliser(names: list[str]) -> Callable[[str], str]:
    """A function: text -> the text with each lower-case word that is, or sounds like, one listed name
    capitalised ("lina here" when Lena is listed: Whisper writes unfamiliar names in lower case too), so the
    patterns see it; never an English word ("bill here" may be about an invoice). Each word is looked up once."""
    common, _ = extract.common_words()
    seen: dict[str, str] = {}

    def capitalised(match: re.Match) -> str:
        word = match.group(0)
        if word not in seen:
            seen[word] = word.capitalize() if word not in common and listed(word, names) else word
        return seen[word]

    return lambda text: re.sub(r"\b[a-z]{2,16}\b", capitalised, text) if names else text


def _answer(segments: list[Segment], index: int) -> Segment | None:
    """The next segment by another speaker (the one addressed usually answers), within two segments."""
    for segment in segments[index + 1 : index + 3]:
        if segment.speaker != segments[index].speaker:
            return segment
    return None


def _assign(
    votes: dict[tuple[str, str], _Vote], labels: list[str], allowed: list[str] | None
) -> dict[str, tuple[str, str]]:
    chosen: dict[str, tuple[str, str]] = {}
    used: set[str] = set()
    for (label, name), entry in sorted(votes.items(), key=lambda kv: -kv[1].score):
        if entry.score <= 0 or label in chosen or name.lower() in used:
            continue
        chosen[label] = (name, entry.evidence)
        used.add(name.lower())
    if allowed:  # one speaker left without a name and one listed name left: by elimination
        left_labels = [label for label in labels if label not in chosen]
        left_names = [name for name in allowed if name.lower() not in used]
        if len(left_labels) == 1 and len(left_names) == 1:
            chosen[left_labels[0]] = (left_names[0], "the one name of --speakers left over")
    return chosen


def listed(heard: str, names: list[str], alike: bool = True) -> str | None:
    """The name in the user's list that `heard` is: the same name, or (with `alike`) one that sounds like it
    and is the only such name in the list (Whisper mishears names: "Anna" as "Amanda", "Tariq" as "Tarik").
    None if neither."""
    from difflib import SequenceMatcher

    heard_lower = heard.lower()
    for name in names:
        if name.lower() == heard_lower:
            return name
    if not alike:
        return None
    close: dict[str, str] = {}  # one entry per person, however often the list names them
    for name in names:
        if name[:1].lower() == heard_lower[:1]:
            if SequenceMatcher(None, name.lower(), heard_lower).ratio() >= LISTED_NAME_SIMILARITY:
                close.setdefault(name.lower(), name)
    return next(iter(close.values())) if len(close) == 1 else None


def speaker_at(segments: list[Segment], time: float) -> str:
    """The speaker of the segment that covers `time` (the nearest one if none does), "" if not diarized."""
    best, gap_best = "", float("inf")
    for segment in segments:
        if segment.start <= time <= segment.end:
            return segment.speaker
        gap = min(abs(segment.start - time), abs(segment.end - time))
        if gap < gap_best:
            best, gap_best = segment.speaker, gap
    return best

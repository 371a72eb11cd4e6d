"""The cue-based layer of the map step: sentences, names, commitments, decisions, due dates, open questions.

A 135M-parameter model cannot reliably find action items in free text, but it does not need to: people
say them in a few recognisable shapes ("Marcus, please ...", "I will ... by Thursday", "we decided ...").
These rules find the candidates, grounded in the transcript by construction; the model then resolves
what rules cannot (who "I" is) and writes the prose. With a larger model the `llm` extractor asks the model
for everything as schema-constrained JSON instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from llmkit.asr import Segment
from llmkit.minutes.types import ActionItem, ChunkNotes, Decision

# Spoken English is full of contractions ("I'll", "you're gonna"); the rules below match the long forms, so
# every sentence is expanded once, as it is made. Longest patterns first.
_CONTRACTIONS = [
    (r"\b(I|you|we|they|he|she|it|that|there)'ll\b", r"\1 will"),
    (r"\bI'm\b", "I am"),
    (r"\b(you|we|they)'re\b", r"\1 are"),
    (r"\b(I|you|we|they)'ve\b", r"\1 have"),
    (r"\b(I|you|we|they|he|she)'d\b", r"\1 would"),
    (r"\b(it|that|there|what|here|he|she|who)'s\b", r"\1 is"),
    (r"\blet's\b", "let us"),
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "cannot"),
    (r"\bshan't\b", "shall not"),
    (r"\b(\w+)n't\b", r"\1 not"),
    (r"\bgonna\b", "going to"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "have to"),
]
_CONTRACTION_PATTERNS = [(re.compile(pattern, re.I), long) for pattern, long in _CONTRACTIONS]


def plain(text: str) -> str:
    """Contractions written out ("I'll" -> "I will", "gonna" -> "going to"), curly apostrophes straightened;
    the case of the first letter is kept ("Let's" -> "Let us")."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    for pattern, long in _CONTRACTION_PATTERNS:
        text = pattern.sub(lambda m, long=long: _same_case(m.group(0), m.expand(long)), text)
    return text


def _same_case(original: str, replacement: str) -> str:
    if original[:1].isupper() and not replacement[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


@dataclass(frozen=True)
class Sentence:
    text: str  # as said (what the model reads)
    time: float  # estimated from the position inside its segment
    plain: str = field(default="", compare=False)  # contractions written out: what the rules read
    speaker: str = field(default="", compare=False)  # who said it, in a diarized transcript

    def __post_init__(self) -> None:
        if not self.plain:
            object.__setattr__(self, "plain", plain(self.text))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def sentences(segments: list[Segment]) -> list[Sentence]:
    """Sentences across segment boundaries (ASR windows cut mid-sentence) but never across a change of
    speaker, each timed by interpolating inside the segment where it starts."""
    result: list[Sentence] = []
    turn: list[Segment] = []
    for segment in segments:
        if turn and segment.speaker != turn[-1].speaker:
            result += _turn_sentences(turn)
            turn = []
        turn.append(segment)
    return result + (_turn_sentences(turn) if turn else [])


def _turn_sentences(segments: list[Segment]) -> list[Sentence]:
    pieces, starts = [], []  # starts: (offset in the joined text, segment)
    offset = 0
    for segment in segments:
        text = segment.text.strip()
        if text:
            starts.append((offset, segment))
            pieces.append(text)
            offset += len(text) + 1
    if not starts:
        return []
    joined = " ".join(pieces)
    result, position, index = [], 0, 0
    for part in _SENTENCE_END.split(joined):
        while index + 1 < len(starts) and starts[index + 1][0] <= position:
            index += 1
        seg_offset, segment = starts[index]
        fraction = (position - seg_offset) / max(len(segment.text.strip()), 1)
        timed = segment.start + min(fraction, 1.0) * max(segment.end - segment.start, 0)
        result.append(Sentence(part.strip(), timed, speaker=segment.speaker))
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
# Words of meetings that are capitalised at the start of a phrase ("Decision: ...", "Action item ...") but
# are never people. Common English words in general come from Faker's word list (a core dependency).
MEETING_WORDS = {
    "Action",
    "Actions",
    "Agenda",
    "Decision",
    "Decisions",
    "Item",
    "Items",
    "Minutes",
    "Meeting",
    "Notes",
    "Note",
    "Summary",
    "Topic",
    "Topics",
    "Update",
    "Updates",
    "Status",
    "Question",
    "Questions",
    "Next",
    "Team",
    "Everybody",
    "Someone",
    "Somebody",
    "Anyone",
    "Morning",
    "Afternoon",
    "Evening",
    "Bye",
    "Goodbye",
    "Yeah",
    "Yep",
    "Nope",
    "Absolutely",
    "Exactly",
    "Indeed",
    "Agreed",
    "Understood",
    "Done",
    "Noted",
    "Happy",
    "Makes",
    "Speaking",
}


@lru_cache(maxsize=1)
def common_words() -> tuple[frozenset[str], frozenset[str]]:
    """(common English words, lower-cased; first names) from Faker's en_US providers; empty if unavailable."""
    try:
        from faker.providers.lorem.en_US import Provider as Lorem
        from faker.providers.person.en_US import Provider as Person
    except ImportError:  # pragma: no cover - faker is a core dependency
        return frozenset(), frozenset()
    first = set(Person.first_names) if isinstance(Person.first_names, (list, tuple, set)) else set(Person.first_names)
    return frozenset(w.lower() for w in Lorem.word_list), frozenset(first)


def lowercase_vocabulary(sentence_list: list[Sentence]) -> set[str]:
    """Words the transcript uses in lower case somewhere: common words, not names."""
    return {w for s in sentence_list for w in re.findall(r"\b[a-z][a-z']+\b", s.plain)}


def is_name_word(word: str, lowercase: set[str], strong: bool = False) -> bool:
    """Could `word` be a person's name here? Never a listed non-name, a meeting word, or a word this transcript
    also uses in lower case; a common English word only when it is a known first name used as a name
    (`strong`: addressed, introduced)."""
    if word in NOT_NAMES or word in MEETING_WORDS or word.lower() in lowercase:
        return False
    common, first_names = common_words()
    if word.lower() in common:
        return strong and word in first_names
    return True


_WORD = re.compile(r"\b[A-Z][a-z]{1,15}\b")
_ADDRESS = re.compile(r"^(?:(?:Hi|Hello|Thanks|Thank you|Okay|Good|So|And|Then)[ ,]+)?([A-Z][a-z]{1,15}),")
_WITH_NAMES = re.compile(r"\b(?:with|from|and|Hi|hi|Hello|hello|ask|to|thanks|Thanks)\s+([A-Z][a-z]{1,15})\b")
# People who say who they are: "I am Dana", "my name is Grace", "this is Amara.", "Sven here", "Felix speaking".
_INTRODUCTION = re.compile(
    r"\b(?:I am|my name is|My name is|this is|This is|it is|It is)\s+([A-Z][a-z]{1,15})\b|"
    r"^(?:(?:Hi|Hello|Hey|Okay|Yes)[ ,]+)?([A-Z][a-z]{1,15})\s+(?:here|speaking)\b"
)
# "Carlos from facilities, Mei from IT and Peter from people operations"
_FROM_TEAM = re.compile(r"(?:^|,\s+|\band\s+)([A-Z][a-z]{1,15})\s+from\s+(?:the\s+)?[A-Za-z]")
_AFTER_COLON = re.compile(r"[:;\"(]\s*([A-Z][a-z]{1,15})")


def names_in(sentence_list: list[Sentence]) -> list[str]:
    """People named in the text: words used to address someone, self-introductions, or capitalised
    mid-sentence words seen twice; never common words ("Decision", "Agenda") or words the transcript also
    uses in lower case."""
    lowercase = lowercase_vocabulary(sentence_list)
    counts: dict[str, int] = {}
    strong: set[str] = set()
    for sentence in sentence_list:
        text = sentence.plain
        match = _ADDRESS.match(text)
        if match:
            strong.add(match.group(1))
        strong.update(m.group(1) for m in _WITH_NAMES.finditer(text))
        strong.update(m.group(1) or m.group(2) for m in _INTRODUCTION.finditer(text))
        strong.update(m.group(1) for m in _FROM_TEAM.finditer(text))
        after_colon = {m.group(1) for m in _AFTER_COLON.finditer(text)}
        for word in _WORD.findall(text)[1:]:
            if word not in after_colon:  # "Decision: We renew" capitalises after the colon
                counts[word] = counts.get(word, 0) + 1
    named = {w for w in strong if is_name_word(w, lowercase, strong=True)}
    frequent = {w for w, n in counts.items() if n >= 2 and is_name_word(w, lowercase)}
    return sorted(named | frequent)


# How a request to someone begins, after their name: "Marcus, please ...", "Noah, you rewrite it",
# "Amara, I would like you to ...", "Sven, you are going to ..." -- but not "Tom, you are right".
_ASKING = (
    r"(?:please|(?:can|could|would|will)\s+you(?:\s+please)?|I would like you to|I need you to|I want you to|"
    r"I am asking you to|your task is to|you are going to|you are in charge of|you will|you should|you need to|"
    r"you have to|you must|you take|"
    r"you(?!\s+(?:are|were|know|think|mean|see|said|have|had|look|sound|seem|did|do|does|agree|remember|may|might|"
    r"can|could|would|will|should|must|need|want|like|got|get)\b))"
)
_REQUEST = re.compile(r"^(?:.*?\b)?([A-Z][a-z]{1,15}),\s+(?:also\s+)?" + _ASKING + r"\b\s*(.*)$")
# ASR often drops the comma after a name ("Felix can you set up ..."): then only a name known to be a person.
_REQUEST_NO_COMMA = re.compile(r"\b([A-Z][a-z]{1,15})\s+(?:also\s+)?" + _ASKING + r"\b\s*(.*)$")
# Where a run-on ASR sentence (no full stop) goes on with the next speaker: "... session for them Happy to, I ..."
_NEXT_TURN = re.compile(r"\s+(?=(?:Yes|Yeah|Sure|Okay|Happy to|Of course|Will do|No problem|Thanks|Thank you|Great)\b)")
# "Could you review the terms, Oscar?"
_REQUEST_NAME_LAST = re.compile(
    r"^(?:please|(?:can|could|would|will)\s+you(?:\s+please)?)\s+(.*?),\s+([A-Z][a-z]{1,15})[.?!]?$", re.I
)
# "Let us have Dana check the invoices", "I would like Ravi to compare ..."; a known name only.
_ASSIGN = re.compile(
    r"\b(?:let us have|let us ask|I would like|I want|I need|we need)\s+([A-Z][a-z]{1,15})\s+(?:to\s+)?(.*)$", re.I
)
# "Ravi will compare ...", "Ines is going to book ..."; a known name only, not "Marcus will be away".
_THIRD_PERSON = re.compile(
    r"^(?:(?:so|then|and|okay|good)[, ]+)?([A-Z][a-z]{1,15})\s+(?:will|is going to|takes care of|is taking care of)\s+"
    r"(?!(?:be|not|have|probably|also be|never)\b)(.*)$",
    re.I,
)
_VOCATIVE = re.compile(r"^(?:\w+,\s+)?([A-Z][a-z]{1,15})[.?!]$")  # "Good, David." / "Marcus?"
_PLEASE = re.compile(r"^(?:please|can you|could you|would you|will you)\s+(.*)$", re.I)
_SELF = re.compile(
    r"\b(?:I will|I am going to|I shall|let me|I can take care of|I will take care of)\s+"
    r"(?:also\s+|then\s+|just\s+|go ahead and\s+)?(.*)$",
    re.I,
)
_ON_ME = re.compile(r"\b(?:that is on me|I will do it myself|leave it with me|I will handle it)\b", re.I)
# A reply that takes the request just made: "Yes.", "Sure, ...", "Will do.", "Of course."
_ACCEPT = re.compile(
    r"^(?:yes|yeah|yep|sure|okay|ok|of course|will do|no problem|happy to|absolutely|certainly|alright|all right|"
    r"fine|sounds good|definitely|got it|on it|can do)\b",
    re.I,
)
# "I will ..." that commits to nothing: a refusal ("I will not be able to ..."), a figure of speech ("I will be
# honest", "I will say one thing").
_NOT_A_TASK = re.compile(
    r"^(?:not|never|be (?:honest|frank|brief|quick)\b|say\b|admit\b|tell you (?:what|this)\b)", re.I
)
# A decision recalled from the past ("we decided that last year") or stated as a condition ("If we agree ...")
# is not one taken now; "at last year's price" is no such recall.
_NOT_A_DECISION = re.compile(
    r"^(?:if|unless|once|when)\b|"
    r"\b(?:decided|agreed)\b.*\b(?:last (?:year|time|week|month|quarter)|years? ago|back then|in the past)\b(?!')|"
    r"\b(?:last (?:year|time|week|month|quarter)|years? ago|back then|in the past)\b(?!')[^.]*\b(?:decided|agreed)\b",
    re.I,
)
# A commitment that adds something rather than taking the request: "I will also ...", "and then I will ...".
_ANOTHER = re.compile(r"\b(?:also|another|as well|in addition|besides)\b", re.I)
# A day of the month said as a word: "the fourteenth", "the twenty-first" (not any word ending in -nd/-th).
_ORDINAL = (
    r"(?:(?:(?:twenty|thirty)[- ])?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|tenth|"
    r"eleventh|twelfth|\w+teenth|twentieth|thirtieth)"
)
_DUE = re.compile(
    r"\b(?:by|before|on|until|at)\s+((?:the\s+)?(?:end of (?:the )?\w+|next \w+|this \w+|\w+day|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\b|"
    r"(?:the\s+)?" + _ORDINAL + r"(?: of \w+)?|\d{1,2}(?:st|nd|rd|th)?(?: of \w+)?))\b|\b(today|tomorrow|this week|"
    r"next week|this month|end of the month)\b",
    re.I,
)
_DECISION = re.compile(
    r"\b(?:we decided|decided|the decision is|so we agree|we agree|agreed|from now on|then that is decided|"
    r"okay, decided|is decided|we will|then we|"
    r"^(?:so|okay|good|then)?[, ]*(?:one|the|our|final|a)?\s*decision(?:\s+is)?(?=[\s:.,]|$))\b",
    re.I,
)
_OPEN = re.compile(r"\b(?:open question|we do not know|we don't know|still open|stays open|not confirmed)\b", re.I)


def due_date(text: str) -> str:
    match = _DUE.search(text)
    if not match:
        return ""
    return (match.group(1) or match.group(2) or "").strip()


def _task_text(text: str) -> str:
    task = re.sub(r"\s+", " ", text).strip().rstrip(".!?").strip()
    due = _DUE.search(task)
    if due and due.start() > 10:  # keep the task, drop its due phrase (reported separately)
        task = task[: due.start()].strip().rstrip(",")
    return task[:1].upper() + task[1:] if task else task


def _request(text: str, previous: str, lowercase: set[str], known: set[str]) -> tuple[str, str] | None:
    """(person asked, what) for "Marcus, please book ...", "Good, David. Please list ...", "Could you ...,
    Oscar?", or an assignment to a known name ("Ravi will compare ...")."""
    candidates = []
    direct = _REQUEST.match(text)
    if direct:
        candidates.append((direct.group(1), direct.group(2)))
    last = _REQUEST_NAME_LAST.match(text)
    if last:
        candidates.append((last.group(2), last.group(1)))
    vocative, please = _VOCATIVE.match(previous), _PLEASE.match(text)
    if vocative and please:
        candidates.append((vocative.group(1), please.group(1)))
    no_comma = _REQUEST_NO_COMMA.search(text)
    if no_comma and no_comma.group(1) in known:
        candidates.append((no_comma.group(1), no_comma.group(2)))
    for pattern in (_ASSIGN, _THIRD_PERSON):
        match = pattern.search(text)
        if match and match.group(1) in known:
            candidates.append((match.group(1), match.group(2)))
    for name, rest in candidates:
        if is_name_word(name, lowercase, strong=True):
            rest = _NEXT_TURN.split(rest, maxsplit=1)[0]
            return name, re.sub(r"^(?:also|please|go ahead and|mind)\s+", "", rest.strip(), flags=re.I)
    return None


_ADDRESSED = re.compile(r"^(?:(?:\w+)[,.]?\s+)?([A-Z][a-z]{1,15}),\s")  # "Thanks. Ravi, ..." / "Marcus, what about"
_ANAPHORIC = re.compile(
    r"^(?:do|handle|take care of|get|have|sort out|look into|finish)\s+(?:it|that|this|them)\b", re.I
)


def _is_reply(sentence_list: list[Sentence], index: int, asked_at: int) -> bool:
    """Is sentence `index` the answer to the request at `asked_at`: within three sentences, and either
    right after it or after an acceptance ("Yes.", "Sure, I will ...")."""
    if index - asked_at > 3:
        return False
    between = [s.plain for s in sentence_list[asked_at + 1 : index + 1]]
    return index == asked_at + 1 or any(_ACCEPT.match(text) for text in between)


def find_action_items(sentence_list: list[Sentence], names: list[str]) -> list[ActionItem]:
    """Requests ("Marcus, please ...", "Ravi, you will ...") and commitments ("I will ...", "let me ...").
    "I" is the person just addressed, if any; a commitment that answers a request is the same action item
    (the owner from the request, the due date from whichever states one)."""
    lowercase, known = lowercase_vocabulary(sentence_list), set(names)
    items: list[ActionItem] = []
    last_addressed: tuple[str, int] | None = None  # (name, sentence index)
    open_request: tuple[ActionItem, int] | None = None  # a request's item not yet answered
    for index, sentence in enumerate(sentence_list):
        text = sentence.plain
        request = _request(text, sentence_list[index - 1].plain if index else "", lowercase, known)
        if request:
            owner, rest = request
            last_addressed, open_request = (owner, index), None
            if len(rest.split()) >= 3 or (len(rest.split()) >= 2 and not text.endswith("?")):
                item = ActionItem(owner, _task_text(rest), due_date(rest), sentence.time)
                items.append(item)
                open_request = (item, index)
            continue
        addressed = _ADDRESSED.match(text)
        if addressed and is_name_word(addressed.group(1), lowercase, strong=True):
            last_addressed, open_request = (addressed.group(1), index), None
            continue
        commitment = _SELF.search(text)
        if commitment and _NOT_A_TASK.match(commitment.group(1)):
            continue
        if commitment:
            rest = commitment.group(1)
            answering = open_request is not None and _is_reply(sentence_list, index, open_request[1])
            if answering and not _ANOTHER.search(text):
                item = open_request[0]
                item.due = due_date(rest) or item.due
                item.task = _merged_task(item.task, _task_text(_DUE.sub("", rest)))
                open_request = None
                continue
            if len(rest.split()) >= 3:
                # "I" answers the request just made ("Marcus, please ..." / "Will do. I will ..."), if there was one.
                # "I" just after a request to someone is that person; otherwise, in a diarized transcript,
                # whoever said it when evidence named them (a voice mistaken for another is the likelier error).
                recent = last_addressed is not None and index - last_addressed[1] <= 3
                owner = (last_addressed[0] if recent else "") or _named(sentence.speaker) or "unassigned"
                items.append(ActionItem(owner, _task_text(rest), due_date(rest), sentence.time))
        elif _ON_ME.search(text) and items:
            owner = _named(sentence.speaker) or "unassigned"
            items.append(ActionItem(owner, items[-1].task, items[-1].due, sentence.time))
    return items


def _named(speaker: str) -> str:
    """A diarized speaker's name, or "" for none or an unnamed SPEAKER_n."""
    return "" if not speaker or speaker.startswith("SPEAKER_") else speaker


_FILLER = {"the", "and", "for", "with", "that", "this", "those", "these", "them", "you", "your", "our", "their"}


def _words_of(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in _FILLER}


def _merged_task(asked: str, answered: str) -> str:
    """One task from a request and the reply that takes it: the request's words ("Find a hotel") and, when
    the reply says more ("I will book three rooms"), the reply's too; "Own that" gives way to the reply."""
    said, replied = _words_of(asked), _words_of(answered)
    if said and replied and len(said & replied) / min(len(said), len(replied)) >= 0.6:
        return asked if len(asked) >= len(answered) else answered
    if len(said) < 2 or said <= replied:
        return answered if replied else asked
    if not replied or replied <= said or _ANAPHORIC.match(answered):
        return asked
    return f"{asked}; {answered[:1].lower()}{answered[1:]}"


_ENUMERATED = re.compile(r"^(?:first|second|third|fourth|and finally|finally)\b[,:]?\s*(.*)$", re.I)


def find_decisions(sentence_list: list[Sentence]) -> list[Decision]:
    decisions = []
    announced = False  # "So two decisions." -> the "First, ..." / "Second, ..." sentences that follow
    for index, sentence in enumerate(sentence_list):
        enumerated = _ENUMERATED.match(sentence.plain)
        if announced and enumerated and len(enumerated.group(1).split()) >= 4:
            text = enumerated.group(1).rstrip(".")
            decisions.append(Decision(text[:1].upper() + text[1:], sentence.time))
            continue
        announced = bool(re.search(r"\bdecisions?\b", sentence.plain, re.I)) and len(sentence.plain.split()) <= 6
        match = _DECISION.search(sentence.plain)
        if not match or _SELF.search(sentence.plain) or sentence.plain.endswith("?"):
            continue
        if _NOT_A_DECISION.search(sentence.plain):
            continue
        after = sentence.plain[match.end() :].strip(" ,.:")
        if len(after.split()) < 4 and index + 1 < len(sentence_list):  # "Then let's decide now. We remove ..."
            after = sentence_list[index + 1].plain
        elif match.group(0).lower() in ("we will", "then we"):
            after = sentence.plain[match.start() :]
        text = re.sub(r"^(?:that|to)\s+", "", after.strip(), flags=re.I).rstrip(".")
        if len(text.split()) >= 4:
            decisions.append(Decision(text[:1].upper() + text[1:], sentence.time))
    return decisions


def find_open_questions(sentence_list: list[Sentence]) -> list[str]:
    """Sentences flagged as open; a bare "One open question." hands over to the sentence after it."""
    found = []
    for index, sentence in enumerate(sentence_list):
        if not _OPEN.search(sentence.plain):
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
        names=_mentioned(known_names, sentence_list) if known_names else names_in(sentence_list),
    )


def _mentioned(names: list[str], sentence_list: list[Sentence]) -> list[str]:
    """The names (found over the whole transcript) that this part mentions."""
    text = " ".join(s.text for s in sentence_list)
    return [name for name in names if re.search(rf"\b{re.escape(name)}\b", text)]

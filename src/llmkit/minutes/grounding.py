"""Holding the model's text to the transcript: sentences whose numbers and names the meeting never said are
dropped, titles that echo our prompt are refused, and the topic a meeting states in its own words is found."""

from __future__ import annotations

import re

from llmkit.minutes import extract, llm

_TERM = re.compile(r"\$?\d[\d,.:]*%?|(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b")


def grounded_prose(text: str, transcript_text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """Keep the model's sentences whose numbers and proper names all occur in the transcript.

    Small models invent specifics ("a 15% increase", "iOS and Android"); a sentence carrying one is dropped
    and reported rather than passed off as fact. Returns (kept text, [(dropped sentence, unsupported terms)]).
    """
    spoken = transcript_text.lower()
    kept, dropped = [], []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if not sentence:
            continue
        terms = [
            t for t in _TERM.findall(sentence) if t.strip("$%.,:").lower() not in spoken and t not in extract.NOT_NAMES
        ]
        (dropped.append((sentence, terms)) if terms else kept.append(sentence))
    return " ".join(kept), dropped


def clean_title(text: str, transcript_text: str) -> str:
    """The model's title, first line only, without numbers the meeting never mentioned (small models add years);
    "" if it echoes our prompt instead of naming the meeting's subject, or names nothing the meeting said."""
    title = text.strip().splitlines()[0] if text.strip() else ""
    title = title.strip(" \"'*#").removeprefix("Title:").strip()
    words = [w for w in title.split() if all(number in transcript_text for number in re.findall(r"\d+", w))]
    title = " ".join(words).strip(" -–:,.")[:80]
    spoken = set(re.findall(r"[a-z0-9]+", transcript_text.lower()))
    if llm.echoes_prompt(title, transcript_text) or not any(
        len(w) > 3 and w in spoken for w in re.findall(r"[a-z0-9]+", title.lower())
    ):
        return ""
    return title


# What a meeting says it is about: "This is the launch review for ...", "Agenda: the renewal of ...",
# "Today we plan our booth ...", "We are here to discuss ...".
_TOPIC = re.compile(
    r"\b(?:this is (?=the |our )|welcome to (?=the |our )|agenda(?: for today)?(?: is)?:?\s|the topic is |"
    r"topic:\s|we are here to (?:discuss|talk about|review|plan|decide on) |today we (?=\w+ (?:the|our) )|"
    r"let us talk about |this meeting is about )\s*(.+?)(?=[.;!?]|, | on (?:Monday|Tuesday|Wednesday|Thursday|"
    r"Friday|Saturday|Sunday|the \w+ of)\b| with |$)",
    re.I,
)


def stated_topic(sentence_list: list[extract.Sentence]) -> str:
    """The meeting's subject in its own words, from the first minute or so; "" if it does not state one."""
    for sentence in sentence_list[:8]:
        match = _TOPIC.search(sentence.plain)
        if not match:
            continue
        topic = re.sub(r"^(?:the|our|a)\s+", "", match.group(1).strip(), flags=re.I).strip(" ,:")
        if 2 <= len(topic.split()) <= 10:
            return topic[:1].upper() + topic[1:]
    return ""


def whole_sentences(text: str, limit: int) -> str:
    """At most `limit` sentences, never a cut-off one (the token budget can end mid-sentence)."""
    parts = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    complete = [p for p in parts if p.endswith((".", "!", "?"))]
    return " ".join(complete[:limit]) if complete else " ".join(text.split())

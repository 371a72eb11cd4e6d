"""Scoring minutes and transcripts against a scripted meeting: word error rate, and precision / recall of
action items (owner + task) and decisions. Used by benchmarks/minutes.py and the tests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_NUMBER_WORDS = {
    "0": "zero",
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
    "10": "ten",
}


def normalize_words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))
    return [_NUMBER_WORDS.get(w, w) for w in words]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, on lower-cased words without punctuation."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, other in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
        previous = current
    return previous[-1] / max(len(ref), 1)


_STOP = {"the", "a", "an", "to", "for", "of", "and", "on", "in", "with", "by", "from", "this", "that", "all"}


def _content(text: str) -> set[str]:
    return {w for w in normalize_words(text) if w not in _STOP and len(w) > 1}


def matches(reference: str, found: str, threshold: float = 0.5) -> bool:
    """Same item if at least `threshold` of the reference's content words are in what was found."""
    ref = _content(reference)
    return bool(ref) and len(ref & _content(found)) / len(ref) >= threshold


@dataclass
class Score:
    precision: float
    recall: float
    found: int
    expected: int


def score(expected: list[str], found: list[str], same=matches) -> Score:
    """Greedy one-to-one matching; precision over what was found, recall over what was expected."""
    unused = list(found)
    hits = 0
    for item in expected:
        match = next((f for f in unused if same(item, f)), None)
        if match is not None:
            unused.remove(match)
            hits += 1
    return Score(
        hits / len(found) if found else 0.0, hits / len(expected) if expected else 1.0, len(found), len(expected)
    )


def action_item_score(expected: list[dict], found: list) -> Score:
    """An action item counts when the owner is the same person and the task matches."""

    def same(reference: str, candidate: str) -> bool:
        ref_owner, ref_task = reference.split("|", 1)
        owner, task = candidate.split("|", 1)
        return ref_owner.lower() == owner.lower() and matches(ref_task, task)

    return score([f"{e['owner']}|{e['task']}" for e in expected], [f"{i.owner}|{i.task}" for i in found], same)


def script_as_transcript(lines_file: Path, target: Path) -> Path:
    """A scripted meeting's timed lines (`NAME.lines.json`) as a transcript file: what a perfect ASR gives."""
    from llmkit.asr import short_clock

    lines = json.loads(lines_file.read_text())
    target.write_text("".join(f"[{short_clock(line['start'])}] {line['text']}\n" for line in lines))
    return target

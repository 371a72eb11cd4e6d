"""Text measures shared by generation and the quality report: near-duplicates and distinct-n."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(text: str, size: int = 3) -> set[tuple[str, ...]]:
    """Word n-grams (the whole text as one shingle when it is shorter than `size` words)."""
    tokens = words(text)
    if len(tokens) < size:
        return {tuple(tokens)}
    return {tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


class NearDuplicateIndex:
    """Texts seen so far; `add` refuses one whose word-3-gram Jaccard similarity to a kept text reaches
    `threshold` (1.0: exact duplicates after lower-casing and dropping punctuation only).

    Candidates are found through shared shingles, so each check looks at the few texts that overlap,
    not at all of them.
    """

    def __init__(self, threshold: float = 0.8):
        self.threshold = threshold
        self._kept: list[set[tuple[str, ...]]] = []
        self._by_shingle: dict[tuple[str, ...], list[int]] = defaultdict(list)

    def duplicate_of(self, text: str) -> int | None:
        """Index of a kept text this one nearly duplicates, else None."""
        mine = shingles(text)
        overlap: dict[int, int] = defaultdict(int)
        for shingle in mine:
            for index in self._by_shingle.get(shingle, ()):
                overlap[index] += 1
        for index, shared in overlap.items():
            union = len(mine) + len(self._kept[index]) - shared
            if union and shared / union >= self.threshold:
                return index
        return None

    def add(self, text: str) -> bool:
        """Keep `text` unless it nearly duplicates a kept one; True when kept."""
        if self.duplicate_of(text) is not None:
            return False
        mine = shingles(text)
        for shingle in mine:
            self._by_shingle[shingle].append(len(self._kept))
        self._kept.append(mine)
        return True


def distinct_n(texts: Iterable[str], n: int) -> float:
    """Distinct word n-grams / all word n-grams over the texts (Li et al. 2016); 0 with no n-grams."""
    total, seen = 0, set()
    for text in texts:
        tokens = words(text)
        grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0

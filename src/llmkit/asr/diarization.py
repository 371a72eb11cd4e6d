"""Who speaks when: speaker diarization behind a small registry, offline.

- `resemblyzer` (default): the GE2E speaker encoder whose weights ship in Resemblyzer's wheel (no account, no
  download). Whisper's word timestamps cut each segment where the speaker pauses; every piece gets a voice
  print (encoder embeddings over 1.6 s sliding windows, averaged) plus pitch and timbre (median F0, mean
  MFCC), and the pieces are clustered (average linkage) with the number of speakers given or found from
  the audio (groups further apart than one voice ever is from itself: no invented speakers), then
  resegmented by a Gaussian mixture per speaker on the pieces' frame spectra. Anchors (e.g. the transcript's
  self-introductions) say which moments are different people: alike voices stay apart.
- `pyannote`: pyannote.audio's pipeline for users who have its weights (`LLMKIT_PYANNOTE_PIPELINE`: a local
  folder or hub id), behind the same interface.

Both give turns (start, end, SPEAKER_n); `assign_speakers` then puts a speaker on every segment, splitting a
segment whose words belong to two speakers. Audio is read window by window: memory stays flat.

Why more than the encoder: on espeak-ng voices Resemblyzer's embeddings are close across voices (issue 16's
measurement: cosine up to 0.95 between two voices, down to 0.82 within one), while pitch and the spectral
envelope still separate voices that differ the way people do.
"""

from __future__ import annotations

import os
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from llmkit.asr.audio import AudioWindow, read_windows
from llmkit.asr.types import Segment, Speaker, Word
from llmkit.asr.voiceprint import cluster, voiceprints
from llmkit.errors import ConfigError, LlmkitError, MissingExtraError

SPLIT_GAP_S = 0.3  # a pause this long inside a segment may be a change of speaker: cut there
# Longer stretches are cut at word boundaries too: Whisper's word times inside a long segment can hide the
# pause where another person took over (tiny.en ran three speakers into one 22 s segment).
MAX_PIECE_S = 3.0
MAX_SPEAKERS = 8


@dataclass(frozen=True)
class SpeakerTurn:
    start: float
    end: float
    speaker: str  # SPEAKER_n


@dataclass(frozen=True)
class VoiceAnchor:
    """A moment known to be spoken by one person (e.g. where they said their name); anchors with different
    keys are different people, whatever their voices sound like."""

    start: float
    end: float
    key: str


@dataclass
class DiarizationOptions:
    speakers: int | None = None  # how many people speak, if known
    window_s: float = 600.0  # audio read this much at a time (as the transcriber does, so pieces stay whole)
    max_speakers: int = MAX_SPEAKERS
    anchors: tuple[VoiceAnchor, ...] = ()  # e.g. the self-introductions found in the transcript


class DiarizationError(LlmkitError):
    """The diarizer could not run on this audio."""


class Diarizer(ABC):
    name: ClassVar[str] = ""

    @abstractmethod
    def turns(
        self, path: Path, segments: list[Segment], options: DiarizationOptions, audio: list[AudioWindow] | None = None
    ) -> list[SpeakerTurn]:
        """Speaker turns over the recording at `path`, whose transcript segments (with word times) are given;
        `audio`: its decoded windows when the caller still holds them (else the file is read again)."""


_DIARIZERS: dict[str, type[Diarizer]] = {}


def register_diarizer(cls: type[Diarizer]) -> type[Diarizer]:
    _DIARIZERS[cls.name] = cls
    return cls


def diarizer_names() -> list[str]:
    return sorted(_DIARIZERS)


def create_diarizer(name: str = "resemblyzer") -> Diarizer:
    if name not in _DIARIZERS:
        raise ConfigError(f"unknown diarizer {name!r}; known: {', '.join(diarizer_names())}")
    return _DIARIZERS[name]()


def diarize(
    path: Path,
    segments: list[Segment],
    options: DiarizationOptions,
    diarizer: Diarizer | None = None,
    audio: list[AudioWindow] | None = None,
) -> tuple[list[Segment], list[Speaker]]:
    """Segments with a speaker each (split where the speaker changes) and the speakers with their talk time;
    `audio`: the recording's decoded windows if the caller has them (decoding again costs time)."""
    diarizer = diarizer or create_diarizer()
    labelled = assign_speakers(segments, diarizer.turns(Path(path), segments, options, audio))
    return labelled, talk_times(labelled)


# -- pieces: segments cut at pauses between words ----------------------------------------------------------


def pieces(segments: list[Segment]) -> list[tuple[float, float]]:
    """(start, end) of each stretch of speech between pauses of SPLIT_GAP_S or more, from word times, cut
    again at word boundaries to at most about MAX_PIECE_S (a segment without words is one piece)."""
    found = []
    for segment in segments:
        words = [w for w in segment.words if w.end > w.start] or [Word(segment.start, segment.end, segment.text)]
        run = [words[0]]
        for word in words[1:]:
            if word.start - run[-1].end >= SPLIT_GAP_S:
                found += _capped(run)
                run = []
            run.append(word)
        found += _capped(run)
    return [(s, e) for s, e in found if e > s]


def _capped(words: list[Word]) -> list[tuple[float, float]]:
    """One run of words as stretches of at most about MAX_PIECE_S, cut where the words are furthest apart."""
    if words[-1].end - words[0].start <= MAX_PIECE_S or len(words) < 2:
        return [(words[0].start, words[-1].end)]
    middle = (words[0].start + words[-1].end) / 2
    candidates = range(1, len(words))
    cut = max(candidates, key=lambda i: (words[i].start - words[i - 1].end, -abs(words[i].start - middle)))
    if words[cut].start - words[cut - 1].end <= 0.05:  # no real gap: cut near the middle instead
        cut = min(candidates, key=lambda i: abs(words[i].start - middle))
    return _capped(words[:cut]) + _capped(words[cut:])


def anchored_pieces(spans: list[tuple[float, float]], anchors: tuple[VoiceAnchor, ...]) -> dict[int, str]:
    """Piece index -> anchor key, for the piece each anchor overlaps most (or, for an anchor of no length,
    the piece around it); a piece claimed by two different keys (two introductions run together) is left
    free."""
    found: dict[int, set[str]] = {}
    for anchor in anchors:
        overlaps = [min(e, anchor.end) - max(s, anchor.start) for s, e in spans]
        best = max(range(len(spans)), key=overlaps.__getitem__, default=None)
        if best is None or overlaps[best] <= 0:
            middle = (anchor.start + anchor.end) / 2
            best = next((i for i, (s, e) in enumerate(spans) if s <= middle <= e), None)
        if best is not None:
            found.setdefault(best, set()).add(anchor.key)
    return {i: keys.pop() for i, keys in found.items() if len(keys) == 1}


def assign_speakers(segments: list[Segment], turns: list[SpeakerTurn]) -> list[Segment]:
    """Each word gets the speaker of the turn it overlaps most (the nearest turn if none); a segment whose
    words change speaker becomes one segment per run of words."""
    if not turns:
        return [Segment(s.start, s.end, s.text, s.words, "SPEAKER_1") for s in segments]
    out: list[Segment] = []
    for segment in segments:
        words = segment.words
        if not words:
            out.append(
                Segment(segment.start, segment.end, segment.text, (), _speaker_at(turns, segment.start, segment.end))
            )
            continue
        runs: list[tuple[str, list[Word]]] = []
        for word in words:
            speaker = _speaker_at(turns, word.start, word.end)
            if runs and runs[-1][0] == speaker:
                runs[-1][1].append(word)
            else:
                runs.append((speaker, [word]))
        runs = _absorb_single_words(runs)
        for speaker, run in runs:
            start = segment.start if run is runs[0][1] else run[0].start
            end = segment.end if run is runs[-1][1] else run[-1].end
            text = "".join(w.text for w in run).strip() if len(runs) > 1 else segment.text
            out.append(Segment(start, end, text, tuple(run), speaker))
    return out


def _absorb_single_words(runs: list[tuple[str, list]]) -> list[tuple[str, list]]:
    """A lone word between two runs of one speaker is a timing wobble, not a turn: it joins them."""
    merged: list[tuple[str, list]] = []
    for speaker, run in runs:
        if merged and (merged[-1][0] == speaker or (len(run) == 1 and run is not runs[-1][1])):
            merged[-1][1].extend(run)
        else:
            merged.append((speaker, list(run)))
    return merged


def _speaker_at(turns: list[SpeakerTurn], start: float, end: float) -> str:
    best, overlap_best = None, 0.0
    for turn in turns:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > overlap_best:
            best, overlap_best = turn, overlap
    if best is None:
        middle = (start + end) / 2
        best = min(turns, key=lambda t: min(abs(t.start - middle), abs(t.end - middle)))
    return best.speaker


def talk_times(segments: list[Segment]) -> list[Speaker]:
    seconds: dict[str, float] = {}
    for segment in segments:
        if segment.speaker:
            seconds[segment.speaker] = seconds.get(segment.speaker, 0.0) + max(segment.end - segment.start, 0.0)
    return [Speaker(label, talk_s=round(total, 2)) for label, total in seconds.items()]


# -- the default diarizer -----------------------------------------------------------------------------------


def _encoder(device: str = "cpu") -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pkg_resources' deprecation notice, via webrtcvad
            from resemblyzer import VoiceEncoder
    except ImportError as exc:  # not installed, or webrtcvad without pkg_resources (setuptools >= 81)
        raise MissingExtraError("resemblyzer", "speakers", f"speaker diarization ({exc})") from exc
    return VoiceEncoder(device, verbose=False)


@register_diarizer
class ResemblyzerDiarizer(Diarizer):
    name = "resemblyzer"

    def __init__(self) -> None:
        self._model: Any = None

    @property
    def encoder(self) -> Any:
        if self._model is None:
            self._model = _encoder()
        return self._model

    def turns(
        self, path: Path, segments: list[Segment], options: DiarizationOptions, audio: list[AudioWindow] | None = None
    ) -> list[SpeakerTurn]:
        spans = pieces(segments)
        if not spans:
            return []
        prints = voiceprints(audio if audio is not None else read_windows(path, options.window_s), spans, self.encoder)
        anchored = anchored_pieces(spans, options.anchors)
        durations = [e - s for s, e in spans]
        labels = cluster(prints, durations, options.speakers, options.max_speakers, anchored)
        return [SpeakerTurn(s, e, label) for (s, e), label in zip(spans, labels, strict=True)]


@register_diarizer
class PyannoteDiarizer(Diarizer):
    """pyannote.audio's pipeline, for users who have its weights: LLMKIT_PYANNOTE_PIPELINE names a local
    pipeline folder or config (or a hub id, with HF_TOKEN for the gated ones)."""

    name = "pyannote"

    def turns(
        self, path: Path, segments: list[Segment], options: DiarizationOptions, audio: list[AudioWindow] | None = None
    ) -> list[SpeakerTurn]:
        try:
            from pyannote.audio import Pipeline
        except ImportError as exc:
            raise MissingExtraError("pyannote.audio", "speakers", "diarization with pyannote") from exc
        source = os.environ.get("LLMKIT_PYANNOTE_PIPELINE", "")
        if not source:
            raise ConfigError(
                "the pyannote diarizer needs its pipeline: set LLMKIT_PYANNOTE_PIPELINE to a local folder or hub id"
            )
        pipeline = Pipeline.from_pretrained(source)
        kwargs = {"num_speakers": options.speakers} if options.speakers else {"max_speakers": options.max_speakers}
        annotation = pipeline(str(path), **kwargs)
        names: dict[str, str] = {}
        turns = []
        for turn, _, label in annotation.itertracks(yield_label=True):
            names.setdefault(label, f"SPEAKER_{len(names) + 1}")
            turns.append(SpeakerTurn(float(turn.start), float(turn.end), names[label]))
        return turns


# -- evaluation ------------------------------------------------------------------------------------------


def diarization_error_rate(
    reference: list[SpeakerTurn], hypothesis: list[SpeakerTurn], collar: float = 0.25, step: float = 0.01
) -> float:
    """(missed speech + false alarm + speaker confusion) / reference speech, on 10 ms frames, after the
    best one-to-one mapping of hypothesis to reference speakers; `collar` seconds around each reference
    boundary are not scored (the usual 0.25 s: boundaries are uncertain by a word's edge)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    if not reference:
        return 0.0
    end = max(t.end for t in reference + hypothesis)
    frames = int(np.ceil(end / step)) + 1
    ref_names = sorted({t.speaker for t in reference})
    hyp_names = sorted({t.speaker for t in hypothesis})
    ref = _frame_labels(reference, ref_names, frames, step)
    hyp = _frame_labels(hypothesis, hyp_names, frames, step)
    scored = np.ones(frames, dtype=bool)
    for turn in reference:
        for edge in (turn.start, turn.end):
            scored[max(int((edge - collar) / step), 0) : int((edge + collar) / step) + 1] = False
    ref, hyp = ref[scored], hyp[scored]
    overlap = np.zeros((len(ref_names), max(len(hyp_names), 1)))
    for r in range(len(ref_names)):
        for h in range(len(hyp_names)):
            overlap[r, h] = np.sum((ref == r) & (hyp == h))
    rows, cols = linear_sum_assignment(-overlap)
    mapping = {int(c): int(r) for r, c in zip(rows, cols, strict=True)}
    mapped = np.array([mapping.get(int(h), -2) if h >= 0 else -1 for h in hyp])
    speech = ref >= 0
    missed = np.sum(speech & (hyp < 0))
    false_alarm = np.sum(~speech & (hyp >= 0))
    confusion = np.sum(speech & (hyp >= 0) & (mapped != ref))
    return float((missed + false_alarm + confusion) / max(np.sum(speech), 1))


def _frame_labels(turns: list[SpeakerTurn], names: list[str], frames: int, step: float):
    import numpy as np

    labels = np.full(frames, -1, dtype=int)
    for turn in turns:
        labels[int(turn.start / step) : int(turn.end / step)] = names.index(turn.speaker)
    return labels


def turns_of(segments: list[Segment]) -> list[SpeakerTurn]:
    """A diarized transcript's segments as speaker turns (for scoring)."""
    return [SpeakerTurn(s.start, s.end, s.speaker) for s in segments if s.speaker and s.end > s.start]

"""Voice prints of stretches of speech, and clustering them into speakers (numpy, scipy; the encoder is
Resemblyzer's). A print combines three kinds of evidence because each alone confuses voices:

- the speaker encoder's embedding (GE2E, 256 numbers), averaged over half-overlapping 1.6 s windows;
- pitch: the median F0 of the voiced frames (autocorrelation), on a log scale;
- timbre: the mean MFCC (the spectral envelope: vocal tract, microphone, EQ).

The distance between two prints adds the three, each divided by a fixed scale (a typical gap between
different people), so one speaker's noise is not stretched into several speakers.

After clustering, the pieces are resegmented: each speaker's frames (MFCC 1..19 of every loud 10 ms frame,
kept with the print) train a small Gaussian mixture, and each piece goes to the speaker whose mixture
explains its frames best. A mixture sees the whole spread of a voice's spectra where the print keeps only
their mean: with the true speakers as training data, it put a held-out piece with its own speaker 94 % of
the time in `speakers-five`, against 89 % for the nearest print centre.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from llmkit.asr.audio import SAMPLE_RATE

_N_FFT, _HOP, _N_MELS = 400, 160, 40  # the encoder's mel settings (25 ms windows, 10 ms steps)
_WINDOW, _STEP = 160, 80  # encoder windows: 1.6 s, half-overlapping
_BATCH = 64
# Scales: about the largest gap between two lines of one voice, for each kind of evidence (measured on the
# scripted dev meetings' reference lines: encoder cosine distance 0.13-0.28, |log F0 ratio| 0.07-0.12,
# MFCC distance per coefficient 1.8-3.3), so that one speaker's pieces stay within about 1 of each other.
EMBEDDING_SCALE = 0.15
PITCH_SCALE = 0.08
TIMBRE_SCALE = 2.0
# Clustering in two steps. Pieces first (average linkage, cut at DISTANCE_THRESHOLD): short pieces are noisy,
# so one voice may come out as several groups. Then groups whose duration-weighted centres are closer than
# MERGE_THRESHOLD are one speaker (a centre averages the noise away). Chosen on the dev meetings' pieces
# (scripted meetings, not the held-out ones): fewest voices split in two for the most voices told apart.
DISTANCE_THRESHOLD = 1.0
MERGE_THRESHOLD = 1.2
MIN_CLUSTER_S = 1.5
MIN_SPEAKER_S = 4.0  # a group with less speech than this, no introduction and a group near it ...
DISSOLVE_DISTANCE = 2.0  # ... closer than this is that group's outlier, not a speaker of its own
# Introductions (anchors): a group holding two people's introductions is split between them, unless the
# parts' centres come out closer than this (then the voices do not back the transcript's names).
SPLIT_MIN_DISTANCE = 0.5
REFINE_ROUNDS = 5
# The pairwise clustering is quadratic in pieces: beyond this many (about 1.5 hours of speech), an even
# sample in time is clustered and the rest join the nearest group, so memory stays flat for long recordings.
MAX_CLUSTERED = 1500
_TARGET_DBFS = -30.0
# Resegmentation: a diagonal Gaussian mixture per speaker on the frames' MFCC 1..19 (the loudest 70 % of a
# piece's frames: silence says nothing of the voice), at most MIXTURE_COMPONENTS components and one per
# FRAMES_PER_COMPONENT frames (a 2 s voice gets 4), RESEGMENT_ROUNDS rounds of training and reassignment.
FRAME_CEPSTRA = 19
LOUD_FRAME_SHARE = 0.7
MIXTURE_COMPONENTS = 8
FRAMES_PER_COMPONENT = 50
MIXTURE_ITERATIONS = 10
VARIANCE_FLOOR = 1e-2
MAX_TRAINING_FRAMES = 20000  # per speaker and round: a 2-hour file trains as fast as a 4-minute voice
SCORING_BATCH = 200  # pieces scored at a time (about 40,000 frames)
RESEGMENT_ROUNDS = 3
MIN_SCORED_FRAMES = 5


@dataclass
class Voiceprint:
    embedding: Any  # (256,) L2-normed; zeros when the stretch had no audio
    pitch: float  # log Hz; nan when nothing was voiced
    timbre: Any  # (12,) mean MFCC 1..12
    frames: Any = None  # (n, FRAME_CEPSTRA) float16 MFCC of the loud frames, for resegmentation; None: none kept


@lru_cache(maxsize=1)
def _mel_basis() -> Any:
    import librosa
    import numpy as np

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=_N_FFT, n_mels=_N_MELS).astype(np.float32)


def mel_frames(wav: Any) -> Any:
    """(frames, 40) power mel spectrogram, as librosa.feature.melspectrogram computes it for the encoder
    (centred frames, zero padding, periodic Hann window) without librosa's JIT start-up cost."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.pad(np.asarray(wav, dtype=np.float32), (_N_FFT // 2, _N_FFT // 2))
    if len(padded) < _N_FFT:
        padded = np.pad(padded, (0, _N_FFT - len(padded)))
    frames = sliding_window_view(padded, _N_FFT)[::_HOP]
    window = np.hanning(_N_FFT + 1)[:-1].astype(np.float32)  # periodic
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power @ _mel_basis().T).astype(np.float32)


def _normalized(wav: Any) -> Any:
    """Loudness to -30 dBFS, as the encoder was trained (quiet and loud takes of one voice match)."""
    import numpy as np

    rms = float(np.sqrt(np.mean(np.square(wav)))) if len(wav) else 0.0
    return wav * (10 ** (_TARGET_DBFS / 20) / rms) if rms > 1e-5 else wav


def pitch(wav: Any) -> float:
    """Median log F0 (60-400 Hz) over voiced 40 ms frames, by autocorrelation; nan if none is voiced."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    size, hop = 640, 320
    if len(wav) < size:
        return float("nan")
    frames = sliding_window_view(wav, size)[::hop]
    energy = np.sqrt(np.mean(np.square(frames), axis=1))
    frames = frames[energy > 0.3 * energy.max()] if energy.max() > 0 else frames[:0]
    if not len(frames):
        return float("nan")
    frames = frames - frames.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(frames, n=2 * size, axis=1)
    corr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :size]
    corr = corr / np.maximum(corr[:, :1], 1e-9)
    low, high = SAMPLE_RATE // 400, SAMPLE_RATE // 60
    lags = np.argmax(corr[:, low:high], axis=1) + low
    strength = corr[np.arange(len(corr)), lags]
    voiced = lags[strength > 0.45]
    return float(np.median(np.log(SAMPLE_RATE / voiced))) if len(voiced) else float("nan")


def spectra(mel: Any) -> tuple[Any, Any]:
    """(timbre, frames) of a stretch: the mean MFCC 1..12 of the louder half of its frames (the spectral
    envelope without silence), and MFCC 1..FRAME_CEPSTRA of the loudest LOUD_FRAME_SHARE of them as float16
    (kept with the print until the recording is diarized: 3.8 kB per second of speech)."""
    import numpy as np
    from scipy.fft import dct

    logmel = np.log(mel + 1e-6)
    cepstra = dct(logmel, type=2, norm="ortho", axis=1)[:, 1 : FRAME_CEPSTRA + 1]
    loudness = logmel.sum(axis=1)
    timbre = cepstra[loudness >= np.median(loudness), :12].mean(axis=0)
    return timbre, cepstra[loudness >= np.quantile(loudness, 1.0 - LOUD_FRAME_SHARE)].astype(np.float16)


def _encoder_windows(mel: Any) -> Any:
    import numpy as np

    if len(mel) <= _WINDOW:  # a short stretch: one window, zero-padded (as the encoder does for its last one)
        return np.pad(mel, ((0, _WINDOW - len(mel)), (0, 0)))[None]
    starts = range(0, len(mel) - _WINDOW + 1, _STEP)
    return np.stack([mel[s : s + _WINDOW] for s in starts])


def _embed(encoder: Any, batches: list[Any]) -> list[Any]:
    """One L2-normed mean embedding per stretch; the windows of many stretches go through the encoder together."""
    import numpy as np
    import torch

    sizes = [len(b) for b in batches]
    stacked = np.concatenate(batches)
    outputs = []
    with torch.no_grad():
        for start in range(0, len(stacked), _BATCH):
            outputs.append(encoder(torch.from_numpy(stacked[start : start + _BATCH])).cpu().numpy())
    embeddings = np.concatenate(outputs)
    result, at = [], 0
    for size in sizes:
        mean = embeddings[at : at + size].mean(axis=0)
        result.append(mean / max(float(np.linalg.norm(mean)), 1e-9))
        at += size
    return result


def voiceprints(windows: Iterable[Any], spans: list[tuple[float, float]], encoder: Any) -> list[Voiceprint]:
    """A print for each (start, end) span (in time order), reading the audio one window at a time."""
    import numpy as np

    prints: list[Voiceprint | None] = [None] * len(spans)
    index = 0
    for window in windows:
        samples = window.samples
        window_end = window.start + len(samples) / SAMPLE_RATE
        pending: list[tuple[int, Any, Any]] = []
        while index < len(spans) and spans[index][0] < window_end:
            start, end = spans[index]
            wav = samples[int(max(start - window.start, 0) * SAMPLE_RATE) : int((end - window.start) * SAMPLE_RATE)]
            if len(wav) >= _HOP:
                wav = _normalized(wav)
                mel = mel_frames(wav)
                pending.append((index, wav, mel))
            index += 1
        if pending:
            embeddings = _embed(encoder, [_encoder_windows(mel) for _, _, mel in pending])
            for (i, wav, mel), embedding in zip(pending, embeddings, strict=True):
                prints[i] = Voiceprint(embedding, pitch(wav), *spectra(mel))
    empty = Voiceprint(np.zeros(256, dtype=np.float32), float("nan"), np.zeros(12, dtype=np.float32))
    return [p if p is not None else empty for p in prints]


def distances(prints: list[Voiceprint], others: list[Voiceprint] | None = None) -> Any:
    """Distance between prints (each pair, or each print to each of `others`): encoder + pitch + timbre, each
    over its scale; a missing pitch adds nothing. Memory is len(prints) x len(others) floats, a few times."""
    import numpy as np

    square = others is None
    others = prints if others is None else others
    emb_a, emb_b = (np.stack([p.embedding for p in group]) for group in (prints, others))
    pitch_a, pitch_b = (np.array([p.pitch for p in group]) for group in (prints, others))
    tim_a, tim_b = (np.stack([p.timbre for p in group]).astype(np.float64) for group in (prints, others))
    total = np.clip(1.0 - emb_a @ emb_b.T, 0.0, 2.0) / EMBEDDING_SCALE
    total += np.nan_to_num(np.abs(pitch_a[:, None] - pitch_b[None, :]), nan=0.0) / PITCH_SCALE
    # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b: no (n, n, 12) array for a long recording's thousands of pieces
    squared = (tim_a**2).sum(1)[:, None] + (tim_b**2).sum(1)[None, :] - 2.0 * tim_a @ tim_b.T
    total += np.sqrt(np.maximum(squared, 0.0)) / np.sqrt(tim_a.shape[1]) / TIMBRE_SCALE
    total /= 3.0
    if square:
        np.fill_diagonal(total, 0.0)
        total = (total + total.T) / 2
    return total


def _average_tree(prints: list[Voiceprint]) -> Any:
    """The average-linkage tree of the prints (scipy's linkage matrix), for fcluster to cut."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    return linkage(squareform(distances(prints), checks=False), "average")


def _first_groups(prints: list[Voiceprint], speakers: int | None) -> list[int]:
    """Average-linkage groups of the pieces, cut at DISTANCE_THRESHOLD (and into at least `speakers` when a
    count was given)."""
    from scipy.cluster.hierarchy import fcluster

    if len(prints) < 2:
        return [1] * len(prints)
    tree = _average_tree(prints)
    groups = fcluster(tree, DISTANCE_THRESHOLD, "distance")
    if speakers and len(set(groups)) < speakers:
        groups = fcluster(tree, speakers, "maxclust")
    return [int(g) for g in groups]


def centre(prints: list[Voiceprint], weights: list[float]) -> Voiceprint:
    """The duration-weighted centre of a group of prints."""
    import numpy as np

    w = np.asarray(weights, dtype=np.float64)
    embedding = np.average(np.stack([p.embedding for p in prints]), axis=0, weights=w)
    embedding = embedding / max(float(np.linalg.norm(embedding)), 1e-9)
    pitches = np.array([p.pitch for p in prints])
    voiced = ~np.isnan(pitches)
    pitch_c = float(np.average(pitches[voiced], weights=w[voiced])) if voiced.any() else float("nan")
    timbre_c = np.average(np.stack([p.timbre for p in prints]), axis=0, weights=w)
    return Voiceprint(embedding, pitch_c, timbre_c)


class _Groups:
    """Groups of piece indices, with the anchor keys (people known to differ) each group holds."""

    def __init__(self, members: dict[int, list[int]], prints: list[Voiceprint], durations: list[float], anchors):
        self.members, self.prints, self.durations, self.anchors = members, prints, durations, anchors

    def keys(self, group: int) -> set[str]:
        return {self.anchors[i] for i in self.members[group] if i in self.anchors}

    def centre(self, group: int) -> Voiceprint:
        return self._centres([self.members[group]])[0]

    def _centres(self, groups) -> list[Voiceprint]:
        return [centre([self.prints[i] for i in idx], [self.durations[i] for i in idx]) for idx in groups]

    def split_by_anchors(self) -> None:
        """A group holding the introductions of two people is two (or more) people: its pieces go to the
        nearest of the introductions' voices, refined a few times. When the parts come out closer than
        SPLIT_MIN_DISTANCE the voices do not support the introductions (an ASR slip naming a second person):
        the group stays whole and its anchors stop constraining it."""
        import numpy as np

        for group in [g for g in self.members if len(self.keys(g)) > 1]:
            idx = self.members[group]
            keys = sorted(self.keys(group))
            anchored = {k: [i for i in idx if self.anchors.get(i) == k] for k in keys}
            free = [i for i in idx if i not in self.anchors]
            parts = anchored
            for _ in range(REFINE_ROUNDS if free else 0):
                nearest = np.argmin(distances([self.prints[i] for i in free], self._centres(parts.values())), axis=1)
                parts = {
                    k: anchored[k] + [i for i, n in zip(free, nearest, strict=True) if n == j]
                    for j, k in enumerate(keys)
                }
            matrix = distances(self._centres(parts.values()))
            np.fill_diagonal(matrix, np.inf)
            if matrix.min() < SPLIT_MIN_DISTANCE:
                for i in idx:
                    self.anchors.pop(i, None)
                continue
            self._replace([group], [parts[key] for key in keys])

    def merge(self, floor: int) -> None:
        """Merge the two groups with the closest centres while they are closer than MERGE_THRESHOLD, or while
        there are more than `floor` groups when a count was given (floor 0: no count). Groups holding
        different people's introductions are never merged, unless only they are left above a given count."""
        import numpy as np

        while len(self.members) > max(floor, 1):
            ids = list(self.members)
            apart = distances(self._centres(self.members.values()))
            np.fill_diagonal(apart, np.inf)
            keys = [self.keys(g) for g in ids]
            matrix = apart.copy()
            for a in range(len(ids)):
                for b in range(len(ids)):
                    if keys[a] and keys[b] and keys[a] != keys[b]:
                        matrix[a, b] = np.inf
            a, b = np.unravel_index(int(np.argmin(matrix)), matrix.shape)
            if not np.isfinite(matrix[a, b]):
                if not floor:
                    return
                # a count was given and only introduced people are left apart: the count wins
                a, b = np.unravel_index(int(np.argmin(apart)), apart.shape)
            elif not floor and matrix[a, b] >= MERGE_THRESHOLD:
                return
            self.members[ids[a]] += self.members.pop(ids[b])

    def dissolve_small(self) -> None:
        """A lone piece (under MIN_SPEAKER_S, no introduction) just beyond the merge distance of a group is
        that voice's outlier (a laugh, a raised voice), not a person of its own: it leaves the groups and joins
        the nearest at the end. A lone piece far from every group stays: a voice heard once."""
        for group in sorted(self.members, key=self.talk):
            if len(self.members) < 2 or self.keys(group) or self.talk(group) >= MIN_SPEAKER_S:
                continue
            others = [g for g in self.members if g != group]
            nearest = min(distances([self.centre(group)], [self.centre(g) for g in others])[0])
            if nearest < DISSOLVE_DISTANCE:
                del self.members[group]

    def trade_small_for_split(self) -> None:
        """With a count given, merging down to it can leave a voice's outlier counted as a person (a lone group
        under MIN_SPEAKER_S, no introduction, within DISSOLVE_DISTANCE of a group: what `dissolve_small` takes
        for an outlier when no count is given) while two voices share a group. The outlier then gives its place
        to the best two-way split of another group (average linkage within it, both parts at least
        MIN_SPEAKER_S) when that split explains more. Both sides are weighed by Ward's criterion, the
        duration-weighted spread a change removes (w1 w2 / (w1 + w2) x the distance of the two centres), so a
        1.5 s outlier does not outweigh a voice with 5 s of speech. A short voice far from every group is a
        person heard briefly and keeps its place."""
        from scipy.cluster.hierarchy import fcluster

        def ward(a: float, b: float, distance: float) -> float:
            return a * b / max(a + b, 1e-9) * distance

        for _ in range(len(self.members)):
            small = [g for g in self.members if not self.keys(g) and self.talk(g) < MIN_SPEAKER_S]
            if not small or len(self.members) < 2:
                return
            lone = min(small, key=self.talk)
            others = [g for g in self.members if g != lone]
            apart = distances([self.centre(lone)], [self.centre(g) for g in others])[0]
            if float(min(apart)) >= DISSOLVE_DISTANCE:
                return
            cost = min(ward(self.talk(lone), self.talk(g), float(d)) for g, d in zip(others, apart, strict=True))
            best: tuple[float, int, list[list[int]]] | None = None
            for group in others:
                idx = self.members[group]
                if len(idx) < 2 or len(self.keys(group)) > 1:
                    continue
                halves = fcluster(_average_tree([self.prints[i] for i in idx]), 2, "maxclust")
                parts = [[i for i, h in zip(idx, halves, strict=True) if h == k] for k in (1, 2)]
                talks = [sum(self.durations[i] for i in part) for part in parts]
                if min(talks) < MIN_SPEAKER_S:
                    continue
                gain = ward(*talks, float(distances(self._centres(parts))[0, 1]))
                if best is None or gain > best[0]:
                    best = (gain, group, parts)
            if best is None or best[0] <= cost:
                return
            self._replace([lone, best[1]], best[2])

    def _replace(self, groups: list[int], parts: list[list[int]]) -> None:
        """The `groups` are gone; `parts` are new groups, under ids above every id left."""
        for group in groups:
            del self.members[group]
        next_id = max(self.members, default=0) + 1
        for offset, part in enumerate(parts):
            self.members[next_id + offset] = part

    def talk(self, group: int) -> float:
        return sum(self.durations[i] for i in self.members[group])

    def refine(self) -> None:
        """Average linkage never moves a piece once merged; a few rounds of nearest-centre reassignment
        (anchored pieces stay with their person) correct pieces that joined a group early by chance."""
        pieces = sorted(i for idx in self.members.values() for i in idx)
        for _ in range(REFINE_ROUNDS):
            if len(self.members) < 2:
                return
            moved = self.assign(pieces)
            if moved == self.members:
                return
            self.members = moved

    def assign(self, pieces: list[int], keep_members: bool = False) -> dict[int, list[int]]:
        """Each piece to the group with the nearest centre, or to the group of its introduction (or, with
        `keep_members`, to the group it is already in)."""
        import numpy as np

        ids = list(self.members)
        fixed = {i: g for g in ids for i in self.members[g] if keep_members or i in self.anchors}
        nearest = np.argmin(distances([self.prints[i] for i in pieces], self._centres(self.members.values())), axis=1)
        result: dict[int, list[int]] = {g: [] for g in ids}
        for i, n in zip(pieces, nearest, strict=True):
            result[fixed.get(i, ids[int(n)])].append(i)
        return {g: sorted(idx) for g, idx in result.items() if idx}


def cluster(
    prints: list[Voiceprint],
    durations: list[float],
    speakers: int | None = None,
    max_speakers: int = 8,
    anchors: dict[int, str] | None = None,
) -> list[str]:
    """SPEAKER_n for each print (numbered in order of first appearance).

    Stretches long enough for a voice print are clustered (at most MAX_CLUSTERED of them, evenly spread in
    time, so that memory does not grow with the recording); the others join the nearest group. `anchors`
    maps a print to a person's key (e.g. the stretch where someone said their name): different keys are
    different people, so two alike voices that introduced themselves are kept apart."""
    if not prints:
        return []
    anchors = dict(anchors or {})
    long = sorted({i for i, d in enumerate(durations) if d >= MIN_CLUSTER_S} | set(anchors))
    if len(long) < 2:
        long = sorted(range(len(prints)), key=lambda i: -durations[i])[:2]
    if len(long) > MAX_CLUSTERED:
        spread = set(long[:: -(-len(long) // MAX_CLUSTERED)])
        long = sorted(spread | set(anchors))
    groups = _first_groups([prints[i] for i in long], speakers)
    members = {g: [long[j] for j in range(len(long)) if groups[j] == g] for g in set(groups)}
    state = _Groups(members, prints, durations, anchors)
    state.split_by_anchors()
    if speakers:
        state.merge(min(speakers, len(long)))
    else:
        state.merge(0)
        while len(state.members) > max_speakers:
            before = len(state.members)
            state.merge(max_speakers)
            if len(state.members) == before:  # only introduced people left apart: they stay
                break
    if speakers:
        state.trade_small_for_split()
    if not speakers:  # with a count given, the groups stay as counted (an outlier traded for a split above)
        state.dissolve_small()
        state.refine()
    everyone = list(range(len(prints)))
    label_of = {i: g for g, idx in state.assign(everyone, keep_members=bool(speakers)).items() for i in idx}
    groups = resegment(prints, [int(label_of[i]) for i in everyone], fixed=set(anchors))
    names: dict[int, str] = {}
    for group in groups:
        names.setdefault(group, f"SPEAKER_{len(names) + 1}")
    return [names[group] for group in groups]


def resegment(prints: list[Voiceprint], groups: list[int], fixed: set[int]) -> list[int]:
    """Each piece's group after resegmentation: a mixture per group is trained on its pieces' frames, every
    piece not `fixed` (an introduction stays with its person) moves to the group whose mixture scores its
    frames highest, and again, RESEGMENT_ROUNDS times or until nothing moves. A round that would empty a group
    is not taken: the clustering found that voice (or the user gave the count), so it keeps its place."""
    import numpy as np

    scored = [i for i, p in enumerate(prints) if _scored(p)]
    for _ in range(RESEGMENT_ROUNDS):
        ids = sorted({groups[i] for i in scored})
        if len(ids) < 2:
            break
        mixtures = [_Mixture.fit(_training_frames([prints[i] for i in scored if groups[i] == g])) for g in ids]
        moved = list(groups)
        for i, fit in zip(scored, _mean_log_likelihoods([prints[i] for i in scored], mixtures), strict=True):
            if i not in fixed:
                moved[i] = ids[int(np.argmax(fit))]
        if moved == groups or set(moved) != set(groups):
            break
        groups = moved
    return groups


def _training_frames(prints: list[Voiceprint]) -> Any:
    """A group's frames as float32, evenly thinned to MAX_TRAINING_FRAMES (a long voice costs no more)."""
    import numpy as np

    total = sum(len(p.frames) for p in prints)
    keep = np.linspace(0, total - 1, min(total, MAX_TRAINING_FRAMES)).astype(int)
    return np.concatenate([p.frames for p in prints])[keep].astype(np.float32)


def _mean_log_likelihoods(prints: list[Voiceprint], mixtures: list[_Mixture]) -> Any:
    """(pieces, mixtures): the mean log-likelihood per frame of each piece's frames under each mixture, a
    batch of pieces at a time (a 2-hour file's frames are never all in float32 at once)."""
    import numpy as np

    result = np.empty((len(prints), len(mixtures)))
    for low in range(0, len(prints), SCORING_BATCH):
        batch = prints[low : low + SCORING_BATCH]
        frames = np.concatenate([p.frames for p in batch]).astype(np.float32)
        lengths = np.array([len(p.frames) for p in batch])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        for j, mixture in enumerate(mixtures):
            result[low : low + len(batch), j] = np.add.reduceat(mixture.log_likelihood(frames), starts) / lengths
    return result


def _scored(print_: Voiceprint) -> bool:
    return print_.frames is not None and len(print_.frames) >= MIN_SCORED_FRAMES


@dataclass
class _Mixture:
    """A Gaussian mixture with diagonal covariances, fitted by EM from frames chosen by a fixed seed (the
    same recording gives the same speakers)."""

    log_weights: Any  # (k,)
    means: Any  # (k, d)
    variances: Any  # (k, d)

    @classmethod
    def fit(cls, frames: Any) -> _Mixture:
        import numpy as np

        k = max(1, min(MIXTURE_COMPONENTS, len(frames) // FRAMES_PER_COMPONENT))
        start = np.random.default_rng(0).choice(len(frames), k, replace=False)
        mixture = cls(
            np.full(k, -np.log(k)), frames[start].copy(), np.tile(frames.var(axis=0) + VARIANCE_FLOOR, (k, 1))
        )
        for _ in range(MIXTURE_ITERATIONS):
            joint = mixture._log_joint(frames)
            resp = np.exp(joint - _log_sum_exp(joint)[:, None])
            counts = resp.sum(axis=0) + 1e-9
            means = resp.T @ frames / counts[:, None]
            spread = resp.T @ np.square(frames) / counts[:, None] - np.square(means)
            mixture = cls(np.log(counts / counts.sum()), means, np.maximum(spread, 0.0) + VARIANCE_FLOOR)
        return mixture

    def _log_joint(self, frames: Any) -> Any:
        """(n, k): log weight + log density of each frame under each component."""
        import numpy as np

        precision = 1.0 / self.variances
        squared = np.square(frames) @ precision.T - 2.0 * frames @ (self.means * precision).T
        squared += np.sum(np.square(self.means) * precision, axis=1)
        norm = np.sum(np.log(2.0 * np.pi * self.variances), axis=1)
        return self.log_weights - 0.5 * (squared + norm)

    def log_likelihood(self, frames: Any) -> Any:
        """(n,): each frame's log-likelihood under the mixture."""
        return _log_sum_exp(self._log_joint(frames))


def _log_sum_exp(values: Any) -> Any:
    """log(sum(exp(row))) of each row, without overflow (scipy's is slow on small arrays)."""
    import numpy as np

    top = values.max(axis=1)
    return top + np.log(np.exp(values - top[:, None]).sum(axis=1))

"""Voice prints of stretches of speech, and clustering them into speakers (numpy, scipy; the encoder is
Resemblyzer's). A print combines three kinds of evidence because each alone confuses voices:

- the speaker encoder's embedding (GE2E, 256 numbers), averaged over half-overlapping 1.6 s windows;
- pitch: the median F0 of the voiced frames (autocorrelation), on a log scale;
- timbre: the mean MFCC (the spectral envelope: vocal tract, microphone, EQ).

The distance between two prints adds the three, each divided by a fixed scale (a typical gap between
different people), so one speaker's noise is not stretched into several speakers.
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
_TARGET_DBFS = -30.0


@dataclass
class Voiceprint:
    embedding: Any  # (256,) L2-normed; zeros when the stretch had no audio
    pitch: float  # log Hz; nan when nothing was voiced
    timbre: Any  # (12,) mean MFCC 1..12


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


def timbre(mel: Any) -> Any:
    """Mean MFCC 1..12 of the louder half of the frames (the spectral envelope, without silence)."""
    import numpy as np
    from scipy.fft import dct

    logmel = np.log(mel + 1e-6)
    loud = logmel[logmel.sum(axis=1) >= np.median(logmel.sum(axis=1))]
    return dct(loud, type=2, norm="ortho", axis=1)[:, 1:13].mean(axis=0)


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
                prints[i] = Voiceprint(embedding, pitch(wav), timbre(mel))
    empty = Voiceprint(np.zeros(256, dtype=np.float32), float("nan"), np.zeros(12, dtype=np.float32))
    return [p if p is not None else empty for p in prints]


def distances(prints: list[Voiceprint]) -> Any:
    """Pairwise distance: encoder + pitch + timbre, each over its scale; a missing pitch adds nothing."""
    import numpy as np

    embeddings = np.stack([p.embedding for p in prints])
    pitches = np.array([p.pitch for p in prints])
    timbres = np.stack([p.timbre for p in prints])
    encoder = np.clip(1.0 - embeddings @ embeddings.T, 0.0, 2.0) / EMBEDDING_SCALE
    pitch_gap = np.nan_to_num(np.abs(pitches[:, None] - pitches[None, :]), nan=0.0) / PITCH_SCALE
    timbre_gap = np.linalg.norm(timbres[:, None] - timbres[None, :], axis=2) / np.sqrt(timbres.shape[1]) / TIMBRE_SCALE
    total = (encoder + pitch_gap + timbre_gap) / 3.0
    np.fill_diagonal(total, 0.0)
    return (total + total.T) / 2


def _first_groups(prints: list[Voiceprint], speakers: int | None) -> list[int]:
    """Average-linkage groups of the pieces, cut at DISTANCE_THRESHOLD (and into at least `speakers`: a
    count given, or a floor)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if len(prints) < 2:
        return [1] * len(prints)
    tree = linkage(squareform(distances(prints), checks=False), "average")
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


def _merged(
    groups: dict[int, list[int]], prints: list[Voiceprint], durations: list[float], floor: int, keep: int = 1
) -> None:
    """Merge the two groups with the closest centres while they are closer than MERGE_THRESHOLD (never below
    `keep` groups), or while there are more than `floor` groups when a count was given (floor 0: no count)."""
    import numpy as np

    while len(groups) > max(floor, keep, 1):
        keys = list(groups)
        centres = [centre([prints[i] for i in groups[k]], [durations[i] for i in groups[k]]) for k in keys]
        matrix = distances(centres)
        np.fill_diagonal(matrix, np.inf)
        a, b = np.unravel_index(int(np.argmin(matrix)), matrix.shape)
        if not floor and matrix[a, b] >= MERGE_THRESHOLD:
            return
        groups[keys[a]] += groups.pop(keys[b])


def cluster(
    prints: list[Voiceprint],
    durations: list[float],
    speakers: int | None = None,
    max_speakers: int = 8,
    at_least: int = 1,
) -> list[str]:
    """SPEAKER_n for each print (numbered in order of first appearance). Stretches long enough for a
    voice print are clustered; shorter ones join the group they are closest to on average."""

    if not prints:
        return []
    long = [i for i, d in enumerate(durations) if d >= MIN_CLUSTER_S]
    if len(long) < 2:
        long = sorted(range(len(prints)), key=lambda i: -durations[i])[:2]
    groups = _first_groups([prints[i] for i in long], speakers or (at_least if at_least > 1 else None))
    members = {g: [long[j] for j in range(len(long)) if groups[j] == g] for g in set(groups)}
    if speakers:
        _merged(members, prints, durations, min(speakers, len(long)))
    else:
        _merged(members, prints, durations, 0, at_least)
        while len(members) > max_speakers:
            _merged(members, prints, durations, max_speakers)
    label_of = {i: g for g, idx in members.items() for i in idx}
    centres = {g: centre([prints[i] for i in idx], [durations[i] for i in idx]) for g, idx in members.items()}
    for i in range(len(prints)):
        if i not in label_of:
            label_of[i] = min(centres, key=lambda g: float(distances([prints[i], centres[g]])[0, 1]))
    names: dict[int, str] = {}
    for i in range(len(prints)):
        names.setdefault(int(label_of[i]), f"SPEAKER_{len(names) + 1}")
    return [names[int(label_of[i])] for i in range(len(prints))]

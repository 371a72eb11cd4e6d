"""Audio in, 16 kHz mono float32 out, a window at a time (PyAV decodes anything ffmpeg reads).

A long recording is never held whole: the decoder's output is cut into windows of `window_s` seconds,
each cut placed at the quietest tenth of a second near the boundary so that words are not split.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from llmkit.errors import InvalidInputError

SAMPLE_RATE = 16000
_SEARCH_S = 5.0  # how far back from a window's end to look for a quiet place to cut
_FRAME = SAMPLE_RATE // 10


class AudioError(InvalidInputError):
    """The file cannot be read as audio: missing, unreadable, not a media file, no audio stream, empty."""


@dataclass(frozen=True)
class AudioWindow:
    start: float  # seconds from the start of the file
    samples: object  # numpy float32 array, mono, 16 kHz


def probe_duration(path: Path) -> float:
    """Seconds of audio, from the container (0.0 if it does not say)."""

    with _open(path) as container:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return float(container.duration / 1_000_000) if container.duration else 0.0


def _open(path: Path):
    import av

    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty")
    try:
        container = av.open(str(path))
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise AudioError(f"{path}: not a readable audio or video file ({exc})") from exc
    if not container.streams.audio:
        container.close()
        raise AudioError(f"{path}: the file has no audio stream (unsupported format?)")
    return container


def read_windows(path: Path, window_s: float = 600.0) -> Iterator[AudioWindow]:
    """Yield the audio in windows of about `window_s` seconds; raise AudioError if none can be decoded."""
    import numpy as np

    window = int(window_s * SAMPLE_RATE)
    pending: list = []
    pending_size, emitted = 0, 0
    for chunk in _decoded_chunks(path):
        pending.append(chunk)
        pending_size += len(chunk)
        if pending_size >= window + int(_SEARCH_S * SAMPLE_RATE):
            buffer = np.concatenate(pending)
            cut = _quiet_cut(buffer, window)
            yield AudioWindow(emitted / SAMPLE_RATE, buffer[:cut])
            emitted += cut
            pending, pending_size = [buffer[cut:]], len(buffer) - cut
    if pending_size:
        yield AudioWindow(emitted / SAMPLE_RATE, np.concatenate(pending))
    elif emitted == 0:
        raise AudioError(f"{path}: no audio could be decoded (empty or damaged stream)")


def write_first_seconds(source: Path, seconds: float, folder: Path) -> Path:
    """The recording's first `seconds` as a 16 kHz mono WAV in `folder` (a quick run on part of a meeting)."""
    import wave

    import numpy as np

    window = next(read_windows(source, window_s=seconds))
    samples = np.clip(np.asarray(window.samples)[: int(seconds * SAMPLE_RATE)], -1.0, 1.0)
    clip = folder / f"{source.stem}-first-{seconds:.0f}s.wav"
    with wave.open(str(clip), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return clip


def _quiet_cut(buffer, window: int) -> int:
    import numpy as np

    start = max(window - int(_SEARCH_S * SAMPLE_RATE), _FRAME)
    region = buffer[start : window + int(_SEARCH_S * SAMPLE_RATE)]
    frames = len(region) // _FRAME
    if frames < 2:
        return window
    energy = np.square(region[: frames * _FRAME].reshape(frames, _FRAME)).mean(axis=1)
    return start + int(np.argmin(energy)) * _FRAME + _FRAME // 2


def _decoded_chunks(path: Path) -> Iterator[object]:
    import av
    import numpy as np

    container = _open(path)
    try:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    except (av.error.FFmpegError, ValueError, OSError) as exc:  # a damaged or truncated stream
        raise AudioError(f"{path}: decoding failed midway, the file may be damaged or cut off ({exc})") from exc
    finally:
        container.close()

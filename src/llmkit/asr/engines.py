"""Speech-to-text engines behind one interface, in a registry (as generation backends are).

- `faster-whisper`: CTranslate2 Whisper in-process. The default model is the embedded tiny.en (int8 on
  CPU); any CTranslate2 Whisper folder or hub id works, fp16 on a GPU. Batched inference with VAD.
- `openai`: any OpenAI-compatible `/v1/audio/transcriptions` server (hosted Whisper, speaches, vLLM ...),
  sent one window at a time.
"""

from __future__ import annotations

import io
import wave
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from llmkit.asr.audio import SAMPLE_RATE
from llmkit.asr.types import Segment, TranscriptionOptions, Word
from llmkit.config import Settings
from llmkit.errors import ConfigError, EndpointError, MissingAssetError, ModelFileError
from llmkit.extras import require
from llmkit.models import WHISPER_TINY_EN

EMBEDDED_ASR_NAMES = {"tiny.en", "whisper-tiny.en", "embedded"}


class AsrEngine(ABC):
    name: str = ""
    model: str = ""

    @abstractmethod
    def transcribe_window(self, samples: Any, options: TranscriptionOptions) -> Iterator[Segment]:
        """Segments of one window of 16 kHz mono audio, timed from the window's start."""


_ENGINES: dict[str, type[AsrEngine]] = {}


def register_asr_engine(cls: type[AsrEngine]) -> type[AsrEngine]:
    _ENGINES[cls.name] = cls
    return cls


def asr_engine_names() -> list[str]:
    return sorted(_ENGINES)


def create_asr_engine(settings: Settings, engine: str | None = None, model: str | None = None) -> AsrEngine:
    name = engine or settings.asr_engine
    if name not in _ENGINES:
        raise ConfigError(f"unknown ASR engine {name!r}; known: {', '.join(asr_engine_names())}")
    return _ENGINES[name](settings, model or settings.asr_model)


@register_asr_engine
class FasterWhisperEngine(AsrEngine):
    name = "faster-whisper"

    def __init__(self, settings: Settings, model: str) -> None:
        faster_whisper = require("faster_whisper", "transcription with faster-whisper")
        self.model = model
        source = self._model_source(model)
        device = _device(settings.device)
        compute_type = "float16" if device == "cuda" else "int8"
        try:
            self._model = faster_whisper.WhisperModel(
                source, device=device, compute_type=compute_type, cpu_threads=settings.threads or 0
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelFileError(
                source,
                "a CTranslate2 Whisper model folder (model.bin, config.json) or hub id",
                f"could not be loaded ({exc})",
            ) from exc
        self._batched = faster_whisper.BatchedInferencePipeline(self._model)

    @staticmethod
    def _model_source(model: str) -> str:
        if model in EMBEDDED_ASR_NAMES:
            path = WHISPER_TINY_EN.path()
            if path is None:
                raise MissingAssetError("the embedded Whisper tiny.en model", WHISPER_TINY_EN.install_line)
            return str(path)
        path = Path(model).expanduser()
        if path.exists() and not (path / "model.bin").is_file():
            raise ModelFileError(
                str(path), "a CTranslate2 Whisper model folder (model.bin, config.json)", "model.bin is missing"
            )
        return str(path) if path.exists() else model

    def transcribe_window(self, samples: Any, options: TranscriptionOptions) -> Iterator[Segment]:
        common = dict(
            language=options.language,
            word_timestamps=options.word_timestamps,
            beam_size=options.beam_size,
            **options.extra,
        )
        if options.vad:
            segments, _info = self._batched.transcribe(
                samples, batch_size=options.batch_size, vad_filter=True, **common
            )
        else:  # the batched pipeline needs VAD to cut its batches; without it, sequential decoding
            segments, _info = self._model.transcribe(samples, vad_filter=False, **common)
        for segment in segments:
            words = tuple(Word(w.start, w.end, w.word, w.probability) for w in (segment.words or ()))
            yield Segment(segment.start, segment.end, segment.text.strip(), words)


@register_asr_engine
class OpenAITranscriptionEngine(AsrEngine):
    name = "openai"

    def __init__(self, settings: Settings, model: str) -> None:
        self.model = "whisper-1" if model in EMBEDDED_ASR_NAMES else model
        self._url = settings.openai_base_url.rstrip("/") + "/audio/transcriptions"
        self._key = settings.openai_api_key
        self._timeout = settings.request_timeout_s

    def transcribe_window(self, samples: Any, options: TranscriptionOptions) -> Iterator[Segment]:
        import httpx

        data = {"model": self.model, "response_format": "verbose_json"}
        if options.language:
            data["language"] = options.language
        if options.word_timestamps:
            data["timestamp_granularities[]"] = ["segment", "word"]
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        files = {"file": ("window.wav", _wav_bytes(samples), "audio/wav")}
        try:
            response = httpx.post(self._url, data=data, files=files, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise EndpointError(self._url, f"request failed: {exc}") from exc
        if response.status_code != 200:
            raise EndpointError(self._url, f"HTTP {response.status_code}: {response.text[:300]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise EndpointError(self._url, "the reply is not JSON") from exc
        yield from _segments_from_reply(body)


def _segments_from_reply(body: dict[str, Any]) -> Iterator[Segment]:
    words = [Word(float(w["start"]), float(w["end"]), str(w["word"])) for w in body.get("words") or []]
    segments = body.get("segments")
    if not segments:  # a plain {"text": ...} reply: one segment for the window
        text = str(body.get("text", "")).strip()
        if text:
            yield Segment(0.0, words[-1].end if words else 0.0, text, tuple(words))
        return
    for item in segments:
        start, end = float(item["start"]), float(item["end"])
        inside = tuple(w for w in words if start <= w.start < end)
        yield Segment(start, end, str(item["text"]).strip(), inside)


def _wav_bytes(samples: Any) -> bytes:
    import numpy as np

    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    return buffer.getvalue()


def _device(device: str) -> str:
    if device.startswith("cuda"):
        return "cuda"
    if device == "auto":
        try:
            import ctranslate2

            return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        except ImportError:
            return "cpu"
    return "cpu"

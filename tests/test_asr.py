"""Speech to text with the real embedded Whisper tiny.en, on scripted meetings rendered with espeak-ng."""

from __future__ import annotations

import io
import json
import struct
import threading
import wave
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pytest
from conftest import free_port

from llmkit.asr import (
    AudioError,
    NoSpeechError,
    Transcriber,
    TranscriptionOptions,
    TranscriptionProgress,
    TranscriptWriter,
    read_transcript,
)
from llmkit.config import load_settings
from llmkit.errors import EndpointError, ModelFileError

MEETINGS = Path(__file__).parents[1] / "benchmarks" / "meetings"
OFFICE = MEETINGS / "office-move.mp3"


def word_error_rate(reference: str, hypothesis: str) -> float:
    from llmkit.minutes.evaluation import word_error_rate as wer

    return wer(reference, hypothesis)


def script_text(name: str) -> str:
    return " ".join(text for _speaker, text in json.loads((MEETINGS / f"{name}.json").read_text())["lines"])


@pytest.fixture(scope="module")
def transcriber():
    return Transcriber()


@pytest.fixture(scope="module")
def office(transcriber):
    events = list(transcriber.stream(OFFICE))
    return events


def test_transcribes_a_meeting_close_to_its_script(office):
    segments = [e for e in office if not isinstance(e, TranscriptionProgress)]
    text = " ".join(s.text for s in segments)
    assert word_error_rate(script_text("office-move"), text) < 0.3
    starts = [s.start for s in segments]
    assert starts == sorted(starts) and segments[-1].end <= 125


def test_progress_goes_to_the_whole_file(office):
    fractions = [e.fraction for e in office if isinstance(e, TranscriptionProgress)]
    assert fractions and fractions[-1] == pytest.approx(1.0) and fractions == sorted(fractions)


def test_windows_keep_memory_flat_and_the_text(transcriber, tmp_path):
    windowed = Transcriber(options=TranscriptionOptions(window_s=40))
    transcript = windowed.transcribe(OFFICE, writer=TranscriptWriter(tmp_path))
    progress = [e for e in windowed.stream(OFFICE) if isinstance(e, TranscriptionProgress)]
    assert len(progress) >= 3  # about 2 minutes in 40-second windows
    assert word_error_rate(script_text("office-move"), transcript.text) < 0.3
    assert max(s.end for s in transcript.segments) > 100  # later windows are timed from the file's start
    for name in ("transcript.txt", "transcript.srt", "transcript.vtt", "transcript.json"):
        assert (tmp_path / name).stat().st_size > 100
    assert not (tmp_path / "transcript.partial.jsonl").exists()
    assert read_transcript(tmp_path / "transcript.srt").text == transcript.text
    assert read_transcript(tmp_path / "transcript.json").text == transcript.text


def test_a_crash_midway_keeps_what_was_transcribed(tmp_path):
    transcriber = Transcriber(options=TranscriptionOptions(window_s=40))
    engine = transcriber.engine
    original, calls = engine.transcribe_window, []

    def failing(samples, options):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        yield from original(samples, options)

    engine.transcribe_window = failing
    with pytest.raises(RuntimeError):
        transcriber.transcribe(OFFICE, writer=TranscriptWriter(tmp_path))
    kept = (tmp_path / "transcript.txt").read_text()
    assert "office" in kept.lower() and kept.startswith("[00:00:0")
    assert (tmp_path / "transcript.partial.jsonl").read_text().strip()


def _wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


def _png(path: Path) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    )
    return path


def test_bad_audio_inputs(transcriber, tmp_path):
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(bytes(range(256)) * 64)
    text = tmp_path / "notes.wav"
    text.write_text("these are not sounds\n" * 50)
    cases = [
        (tmp_path / "missing.wav", "no such file"),
        (empty, "empty"),
        (garbage, "not a readable"),
        (text, "not a readable"),
        (_png(tmp_path / "image.png"), "no audio stream"),
    ]
    for path, message in cases:
        with pytest.raises(AudioError, match=message):
            transcriber.transcribe(path)


def test_silence_is_no_speech_not_hallucinated_text(transcriber, tmp_path):
    quiet = _wav(tmp_path / "quiet.wav", np.random.default_rng(0).normal(0, 0.001, 16000 * 8).astype(np.float32))
    with pytest.raises(NoSpeechError, match="no speech found in 8 s"):
        transcriber.transcribe(quiet, writer=TranscriptWriter(tmp_path / "out"))


def test_an_asr_model_path_that_is_not_a_model(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelFileError, match="model.bin is missing"):
        Transcriber(model=str(tmp_path)).engine  # noqa: B018


class _TranscriptionServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible /v1/audio/transcriptions endpoint on loopback, backed by real Whisper tiny.en:
    no such server ships on PyPI without a model download, so this one stands in for it."""

    engine = None
    fail_after = 10**6
    requests = 0
    received: list[dict[str, list[str]]] = []  # each request's form fields (name -> values), as sent

    def do_POST(self):  # noqa: N802
        cls = type(self)
        cls.requests += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if cls.requests > cls.fail_after:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": "overloaded"}')
            return
        fields, files = _multipart(self.headers["Content-Type"], body)
        cls.received.append(fields)
        with wave.open(io.BytesIO(files["file"])) as audio:
            samples = np.frombuffer(audio.readframes(audio.getnframes()), "<i2").astype(np.float32) / 32767
        words = "word" in fields.get("timestamp_granularities[]", [])
        segments = list(cls.engine.transcribe_window(samples, TranscriptionOptions(word_timestamps=words)))
        reply = {
            "text": " ".join(s.text for s in segments),
            "segments": [{"start": s.start, "end": s.end, "text": s.text} for s in segments],
        }
        if words:  # what the OpenAI API sends only when word granularity was asked for
            reply["words"] = [{"start": w.start, "end": w.end, "word": w.text} for s in segments for w in s.words]
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, list[str]], dict[str, bytes]]:
    """A multipart/form-data body parsed by the standard library: form fields (repeated names kept) and files."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    fields: dict[str, list[str]] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if part.get_filename():
            files[name] = part.get_payload(decode=True)
        else:
            fields.setdefault(name, []).append(part.get_payload(decode=True).decode())
    return fields, files


@pytest.fixture()
def transcription_server(transcriber):
    _TranscriptionServer.engine = transcriber.engine
    _TranscriptionServer.requests = 0
    _TranscriptionServer.received = []
    _TranscriptionServer.fail_after = 10**6
    port = free_port()
    server = HTTPServer(("127.0.0.1", port), _TranscriptionServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}/v1"
    server.shutdown()


def test_openai_compatible_endpoint(transcription_server, tmp_path):
    settings = load_settings(openai_base_url=transcription_server)
    remote = Transcriber(settings, engine="openai", options=TranscriptionOptions(window_s=40))
    transcript = remote.transcribe(OFFICE)
    assert word_error_rate(script_text("office-move"), transcript.text) < 0.3
    assert max(s.end for s in transcript.segments) > 100
    sent = _TranscriptionServer.received
    assert len(sent) >= 3 and all(f == {"model": ["whisper-1"], "response_format": ["verbose_json"]} for f in sent)

    _TranscriptionServer.requests, _TranscriptionServer.fail_after = 0, 1
    with pytest.raises(EndpointError, match="HTTP 500"):
        remote.transcribe(OFFICE, writer=TranscriptWriter(tmp_path))
    assert "office" in (tmp_path / "transcript.txt").read_text().lower()  # the first window is kept


def test_openai_endpoint_is_sent_the_language_and_word_timestamps(transcription_server):
    settings = load_settings(openai_base_url=transcription_server)
    options = TranscriptionOptions(window_s=40, language="en", word_timestamps=True)
    transcript = Transcriber(settings, engine="openai", options=options).transcribe(OFFICE)
    assert len(_TranscriptionServer.received) >= 3
    for fields in _TranscriptionServer.received:
        assert fields["model"] == ["whisper-1"] and fields["response_format"] == ["verbose_json"]
        assert fields["language"] == ["en"] and fields["timestamp_granularities[]"] == ["segment", "word"]
    words = [w for s in transcript.segments for w in s.words]
    assert len(words) > 100 and all(s.start <= w.start < s.end for s in transcript.segments for w in s.words)


"""Transcript files: written as the transcript grows (a crash keeps what was done), and read back.

Formats: txt ("[hh:mm:ss] text" per segment), srt, vtt, json (this package's `Transcript.to_dict`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TextIO

from llmkit.asr.types import Segment, Transcript, Word
from llmkit.errors import InvalidInputError

TRANSCRIPT_FORMATS = ("txt", "srt", "vtt", "json")
_PARTIAL = "transcript.partial.jsonl"


def clock(seconds: float, separator: str = ".", hours: bool = True) -> str:
    millis = int(round(seconds * 1000))
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}" if hours else f"{m:02d}:{s:02d}"


def short_clock(seconds: float) -> str:
    total = int(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


class TranscriptWriter:
    """Appends each segment to every requested format as it arrives, flushed; `finish` writes the JSON."""

    def __init__(self, folder: Path, formats: tuple[str, ...] = TRANSCRIPT_FORMATS) -> None:
        unknown = set(formats) - set(TRANSCRIPT_FORMATS)
        if unknown:
            raise InvalidInputError(f"unknown transcript format(s) {sorted(unknown)}; known: {TRANSCRIPT_FORMATS}")
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.formats, self.count = folder, formats, 0
        self._files: dict[str, TextIO] = {}
        for fmt in formats:
            if fmt != "json":
                self._files[fmt] = (folder / f"transcript.{fmt}").open("w", encoding="utf-8")
        self._files["partial"] = (folder / _PARTIAL).open("w", encoding="utf-8")
        if "vtt" in self._files:
            self._files["vtt"].write("WEBVTT\n\n")

    def add(self, segment: Segment) -> None:
        self.count += 1
        text = segment.text.strip()
        for fmt, handle in self._files.items():
            if fmt == "txt":
                handle.write(f"[{short_clock(segment.start)}] {text}\n")
            elif fmt == "srt":
                handle.write(f"{self.count}\n{clock(segment.start, ',')} --> {clock(segment.end, ',')}\n{text}\n\n")
            elif fmt == "vtt":
                handle.write(f"{clock(segment.start)} --> {clock(segment.end)}\n{text}\n\n")
            else:
                handle.write(json.dumps(segment.to_dict(), ensure_ascii=False) + "\n")
            handle.flush()

    def finish(self, transcript: Transcript) -> None:
        self.close()
        if "json" in self.formats:
            data = json.dumps(transcript.to_dict(), ensure_ascii=False, indent=1)
            (self.folder / "transcript.json").write_text(data, encoding="utf-8")
        (self.folder / _PARTIAL).unlink(missing_ok=True)

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()


_TIME = r"(\d+):(\d{2}):(\d{2})[,.](\d{3})"
_CUE = re.compile(_TIME + r"\s*-->\s*" + _TIME)
_TXT_LINE = re.compile(r"^\[(\d+):(\d{2}):(\d{2})\]\s*(.*)$")


def _seconds(h: str, m: str, s: str, ms: str = "0") -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def read_transcript(path: Path) -> Transcript:
    """A transcript file in any of the formats above (or plain text, one utterance per line)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read the transcript: {exc}") from exc
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "json":
        segments = _json_segments(raw, path)
    elif suffix in ("srt", "vtt"):
        segments = _cue_segments(raw)
    else:
        segments = _txt_segments(raw)
    if not any(segment.text.strip() for segment in segments):
        raise InvalidInputError(f"{path}: the transcript has no text")
    return Transcript(str(path), segments, duration=segments[-1].end if segments else 0.0, engine="file")


def _json_segments(raw: str, path: Path) -> list[Segment]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path}: not valid JSON: {exc}") from exc
    items = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(items, list):
        text = data.get("text") if isinstance(data, dict) else None
        if isinstance(text, str):
            return [Segment(0.0, 0.0, text)]
        raise InvalidInputError(f'{path}: expected {{"segments": [...]}} or {{"text": ...}}')
    segments = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise InvalidInputError(f"{path}: segments[{index}].text is missing or not a string")
        words = tuple(Word(w["start"], w["end"], w.get("text", w.get("word", ""))) for w in item.get("words", []))
        segments.append(Segment(float(item.get("start", 0.0)), float(item.get("end", 0.0)), item["text"], words))
    return segments


def _cue_segments(raw: str) -> list[Segment]:
    segments = []
    for block in re.split(r"\n\s*\n", raw.replace("\r\n", "\n")):
        lines = block.strip().splitlines()
        for index, line in enumerate(lines):
            match = _CUE.search(line)
            if match:
                text = " ".join(lines[index + 1 :]).strip()
                if text:
                    g = match.groups()
                    segments.append(Segment(_seconds(*g[:4]), _seconds(*g[4:]), text))
                break
    return segments


def _txt_segments(raw: str) -> list[Segment]:
    segments = []
    for line in raw.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _TXT_LINE.match(line)
        if match:
            start = _seconds(*match.groups()[:3])
            segments.append(Segment(start, start, match.group(4)))
        else:
            start = segments[-1].start if segments else 0.0
            segments.append(Segment(start, start, line))
    return segments

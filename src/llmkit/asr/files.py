"""Transcript files: written as the transcript grows (a crash keeps what was done), and read back.

Formats: txt ("[hh:mm:ss] text" per segment), srt, vtt, json (this package's `Transcript.to_dict`). A diarized
transcript carries its speakers: "[00:00:12] Dana: text" in txt, "Dana: text" in srt, a voice tag
("<v Dana>text") in vtt, `speaker` on every segment in json; reading a file back finds them again.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TextIO

from llmkit.asr.types import Segment, Speaker, Transcript, Word
from llmkit.errors import InvalidInputError, LlmkitError

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


class OutputError(LlmkitError):
    """An output folder or file cannot be created or written (read-only place, a file in the way, disk full)."""

    def __init__(self, path: Path, exc: OSError):
        self.path = path
        reason = exc.strerror or str(exc)
        where = f" ({exc.filename})" if getattr(exc, "filename", None) and str(exc.filename) != str(path) else ""
        super().__init__(f"{path}: cannot write the output here: {reason}{where}")


def make_folder(folder: Path) -> list[Path]:
    """mkdir -p; returns the folders it created (outermost first), to remove again if the run fails."""
    missing = []
    for parent in [folder, *folder.parents]:
        if parent.exists():
            break
        missing.append(parent)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(folder, exc) from exc
    return list(reversed(missing))


def remove_if_empty(folders: list[Path]) -> None:
    """Remove folders a failed run created (innermost first) as long as they are empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


class TranscriptWriter:
    """Appends each segment to every requested format as it arrives, flushed, under temporary names
    (transcript.partial.*); `finish` moves them into place and writes the JSON. A run that fails (`abandon`)
    never touches an earlier result: what it transcribed is kept (in place of the final files if there were
    none, else under the temporary names), and if it transcribed nothing, what it created is removed."""

    def __init__(self, folder: Path, formats: tuple[str, ...] = TRANSCRIPT_FORMATS) -> None:
        unknown = set(formats) - set(TRANSCRIPT_FORMATS)
        if unknown:
            raise InvalidInputError(f"unknown transcript format(s) {sorted(unknown)}; known: {TRANSCRIPT_FORMATS}")
        self.folder, self.formats, self.count = folder, formats, 0
        self._created = make_folder(folder)
        self._previous = any((folder / f"transcript.{fmt}").exists() for fmt in TRANSCRIPT_FORMATS)
        self._files: dict[str, TextIO] = {}
        self._streams = [fmt for fmt in formats if fmt != "json"] + ["partial"]

    def _temporary(self, fmt: str) -> Path:
        return self.folder / (_PARTIAL if fmt == "partial" else f"transcript.partial.{fmt}")

    def _open(self) -> None:
        try:
            for fmt in self._streams:
                self._files[fmt] = self._temporary(fmt).open("w", encoding="utf-8")
            if "vtt" in self._files:
                self._files["vtt"].write("WEBVTT\n\n")
        except OSError as exc:
            raise OutputError(self.folder, exc) from exc

    def add(self, segment: Segment) -> None:
        if not self._files:
            self._open()
        self.count += 1
        try:
            for fmt, handle in self._files.items():
                handle.write(cue(fmt, segment, self.count))
                handle.flush()
        except OSError as exc:
            raise OutputError(self.folder, exc) from exc

    def finish(self, transcript: Transcript) -> None:
        """The transcript is complete: the files replace any earlier ones. Diarization comes after the
        last segment, so a transcript with speakers is written again, whole, with them."""
        if not self._files:
            self._open()
        self.close()
        if transcript.speakers:
            self._rewrite(transcript)
        try:
            if "json" in self.formats:
                data = json.dumps(transcript.to_dict(), ensure_ascii=False, indent=1)
                self._temporary("json").write_text(data, encoding="utf-8")
            for fmt in self.formats:
                os.replace(self._temporary(fmt), self.folder / f"transcript.{fmt}")
            self._temporary("partial").unlink(missing_ok=True)
        except OSError as exc:
            raise OutputError(self.folder, exc) from exc

    def _rewrite(self, transcript: Transcript) -> None:
        try:
            for fmt in self._streams:
                if fmt == "partial":
                    continue
                header = "WEBVTT\n\n" if fmt == "vtt" else ""
                body = "".join(cue(fmt, s, n) for n, s in enumerate(transcript.segments, start=1))
                self._temporary(fmt).write_text(header + body, encoding="utf-8")
        except OSError as exc:
            raise OutputError(self.folder, exc) from exc

    def abandon(self) -> None:
        """The run failed or was stopped before `finish`."""
        self.close()
        if self.count == 0:
            for fmt in self._streams:
                self._temporary(fmt).unlink(missing_ok=True)
            remove_if_empty(self._created)
        elif not self._previous:  # a crash keeps what was transcribed, under the usual names
            for fmt in self._streams:
                if fmt != "partial" and self._temporary(fmt).exists():
                    os.replace(self._temporary(fmt), self.folder / f"transcript.{fmt}")

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()


def cue(fmt: str, segment: Segment, number: int) -> str:
    """One segment as a line (txt), a cue (srt, vtt) or a JSON line (the partial file), with its speaker."""
    text = segment.text.strip()
    if fmt == "txt":
        return f"[{short_clock(segment.start)}] {segment.speaker + ': ' if segment.speaker else ''}{text}\n"
    if fmt == "srt":
        said = f"{segment.speaker}: {text}" if segment.speaker else text
        return f"{number}\n{clock(segment.start, ',')} --> {clock(segment.end, ',')}\n{said}\n\n"
    if fmt == "vtt":
        said = f"<v {segment.speaker}>{text}" if segment.speaker else text
        return f"{clock(segment.start)} --> {clock(segment.end)}\n{said}\n\n"
    return json.dumps(segment.to_dict(), ensure_ascii=False) + "\n"


def load_complete_transcript(folder: Path, source: Path) -> Transcript | None:
    """The finished transcript of `source` in `folder` (transcript.json is written only once a run
    completes), or None if there is none, it is unreadable, or it belongs to another file."""
    path = folder / "transcript.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if Path(data["source"]).resolve() != Path(source).resolve():
            return None
        segments = [
            Segment(
                float(s["start"]), float(s["end"]), str(s["text"]), _words(s.get("words") or []), s.get("speaker", "")
            )
            for s in data["segments"]
        ]
        transcript = Transcript(
            data["source"],
            segments,
            float(data.get("duration", 0.0)),
            data.get("language", "en"),
            data.get("engine", ""),
            data.get("model", ""),
            speakers=[Speaker(**item) for item in data.get("speakers") or []],
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return transcript if segments else None


def _words(items: list) -> tuple[Word, ...]:
    return tuple(
        Word(
            float(w["start"]), float(w["end"]), str(w.get("text", w.get("word", ""))), float(w.get("probability", 1.0))
        )
        for w in items
    )


def recorded_source(folder: Path) -> Path | None:
    """The input file whose results are in `folder`, as its minutes.json or transcript.json records it."""
    for name in ("minutes.json", "transcript.json"):
        try:
            source = json.loads((folder / name).read_text(encoding="utf-8")).get("source")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            continue
        if isinstance(source, str) and source:
            return Path(source).resolve()
    return None


def output_folders(sources: list[Path], out_root: Path) -> list[Path]:
    """A folder per input under `out_root`, named after the file (`meeting`); a second input with the same
    name but another path gets `meeting-2`, and so on. A folder whose results record another input is never
    reused, so the assignment is stable across runs: the same file finds its own folder again."""
    claimed: dict[Path, Path] = {}
    folders = []
    for source in map(Path, sources):
        resolved = source.resolve()
        number = 1
        while True:
            folder = out_root / (source.stem if number == 1 else f"{source.stem}-{number}")
            owner = claimed.get(folder) or recorded_source(folder)
            if owner is None or owner == resolved:
                break
            number += 1
        claimed[folder] = resolved
        folders.append(folder)
    return folders


_TIME = r"(?:(\d+):)?(\d{2}):(\d{2})[,.](\d{3})"  # hours optional (WebVTT allows mm:ss.ttt)
_CUE = re.compile(_TIME + r"\s*-->\s*" + _TIME)
_TXT_LINE = re.compile(r"^\[(\d+):(\d{2}):(\d{2})\]\s*(.*)$")
_VTT_BLOCKS = ("WEBVTT", "NOTE", "STYLE", "REGION")


def _seconds(h: str | None, m: str, s: str, ms: str = "0") -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def read_transcript(path: Path) -> Transcript:
    """A transcript file in any of the formats above (or plain text, one utterance per line). A malformed
    JSON field is an error naming the segment; an SRT/VTT cue without a valid time line keeps its text,
    timed at the cue before it, with a warning in `Transcript.warnings`."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read the transcript: {exc}") from exc
    suffix = path.suffix.lower().lstrip(".")
    warnings: list[str] = []
    if suffix == "json":
        segments = _json_segments(raw, path)
    elif suffix in ("srt", "vtt"):
        segments = _cue_segments(raw, path, warnings)
    else:
        segments = _txt_segments(raw)
    if not any(segment.text.strip() for segment in segments):
        raise InvalidInputError(f"{path}: the transcript has no text")
    if suffix != "json":
        segments = _speakers_from_text(segments, suffix == "vtt")
    duration = max(segment.end for segment in segments) if segments else 0.0
    transcript = Transcript(str(path), segments, duration=duration, engine="file", warnings=warnings)
    transcript.speakers = _speakers_of(segments)
    return transcript


_VOICE_TAG = re.compile(r"^<v(?:\.[\w.-]+)?\s+([^>]{1,40})>\s*(.*?)(?:</v>)?$", re.S)
_NAME_PREFIX = re.compile(r"^((?:SPEAKER_\d+)|(?:[A-Z][\w'.-]{0,20}(?: [A-Z][\w'.-]{0,20})?)):\s+(.*)$", re.S)


def _speakers_from_text(segments: list[Segment], vtt: bool) -> list[Segment]:
    """Speakers written into the text: a VTT voice tag, or "Name: " before most lines (so one "Decision: ..."
    line is not taken for a person)."""
    if vtt and any(_VOICE_TAG.match(s.text) for s in segments):
        tagged = [(_VOICE_TAG.match(s.text), s) for s in segments]
        return [Segment(s.start, s.end, m.group(2), s.words, m.group(1).strip()) if m else s for m, s in tagged]
    prefixed = [(_NAME_PREFIX.match(s.text), s) for s in segments]
    if sum(1 for m, _ in prefixed if m) * 2 <= len(segments) or len({m.group(1) for m, _ in prefixed if m}) < 1:
        return segments
    return [Segment(s.start, s.end, m.group(2), s.words, m.group(1)) if m else s for m, s in prefixed]


def _speakers_of(segments: list[Segment]) -> list[Speaker]:
    talk: dict[str, float] = {}
    for segment in segments:
        if segment.speaker:
            talk[segment.speaker] = talk.get(segment.speaker, 0.0) + max(segment.end - segment.start, 0.0)
    return [
        Speaker(label, "" if label.startswith("SPEAKER_") else label, "as written in the transcript", round(t, 2))
        for label, t in talk.items()
    ]


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
        try:
            start, end = _number(item, "start"), _number(item, "end")
            words = _words(item.get("words") or [])
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidInputError(f"{path}: segments[{index}] has a bad time: {exc}") from exc
        speaker = item.get("speaker") or ""
        segments.append(
            Segment(start, max(end, start), item["text"], words, speaker if isinstance(speaker, str) else "")
        )
    return segments


def _number(item: dict, key: str) -> float:
    value = item.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{key} is {value!r}, not a number of seconds")
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{key} is {value!r}, not a number of seconds") from None
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        raise ValueError(f"{key} is {value!r}, not a number of seconds")
    return seconds


def _cue_segments(raw: str, path: Path, warnings: list[str]) -> list[Segment]:
    segments = []
    for number, block in enumerate(re.split(r"\n\s*\n", raw.replace("\r\n", "\n")), start=1):
        lines = [line.strip() for line in block.strip().splitlines()]
        if not lines or lines[0].startswith(_VTT_BLOCKS):
            continue
        timed = next((i for i, line in enumerate(lines) if _CUE.search(line)), None)
        if timed is not None:
            text = " ".join(lines[timed + 1 :]).strip()
            if text:
                g = _CUE.search(lines[timed]).groups()
                segments.append(Segment(_seconds(*g[:4]), _seconds(*g[4:]), text))
            continue
        # No valid time line: keep the words (they may hold an action item), say so, never drop them silently.
        label = lines[0] if lines[0].isdigit() else f"#{number}"
        body = lines[1:] if lines[0].isdigit() else lines
        bad = next((i for i, line in enumerate(body) if "-->" in line), None)
        text = " ".join(body[bad + 1 :] if bad is not None else body).strip()
        if not text:
            continue
        at = segments[-1].end if segments else 0.0
        what = f"a bad time line {body[bad]!r}" if bad is not None else "no time line"
        warnings.append(f"{path}: cue {label} has {what}; its text is kept, timed at {short_clock(at)}: {text[:60]!r}")
        segments.append(Segment(at, at, text))
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

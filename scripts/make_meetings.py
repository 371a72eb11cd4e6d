"""Renders the scripted meetings (benchmarks/meetings/*.json) to speech: espeak-ng voices joined with sox.

A voice is an espeak-ng voice name ("en-us+f3"), or, to sound like a different person rather than another
variant of one synthesizer, {"voice": "en-us", "pitch": 35, "speed": 160, "sox": ["pitch", "-300", ...]}:
espeak-ng's base pitch (0-99) and words per minute, then sox effects (pitch shift in cents, tempo, EQ, ...).

    python scripts/make_meetings.py [NAME ...]

Needs Debian's espeak-ng and sox (with libsox-fmt-mp3). Writes NAME.mp3 (16 kHz mono, 24 kbit/s) beside
each script and NAME.lines.json with each line's start and end in the audio, the reference for timestamps.
The rendered files are committed, so tests and benchmarks do not need these tools. A script marked
`"new_patterns": true` carries the patterns of a reported meeting (benchmarks/minutes.py reports those
meetings separately). Without NAME, every meeting is rendered again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

MEETINGS = Path(__file__).resolve().parents[1] / "benchmarks" / "meetings"
WORDS_PER_MINUTE = 150
PAUSE_S = 0.5


def duration(path: Path) -> float:
    return float(subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True, check=True).stdout)


def voice_commands(voice: str | dict) -> tuple[list[str], list[str]]:
    """(espeak-ng command without the output, sox effects) for a voice as the script gives it."""
    if isinstance(voice, str):
        return ["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE)], []
    espeak = ["espeak-ng", "-v", voice["voice"], "-s", str(voice.get("speed", WORDS_PER_MINUTE))]
    if "pitch" in voice:
        espeak += ["-p", str(voice["pitch"])]
    return espeak, [str(effect) for effect in voice.get("sox", [])]


def render(script_path: Path) -> None:
    script = json.loads(script_path.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        parts, timeline, clock = [], [], 0.0
        silence = Path(tmp) / "pause.wav"
        subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(silence), "trim", "0", str(PAUSE_S)], check=True)
        for index, (speaker, text) in enumerate(script["lines"]):
            raw, clean = Path(tmp) / f"{index}.raw.wav", Path(tmp) / f"{index}.wav"
            espeak, effects = voice_commands(script["voices"][speaker])
            subprocess.run([*espeak, "-w", str(raw), text], check=True)
            subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(clean), *effects], check=True)
            length = duration(clean)
            timeline.append({"speaker": speaker, "text": text, "start": round(clock, 2), "end": round(clock + length, 2)})
            clock += length + PAUSE_S
            parts += [str(clean), str(silence)]
        joined = Path(tmp) / "meeting.wav"
        subprocess.run(["sox", *parts, str(joined)], check=True)
        target = script_path.with_suffix(".mp3")
        subprocess.run(["sox", str(joined), "-C", "24", str(target)], check=True)
    script_path.with_suffix(".lines.json").write_text(json.dumps(timeline, indent=1) + "\n")
    print(f"{target.name}: {clock / 60:.1f} min, {target.stat().st_size // 1024} KB")


if __name__ == "__main__":
    names = sys.argv[1:]
    for path in sorted(MEETINGS.glob("*.json")):
        if not path.name.endswith(".lines.json") and (not names or path.stem in names):
            render(path)

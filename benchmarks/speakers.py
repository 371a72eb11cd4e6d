"""Speaker diarization and naming on the scripted meetings (issue 16).

    nice .venv/bin/python benchmarks/speakers.py [--meetings a,b] [--overhead a,b] [--json out.json]
    nice .venv/bin/python benchmarks/speakers.py --long-minutes 120     # memory and time on a long file

Per meeting (benchmarks/meetings/NAME.mp3, whose NAME.lines.json says who speaks when): the audio is
transcribed once with word timestamps (Whisper tiny.en), then diarized. Reported:
- DER: missed + false alarm + confusion over reference speech, 0.25 s collar (and without a collar);
- speakers found / in the script; naming accuracy: reference speakers whose best-overlapping label got
  their name (wrong names counted apart from no name);
- action items with owners (rules only: the cue extractor and the reduce step, no language model), P/R
  against the script's list, from the audio without speakers (before) and with them (after);
- with the attendee list (`--speakers Anna,Ben,...`: the count and the names to choose from, as a user who
  has the invitation passes them): DER, naming and owners again, on the same transcript;
- the owners' ceilings for this transcript, with perfect diarization (the script's turns put on the ASR's
  words): named by the script (what perfect diarization and naming would give with these ASR errors), and
  named from the transcript's evidence without and with the list (what naming alone can reach);
- overhead: (transcription with word timestamps + diarization) / plain transcription - 1, on --overhead:
  --rounds alternating rounds (plain first, then diarized first, ...), medians and the ratio's spread.
The sox-varied meetings (speakers-*) are the scripted set of the target; the espeak-ng-only dev meetings
are reported separately (voice variants of one synthesizer), the held-out ones apart again: heldout-voices/
(sox-varied voices like the scripted set's, written after its thresholds were chosen and never tuned on) and
heldout/ (issue 17's espeak-ng-only meetings).
--long-minutes: a file of that length made by repeating a meeting, diarized alone (segments from the
script): time and peak memory, to show that memory stays flat.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEETINGS = ROOT / "benchmarks" / "meetings"
SCRIPTED = ["speakers-pair", "speakers-five", "speakers-quiet"]
DEV = [
    "launch-review",
    "budget-planning",
    "incident-postmortem",
    "hiring-sync",
    "office-move",
    "vendor-renewal",
    "onboarding-plan",
    "data-migration",
    "trade-fair",
]


# Held-out folders, each its own group: sox-varied voices (the scripted set's kind), espeak-ng variants only.
HELDOUT = ["heldout-voices", "heldout"]


def _scripts(folder: str) -> list[str]:
    return sorted(p.stem for p in (MEETINGS / folder).glob("*.json") if not p.stem.endswith(".lines"))


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reference_turns(lines_file: Path):
    from llmkit.asr import SpeakerTurn

    return [SpeakerTurn(x["start"], x["end"], x["speaker"]) for x in json.loads(lines_file.read_text())]


def naming(reference, segments) -> tuple[int, int, int]:
    """(named right, named wrong, left unnamed) over the reference speakers: each reference speaker's
    best-overlapping hypothesis label, compared by name."""
    right = wrong = unnamed = 0
    for person in sorted({t.speaker for t in reference}):
        overlap: dict[str, float] = {}
        for turn in (t for t in reference if t.speaker == person):
            for s in segments:
                shared = min(turn.end, s.end) - max(turn.start, s.start)
                if shared > 0:
                    overlap[s.speaker] = overlap.get(s.speaker, 0.0) + shared
        label = max(overlap, key=overlap.get) if overlap else ""
        if not label or label.startswith("SPEAKER_"):
            unnamed += 1
        elif label == person:
            right += 1
        else:
            wrong += 1
    return right, wrong, unnamed


def owners(transcript, script: dict):
    """Action items by the rules (no model), scored against the script (owner and task)."""
    from llmkit.minutes import evaluation, extract
    from llmkit.minutes.reduce import reduce_notes

    said = extract.sentences(transcript.segments)
    notes = extract.cue_notes(1, said, extract.names_in(said))
    items = reduce_notes([notes]).action_items
    return evaluation.action_item_score(script["action_items"], items)


class _Timed:
    """The diarizer, timing its calls: the transcriber calls it right after transcribing."""

    def __init__(self, diarizer) -> None:
        self.diarizer, self.seconds, self.segments = diarizer, 0.0, []

    def turns(self, *args):
        self.segments = list(args[1])  # the transcript's segments before diarization split them
        started = time.perf_counter()
        try:
            return self.diarizer.turns(*args)
        finally:
            self.seconds += time.perf_counter() - started


def _diarized_run(transcriber, audio: Path):
    """The path `llmkit minutes` takes: transcription with word timestamps, then diarization anchored on
    the self-introductions, in one Transcriber call. Returns (transcript, words seconds, diarize seconds)."""
    from llmkit.minutes import introductions

    timed = transcriber.diarizer
    timed.seconds = 0.0
    started = time.perf_counter()
    transcript = transcriber.transcribe(audio, anchors=introductions)
    total = time.perf_counter() - started
    return transcript, total - timed.seconds, timed.seconds


def _overhead(audio: Path, transcriber, plain, rounds: int) -> dict:
    """Plain transcription vs transcription with words + diarization, `rounds` times each in alternating
    order (both warmed up by the first measurement): medians and the spread of the ratio."""
    plain_s, words_s, diarize_s, ratios = [], [], [], []
    for round_ in range(rounds):
        order = ("plain", "diarized") if round_ % 2 == 0 else ("diarized", "plain")
        for side in order:
            if side == "plain":
                started = time.perf_counter()
                plain.transcribe(audio)
                plain_s.append(time.perf_counter() - started)
            else:
                _, words, diarizing = _diarized_run(transcriber, audio)
                words_s.append(words)
                diarize_s.append(diarizing)
        ratios.append((words_s[-1] + diarize_s[-1]) / plain_s[-1] - 1)
    med = statistics.median
    return {
        "asr_plain_s": round(med(plain_s), 2),
        "asr_words_s": round(med(words_s), 2),
        "diarize_s": round(med(diarize_s), 2),
        "overhead": round(med(ratios), 3),
        "overhead_spread": [round(min(ratios), 3), round(max(ratios), 3)],
    }


def with_attendee_list(audio: Path, undiarized, reference, script: dict, diarizer) -> dict:
    """The same transcript diarized with the count and named from the list of people present (what
    `llmkit minutes --speakers Anna,Ben,...` does): DER, naming, owners."""
    from dataclasses import replace

    from llmkit.asr import DiarizationOptions, diarization_error_rate, diarize, turns_of
    from llmkit.minutes import introductions, name_speakers

    people = sorted({t.speaker for t in reference})
    options = DiarizationOptions(speakers=len(people), anchors=tuple(introductions(undiarized.segments)))
    segments, speakers = diarize(audio, undiarized.segments, options, diarizer)
    named = name_speakers(replace(undiarized, segments=segments, speakers=speakers), people)
    right, wrong, unnamed = naming(reference, named.segments)
    scored = owners(named, script)
    return {
        "der": round(diarization_error_rate(reference, turns_of(named.segments)), 3),
        "named_right": right,
        "named_wrong": wrong,
        "unnamed": unnamed,
        "owners": [round(scored.precision, 2), round(scored.recall, 2)],
    }


def owners_ceiling(undiarized, reference, script: dict) -> dict[str, list[float]]:
    """Owners P/R with perfect diarization (the script's turns on the ASR's words): named by the script
    (`script`: the best diarization and naming can do with these ASR errors), and named from the transcript's
    evidence, without and with the attendee list (`evidence`, `evidence_list`: what naming alone reaches)."""
    from dataclasses import replace

    from llmkit.asr import Speaker
    from llmkit.asr.diarization import assign_speakers
    from llmkit.minutes import name_speakers

    people = sorted({t.speaker for t in reference})
    anonymous = [type(t)(t.start, t.end, f"SPEAKER_{people.index(t.speaker) + 1}") for t in reference]

    def score(turns, names=None, named=False) -> list[float]:
        segments = assign_speakers(undiarized.segments, turns)
        labels = dict.fromkeys(s.speaker for s in segments)
        transcript = replace(undiarized, segments=segments, speakers=[Speaker(label) for label in labels])
        scored = owners(transcript if named else name_speakers(transcript, names), script)
        return [round(scored.precision, 2), round(scored.recall, 2)]

    return {
        "script": score(reference, named=True),
        "evidence": score(anonymous),
        "evidence_list": score(anonymous, people),
    }


def measure(name: str, transcriber, plain, overhead_rounds: int) -> dict:
    from dataclasses import replace

    from llmkit.asr import diarization_error_rate, turns_of
    from llmkit.minutes import name_speakers

    audio = MEETINGS / f"{name}.mp3"
    script = json.loads((MEETINGS / f"{name}.json").read_text())
    reference = reference_turns(MEETINGS / f"{name}.lines.json")
    transcript, words_s, diarize_s = _diarized_run(transcriber, audio)
    named = name_speakers(transcript)
    undiarized = replace(transcript, segments=transcriber.diarizer.segments, speakers=[])
    hypothesis = turns_of(named.segments)
    right, wrong, unnamed = naming(reference, named.segments)
    before, after = owners(undiarized, script), owners(named, script)
    row = {
        "meeting": name,
        "audio_s": round(reference[-1].end, 1),
        "speakers_true": len({t.speaker for t in reference}),
        "speakers_found": len(transcript.speakers),
        "der": round(diarization_error_rate(reference, hypothesis), 3),
        "der_no_collar": round(diarization_error_rate(reference, hypothesis, collar=0.0), 3),
        "named_right": right,
        "named_wrong": wrong,
        "unnamed": unnamed,
        "owners_before": [round(before.precision, 2), round(before.recall, 2)],
        "owners_after": [round(after.precision, 2), round(after.recall, 2)],
        "expected_items": after.expected,
        "asr_words_s": round(words_s, 1),
        "diarize_s": round(diarize_s, 1),
        "names": {s.label: s.display for s in named.speakers},
        "owners_ceiling": owners_ceiling(undiarized, reference, script),
        "attendee_list": with_attendee_list(audio, undiarized, reference, script, transcriber.diarizer.diarizer),
    }
    if overhead_rounds:
        row.update(_overhead(audio, transcriber, plain, overhead_rounds))
    return row


def totals(rows: list[dict]) -> dict:
    """Pooled over meetings: DER weighted by audio, naming over all reference speakers, owners by counts."""
    audio = sum(r["audio_s"] for r in rows) or 1.0
    people = sum(r["speakers_true"] for r in rows) or 1
    result = {
        "der": round(sum(r["der"] * r["audio_s"] for r in rows) / audio, 3),
        "der_no_collar": round(sum(r["der_no_collar"] * r["audio_s"] for r in rows) / audio, 3),
        "naming_accuracy": round(sum(r["named_right"] for r in rows) / people, 2),
        "named_wrong": sum(r["named_wrong"] for r in rows),
        "speaker_count_right": sum(r["speakers_found"] == r["speakers_true"] for r in rows),
        "meetings": len(rows),
    }
    expected = sum(r["expected_items"] for r in rows) or 1
    for key in ("owners_before", "owners_after"):
        result[key + "_recall"] = round(sum(r[key][1] * r["expected_items"] for r in rows) / expected, 2)
    for key in ("script", "evidence", "evidence_list"):
        result[f"owners_ceiling_{key}_recall"] = round(
            sum(r["owners_ceiling"][key][1] * r["expected_items"] for r in rows) / expected, 2
        )
    listed = [r["attendee_list"] for r in rows]
    result["attendee_list"] = {
        "der": round(sum(x["der"] * r["audio_s"] for x, r in zip(listed, rows, strict=True)) / audio, 3),
        "naming_accuracy": round(sum(x["named_right"] for x in listed) / people, 2),
        "owners_recall": round(
            sum(x["owners"][1] * r["expected_items"] for x, r in zip(listed, rows, strict=True)) / expected, 2
        ),
    }
    timed = [r for r in rows if "overhead" in r]
    if timed:
        plain_s = sum(r["asr_plain_s"] for r in timed)
        result["overhead"] = round(sum(r["asr_words_s"] + r["diarize_s"] for r in timed) / plain_s - 1, 3)
        result["diarize_share"] = round(sum(r["diarize_s"] for r in timed) / plain_s, 3)
    return result


def long_file(minutes: float, source: str) -> dict:
    """Diarize a file of `minutes` made by repeating `source` (segments from its script): time, peak memory."""
    from llmkit.asr import DiarizationOptions, Segment, create_diarizer, diarize

    lines = json.loads((MEETINGS / f"{source}.lines.json").read_text())
    length = lines[-1]["end"] + 0.5
    repeats = max(int(minutes * 60 // length), 1)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "long.mp3"
        subprocess.run(
            [
                "sox",
                str(MEETINGS / f"{source}.mp3"),
                "-C",
                "24",
                str(target),
                "pad",
                "0",
                "0.5",
                "repeat",
                str(repeats - 1),
            ],
            check=True,
            capture_output=True,
        )
        segments = [
            Segment(x["start"] + k * length, x["end"] + k * length, x["text"]) for k in range(repeats) for x in lines
        ]
        before = peak_rss_mb()
        started = time.perf_counter()
        diarizer = create_diarizer()
        _ = diarizer.encoder  # loaded before measuring
        labelled, speakers = diarize(target, segments, DiarizationOptions(), diarizer)
        elapsed = time.perf_counter() - started
    return {
        "audio_min": round(repeats * length / 60, 1),
        "diarize_s": round(elapsed, 1),
        "realtime_factor": round(elapsed / (repeats * length), 3),
        "peak_rss_mb_before": round(before, 0),
        "peak_rss_mb_after": round(peak_rss_mb(), 0),
        "speakers_found": len(speakers),
        "segments": len(labelled),
    }


def _pr(pair: list[float]) -> str:
    return f"{pair[0]:.2f}/{pair[1]:.2f}"


def print_table(group: str, data: dict) -> None:
    print(f"\n{group}")
    print(
        "| meeting | speakers found/true | DER (no collar) | named right/wrong/none | owners P/R before -> after "
        "| with the attendee list: DER, named, owners P/R | perfect diarization: owners P/R named by script; "
        "by evidence; by evidence + list | overhead (spread) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in data["meetings"]:
        over = (
            f"{r['overhead']:+.0%} ({r['overhead_spread'][0]:+.0%}..{r['overhead_spread'][1]:+.0%})"
            if "overhead" in r
            else ""
        )
        before, after, listed, ceiling = r["owners_before"], r["owners_after"], r["attendee_list"], r["owners_ceiling"]
        print(
            f"| {r['meeting']} | {r['speakers_found']}/{r['speakers_true']} | {r['der']:.1%} ({r['der_no_collar']:.1%}) "
            f"| {r['named_right']}/{r['named_wrong']}/{r['unnamed']} | {before[0]:.2f}/{before[1]:.2f} -> "
            f"{after[0]:.2f}/{after[1]:.2f} | {listed['der']:.1%}, {listed['named_right']}/{listed['named_wrong']}/"
            f"{listed['unnamed']}, {listed['owners'][0]:.2f}/{listed['owners'][1]:.2f} "
            f"| {_pr(ceiling['script'])}; {_pr(ceiling['evidence'])}; {_pr(ceiling['evidence_list'])} | {over} |"
        )
    print("total", json.dumps(data["total"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", default=",".join(SCRIPTED + DEV))
    parser.add_argument("--overhead", default=",".join(SCRIPTED), help="meetings also transcribed without words")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds per --overhead meeting")
    parser.add_argument("--long-minutes", type=float, default=0.0)
    parser.add_argument("--long-source", default="speakers-five")
    parser.add_argument("--json", default="")
    parser.add_argument("--no-heldout", action="store_true", help="skip the held-out folders")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    sys.path.insert(0, str(ROOT / "src"))
    from llmkit.asr import Transcriber, TranscriptionOptions, create_diarizer
    from llmkit.asr.voiceprint import mel_frames

    if args.long_minutes:
        result = {"long": long_file(args.long_minutes, args.long_source)}
        print(json.dumps(result, indent=1))
    else:
        diarizer = create_diarizer()
        transcriber = Transcriber(options=TranscriptionOptions(diarize="on"), diarizer=_Timed(diarizer))
        plain = Transcriber(options=TranscriptionOptions())
        _ = transcriber.engine, plain.engine, diarizer.encoder, mel_frames([0.0] * 800)  # loaded before timing
        heldout = [] if args.no_heldout else [f"{folder}/{name}" for folder in HELDOUT for name in _scripts(folder)]
        groups: dict[str, list[dict]] = {"scripted": [], "dev": [], **{folder: [] for folder in HELDOUT}}
        overhead = set(args.overhead.split(","))
        for name in [m for m in args.meetings.split(",") if m] + heldout:
            if not (MEETINGS / f"{name}.lines.json").is_file():
                continue
            row = measure(name, transcriber, plain, args.rounds if name in overhead else 0)
            folder = name.split("/")[0]
            group = folder if folder in HELDOUT else "scripted" if name in SCRIPTED else "dev"
            groups[group].append(row)
            print(json.dumps(row), flush=True)
        result = {group: {"meetings": rows, "total": totals(rows)} for group, rows in groups.items() if rows}
        for group, data in result.items():
            print_table(group, data)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Bad input and faults in `llmkit transcribe` / `llmkit minutes`: clear per-file errors, the batch goes on,
a failed run never destroys an earlier good result or leaves empty folders behind."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest
from test_cli import run
from test_minutes import ScriptedEngine

from llmkit.asr import AudioError, OutputError, Transcriber, TranscriptWriter, output_folders, read_transcript
from llmkit.errors import EndpointError, InvalidInputError, LlmkitError
from llmkit.minutes import MinutesOptions, MinutesPipeline, MinutesProgress, stream_batch

MEETINGS = Path(__file__).parents[1] / "benchmarks" / "meetings"
SHORT = MEETINGS / "trade-fair.mp3"  # 40 seconds
OTHER = MEETINGS / "onboarding-plan.mp3"


def silent_wav(path: Path, seconds: float = 6.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(np.zeros(int(16000 * seconds), dtype="<i2").tobytes())
    return path


def small_transcript(path: Path) -> Path:
    path.write_text(
        "[00:00:01] Hi Beth, hi Yusuf.\n"
        "[00:00:04] Beth, could you renew the domain names before the audit?\n"
        "[00:00:08] Yes. I'll renew them on Thursday.\n"
    )
    return path


def test_a_failed_rerun_keeps_the_good_transcript(tmp_path):
    good = tmp_path / "a" / "meeting.mp3"
    good.parent.mkdir()
    shutil.copy(SHORT, good)
    out = tmp_path / "out"
    first = run("transcribe", str(good), "-o", str(out))
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (out / "meeting").iterdir()}
    assert before["transcript.txt"] and before["transcript.srt"]

    silent = silent_wav(tmp_path / "b" / "meeting.wav")
    good.unlink()
    shutil.copy(silent, good.with_suffix(".wav"))
    rerun = run("transcribe", str(good.with_suffix(".wav")), "-o", str(out), "--no-vad", "--force")
    assert rerun.returncode == 1 and "error:" in rerun.stderr and "Traceback" not in rerun.stderr
    assert {p.name: p.read_bytes() for p in (out / "meeting").iterdir()} == before


def test_a_failed_run_leaves_no_empty_folder(tmp_path):
    transcriber = Transcriber()
    with pytest.raises(LlmkitError, match="no speech"):
        transcriber.transcribe(silent_wav(tmp_path / "quiet.wav"), writer=TranscriptWriter(tmp_path / "out" / "q"))
    assert not (tmp_path / "out").exists()

    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"not audio at all" * 100)
    result = run("transcribe", str(broken), "-o", str(tmp_path / "out2"))
    assert result.returncode == 1 and "broken.mp3" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out2" / "broken").exists()


def test_unreadable_audio_is_a_clear_error(tmp_path):
    transcriber = Transcriber()
    data = SHORT.read_bytes()
    unreadable = {
        "zeros.mp3": bytes(4096),
        "text.mp3": b"ID3 but then nothing useful\n" * 20,
        "cut.m4a": b"\x00\x00\x00\x18ftypmp42" + data[:2000],  # an MP4 header, then the wrong bytes
    }
    for name, content in unreadable.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(AudioError, match=rf"{name}: not a readable audio"):
            transcriber.transcribe(tmp_path / name)
    folder = tmp_path / "a-folder.mp3"
    folder.mkdir()
    with pytest.raises(AudioError, match="a-folder.mp3: is a folder"):
        transcriber.transcribe(folder)
    # MP3 is a stream of frames: a file cut off short still gives what it holds.
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 50])
    assert "everyone" in transcriber.transcribe(tmp_path / "cut.mp3").text.lower()


def test_inputs_with_the_same_name_get_their_own_folders(tmp_path):
    first, second = tmp_path / "a" / "meeting.mp3", tmp_path / "b" / "meeting.mp3"
    for source, target in ((SHORT, first), (OTHER, second)):
        target.parent.mkdir()
        shutil.copy(source, target)
    out = tmp_path / "out"
    result = run("transcribe", str(first), str(second), "-o", str(out), "--format", "txt,json")
    assert result.returncode == 0, result.stderr
    assert "already" not in result.stderr
    texts = {p.name: (p / "transcript.txt").read_text() for p in out.iterdir()}
    assert set(texts) == {"meeting", "meeting-2"}
    assert "hotel" in texts["meeting"].lower() and "laptop" in texts["meeting-2"].lower()
    # Stable across runs: each file finds its own folder again, alone or in another order.
    assert output_folders([second], out) == [out / "meeting-2"]
    assert output_folders([second, first], out) == [out / "meeting-2", out / "meeting"]
    again = run("transcribe", str(second), "-o", str(out))
    assert again.returncode == 0 and "already transcribed in" in again.stderr and "meeting-2" in again.stderr


def test_an_output_folder_that_cannot_be_made_is_a_per_file_error(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "trade-fair").write_text("a file where the folder should be")
    result = run("transcribe", str(SHORT), str(OTHER), "-o", str(out), "--format", "txt")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "trade-fair" in result.stderr and "cannot write the output" in result.stderr
    assert (out / "onboarding-plan" / "transcript.txt").read_text()  # the next file ran

    blocked = tmp_path / "plain-file"
    blocked.write_text("x")
    with pytest.raises(OutputError, match="plain-file"):
        TranscriptWriter(blocked / "sub")
    for read_only in (Path("/proc/llmkit-test"), Path("/sys/llmkit-test")):
        with pytest.raises(OutputError, match="llmkit-test"):
            TranscriptWriter(read_only / "meeting")


def test_minutes_written_where_they_cannot_be_are_a_per_file_error(engine, tmp_path):
    pipeline = MinutesPipeline(MinutesOptions(formats=("md", "json")), engine=engine)
    first, second = small_transcript(tmp_path / "first.txt"), small_transcript(tmp_path / "second.txt")
    out = tmp_path / "out"
    out.mkdir()
    (out / "first").write_text("in the way")
    events = list(stream_batch(pipeline, [first, second], out))
    errors = [e for e in events if e.error is not None]
    assert len(errors) == 1 and isinstance(errors[0].error, OutputError) and "first" in str(errors[0].error)
    assert type(events[-1].event).__name__ == "MinutesDone" and (out / "second" / "minutes.json").is_file()
    assert sorted(p.name for p in (out / "second").iterdir()) == ["minutes.json", "minutes.md"]  # no temp files


def test_malformed_transcripts(tmp_path):
    bad_time = tmp_path / "bad.json"
    bad_time.write_text(json.dumps({"segments": [{"start": 0, "end": 2, "text": "Hi."}, {"start": "abc", "text": "x"}]}))
    with pytest.raises(InvalidInputError, match=r"bad.json: segments\[1\].*'abc'"):
        read_transcript(bad_time)
    bad_words = tmp_path / "words.json"
    bad_words.write_text(json.dumps({"segments": [{"start": 0, "end": 2, "text": "Hi.", "words": [{"end": 1}]}]}))
    with pytest.raises(InvalidInputError, match=r"words.json: segments\[0\]"):
        read_transcript(bad_words)
    cues = tmp_path / "cues.srt"
    cues.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nHi Marcus.\n\n"
        "2\n00:00:04,000 --> 0:0:xx\nMarcus, please book the security review by Thursday.\n\n"
        "3\n00:00:09,000 --> 00:00:11,000\nWill do.\n"
    )
    transcript = read_transcript(cues)
    assert [s.text for s in transcript.segments][1].startswith("Marcus, please book")
    assert len(transcript.warnings) == 1 and "cue 2" in transcript.warnings[0] and "cues.srt" in transcript.warnings[0]
    short_vtt = tmp_path / "short.vtt"
    short_vtt.write_text("WEBVTT\n\nNOTE a comment\n\n00:01.500 --> 00:03.000\nMinutes and seconds only.\n")
    (segment,) = read_transcript(short_vtt).segments
    assert segment.start == 1.5 and not read_transcript(short_vtt).warnings


def test_cli_minutes_batch_with_malformed_inputs_prints_json_lines(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"segments": [{"start": "abc", "end": 1, "text": "Hi."}]}))
    cues = tmp_path / "cues.srt"
    cues.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nHi Marcus, hi Elena.\n\n"
        "2\n00:00:04,000 --> garbage\nMarcus, please book the security review by Thursday.\n\n"
        "3\n00:00:09,000 --> 00:00:11,000\nWill do.\n"
    )
    plain = small_transcript(tmp_path / "plain.txt")
    out = tmp_path / "out"
    result = run("minutes", str(bad), str(cues), str(plain), "-o", str(out), "--json", "--format", "json", timeout=1200)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error:" in result.stderr and "bad.json: segments[0]" in result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]  # JSON Lines: one object a line
    assert [Path(d["source"]).name for d in documents] == ["cues.srt", "plain.txt"]
    booked = documents[0]["action_items"]
    assert [(i["owner"], i["due"]) for i in booked] == [("Marcus", "Thursday")]
    assert any("cue 2" in w for w in documents[0]["warnings"])
    assert not (out / "bad").exists()
    assert "JSON Lines" in " ".join(run("minutes", "--help").stdout.split())


def test_a_rerun_after_a_crash_in_the_map_step_reuses_the_transcript(engine, tmp_path):
    out = tmp_path / "out"
    failing = MinutesPipeline(MinutesOptions(formats=("json",)), engine=ScriptedEngine(engine, ["x"], fail_on_call=1))
    events = list(stream_batch(failing, [SHORT], out))
    assert isinstance(events[-1].error, EndpointError)
    folder = out / "trade-fair"
    assert json.loads((folder / "transcript.json").read_text())["segments"]
    messages = [e.event.message for e in stream_batch(MinutesPipeline(engine=engine), [SHORT], out) if _progress(e)]
    assert "transcript.json reused" in messages and not any("of the audio" in m for m in messages)
    assert (folder / "minutes.json").is_file()
    forced = [e.event.message for e in stream_batch(failing, [SHORT], out, force=True) if _progress(e)]
    assert any("of the audio" in m for m in forced)  # --force transcribes again
    assert (folder / "minutes.json").is_file() and (folder / "transcript.txt").read_text()


def _progress(batch_event) -> bool:
    return isinstance(batch_event.event, MinutesProgress)

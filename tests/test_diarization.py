"""Speaker diarization (issue 16): the real Resemblyzer encoder on the committed scripted meetings, and the
bad inputs that must neither crash nor invent speakers (one voice, two similar voices, overlapping speech,
a very short file, music and noise)."""

from __future__ import annotations

import json
import sys
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from llmkit.asr import (
    SAMPLE_RATE,
    DiarizationOptions,
    Segment,
    SpeakerTurn,
    Transcriber,
    TranscriptionOptions,
    VoiceAnchor,
    Word,
    create_diarizer,
    diarization_error_rate,
    diarize,
    diarizer_names,
    read_windows,
    turns_of,
)
from llmkit.asr.diarization import assign_speakers, pieces
from llmkit.asr.voiceprint import mel_frames
from llmkit.errors import ConfigError, MissingExtraError

MEETINGS = Path(__file__).resolve().parents[1] / "benchmarks" / "meetings"


def _audio(name: str) -> np.ndarray:
    return np.concatenate([w.samples for w in read_windows(MEETINGS / f"{name}.mp3")])


def _lines(name: str) -> list[dict]:
    return json.loads((MEETINGS / f"{name}.lines.json").read_text())


def _write_wav(path: Path, samples: np.ndarray) -> Path:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path


def _clip(audio: np.ndarray, lines: list[dict], path: Path) -> tuple[Path, list[Segment], list[SpeakerTurn]]:
    """The given lines, cut out of a meeting and joined with 0.5 s pauses; their segments and turns."""
    parts, segments, turns, at = [], [], [], 0.0
    for line in lines:
        piece = audio[int(line["start"] * SAMPLE_RATE) : int(line["end"] * SAMPLE_RATE)]
        parts += [piece, np.zeros(SAMPLE_RATE // 2, dtype=np.float32)]
        end = at + len(piece) / SAMPLE_RATE
        segments.append(Segment(at, end, line["text"]))
        turns.append(SpeakerTurn(at, end, line["speaker"]))
        at = end + 0.5
    return _write_wav(path, np.concatenate(parts)), segments, turns


@pytest.fixture(scope="module")
def diarizer():
    return create_diarizer("resemblyzer")


def test_mel_matches_librosa_on_real_speech():
    """The encoder's input without librosa's JIT start-up: same numbers as librosa.feature.melspectrogram."""
    import librosa

    audio = _audio("speakers-pair")
    for start in (0, 5 * SAMPLE_RATE, 20 * SAMPLE_RATE + 123):
        wav = audio[start : start + 3 * SAMPLE_RATE]
        reference = librosa.feature.melspectrogram(y=wav, sr=SAMPLE_RATE, n_fft=400, hop_length=160, n_mels=40).T
        np.testing.assert_allclose(mel_frames(wav), reference, rtol=2e-3, atol=1e-6)


def test_pieces_cut_at_pauses_and_long_runs():
    words = tuple(Word(i * 0.5, i * 0.5 + 0.4, f" w{i}") for i in range(6)) + (Word(4.0, 4.4, " after"),)
    found = pieces([Segment(0.0, 4.4, "text", words)])
    assert found[-1] == (4.0, 4.4)  # a 1.1 s pause: another piece
    long_words = tuple(Word(i * 0.4, i * 0.4 + 0.38, f" w{i}") for i in range(25))  # 10 s without a pause
    assert all(end - start <= 3.0 for start, end in pieces([Segment(0.0, 10.0, "t", long_words)]))


def test_a_segment_spanning_two_speakers_becomes_two():
    words = (Word(0.0, 0.4, " Yes."), Word(0.5, 0.9, " I"), Word(1.0, 1.4, " agree."), Word(2.0, 2.4, " Thanks"))
    segment = Segment(0.0, 2.4, "Yes. I agree. Thanks", words)
    turns = [SpeakerTurn(0.0, 1.5, "SPEAKER_1"), SpeakerTurn(1.9, 2.5, "SPEAKER_2")]
    first, second = assign_speakers([segment], turns)
    assert (first.speaker, first.text, first.start) == ("SPEAKER_1", "Yes. I agree.", 0.0)
    assert (second.speaker, second.text, second.end) == ("SPEAKER_2", "Thanks", 2.4)


def test_der_is_zero_for_a_relabelled_match_and_counts_confusion():
    reference = [SpeakerTurn(0, 10, "Dana"), SpeakerTurn(10, 20, "Omar")]
    assert diarization_error_rate(reference, [SpeakerTurn(0, 10, "B"), SpeakerTurn(10, 20, "A")]) == 0.0
    one = [SpeakerTurn(0, 20, "A")]
    assert diarization_error_rate(reference, one, collar=0.0) == pytest.approx(0.5, abs=0.01)
    assert diarization_error_rate(reference, [], collar=0.0) == pytest.approx(1.0, abs=0.01)


def test_two_different_voices_are_found_and_told_apart(diarizer):
    """Whisper's segments (word times) of the two-person meeting, diarized without a count."""
    transcript = Transcriber(options=TranscriptionOptions(word_timestamps=True)).transcribe(
        MEETINGS / "speakers-pair.mp3"
    )
    segments, speakers = diarize(MEETINGS / "speakers-pair.mp3", transcript.segments, DiarizationOptions(), diarizer)
    reference = [SpeakerTurn(x["start"], x["end"], x["speaker"]) for x in _lines("speakers-pair")]
    assert len(speakers) == 2
    assert diarization_error_rate(reference, turns_of(segments)) < 0.15
    assert all(s.speaker for s in segments)


def test_one_speaker_only_stays_one(tmp_path, diarizer):
    lines = [x for x in _lines("speakers-five") if x["speaker"] == "Anna"]
    path, segments, _ = _clip(_audio("speakers-five"), lines, tmp_path / "anna.wav")
    labelled, speakers = diarize(path, segments, DiarizationOptions(), diarizer)
    assert [s.label for s in speakers] == ["SPEAKER_1"]
    assert {s.speaker for s in labelled} == {"SPEAKER_1"}


def test_two_similar_voices_never_become_more_than_two(tmp_path, diarizer):
    """espeak-ng's en-gb and en-us (Liam, Noah) sound alike to the encoder: at most two, never invented."""
    lines = [x for x in _lines("hiring-sync") if x["speaker"] in ("Liam", "Noah")]
    path, segments, _ = _clip(_audio("hiring-sync"), lines, tmp_path / "similar.wav")
    _, speakers = diarize(path, segments, DiarizationOptions(), diarizer)
    assert 1 <= len(speakers) <= 2


def test_overlapping_speech_does_not_crash_or_invent(tmp_path, diarizer):
    audio, lines = _audio("speakers-pair"), _lines("speakers-pair")
    dana = [x for x in lines if x["speaker"] == "Dana"][:3]
    mark = [x for x in lines if x["speaker"] == "Mark"][:3]
    mixed = []
    for a, b in zip(dana, mark, strict=True):  # both talking at once, then each alone
        one = audio[int(a["start"] * SAMPLE_RATE) : int(a["end"] * SAMPLE_RATE)]
        two = audio[int(b["start"] * SAMPLE_RATE) : int(b["end"] * SAMPLE_RATE)]
        size = max(len(one), len(two))
        mixed.append(np.pad(one, (0, size - len(one))) * 0.6 + np.pad(two, (0, size - len(two))) * 0.6)
    samples = np.concatenate(mixed)
    path = _write_wav(tmp_path / "overlap.wav", samples)
    total = len(samples) / SAMPLE_RATE
    segments = [Segment(i * total / 6, (i + 1) * total / 6, "talk") for i in range(6)]
    labelled, speakers = diarize(path, segments, DiarizationOptions(), diarizer)
    assert 1 <= len(speakers) <= 2
    assert len(labelled) == 6


def test_a_very_short_file_is_one_speaker(tmp_path, diarizer):
    audio = _audio("speakers-pair")[: int(0.6 * SAMPLE_RATE)]
    path = _write_wav(tmp_path / "short.wav", audio)
    labelled, speakers = diarize(path, [Segment(0.0, 0.6, "Hi")], DiarizationOptions(), diarizer)
    assert [s.label for s in speakers] == ["SPEAKER_1"] and labelled[0].speaker == "SPEAKER_1"


def test_music_and_noise_do_not_crash_or_invent(tmp_path, diarizer):
    rng = np.random.default_rng(0)
    t = np.arange(12 * SAMPLE_RATE) / SAMPLE_RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) * 0.1
    noise = rng.normal(0, 0.05, len(t))
    samples = np.concatenate([chord, noise]).astype(np.float32)
    path = _write_wav(tmp_path / "music.wav", samples)
    segments = [Segment(i * 3.0, i * 3.0 + 2.5, "la") for i in range(8)]  # what a hallucinating ASR might give
    labelled, speakers = diarize(path, segments, DiarizationOptions(), diarizer)
    assert len(speakers) <= 2 and len(labelled) == 8
    assert diarize(path, [], DiarizationOptions(), diarizer) == ([], [])


def test_a_speaker_count_hint_is_obeyed(diarizer):
    lines = _lines("speakers-quiet")
    segments = [Segment(x["start"], x["end"], x["text"]) for x in lines]
    _, speakers = diarize(MEETINGS / "speakers-quiet.mp3", segments, DiarizationOptions(speakers=2), diarizer)
    assert len(speakers) == 2


def test_introductions_keep_alike_voices_apart(tmp_path, diarizer):
    """Ben, David and Eric (espeak male voices, close in pitch and to the encoder) each said who they are:
    with their introductions as anchors they are three people; a group split from one voice by two names
    that the voices do not back stays one (a misheard name does not invent a speaker)."""
    lines = [x for x in _lines("speakers-five") if x["speaker"] in ("Ben", "David", "Eric")]
    path, segments, turns = _clip(_audio("speakers-five"), lines, tmp_path / "three.wav")
    first = {t.speaker: t for t in reversed(turns)}  # each one's first line is their introduction
    anchors = tuple(VoiceAnchor(t.start, t.end, name) for name, t in first.items())
    labelled, speakers = diarize(path, segments, DiarizationOptions(anchors=anchors), diarizer)
    intro_labels = {labelled[turns.index(t)].speaker for t in first.values()}
    assert len(intro_labels) == 3 and len(speakers) == 3

    anna = [x for x in _lines("speakers-five") if x["speaker"] == "Anna"]
    path, segments, turns = _clip(_audio("speakers-five"), anna, tmp_path / "anna.wav")
    misheard = (VoiceAnchor(turns[0].start, turns[0].end, "anna"), VoiceAnchor(turns[1].start, turns[1].end, "hanna"))
    _, speakers = diarize(path, segments, DiarizationOptions(anchors=misheard), diarizer)
    assert len(speakers) <= 2  # never more people than names and voices


def test_decoded_samples_give_the_same_speakers_as_reading_the_file_again(tmp_path, diarizer):
    """The transcriber hands over the window it decoded (no second decode); the result is the same."""
    lines = [x for x in _lines("speakers-pair")][:6]
    path, segments, _ = _clip(_audio("speakers-pair"), lines, tmp_path / "pair.wav")
    from_file = diarize(path, segments, DiarizationOptions(), diarizer)
    from_samples = diarize(path, segments, DiarizationOptions(), diarizer, list(read_windows(path)))
    assert from_file == from_samples and len(from_file[1]) == 2
    transcriber = Transcriber(options=TranscriptionOptions(diarize="on"), diarizer=diarizer)
    transcript = transcriber.transcribe(path)
    assert len(transcript.speakers) == 2 and transcriber._decoded is None  # the samples are let go


def test_distances_to_others_match_the_square_matrix_and_long_recordings_are_sampled(monkeypatch):
    from llmkit.asr import voiceprint

    rng = np.random.default_rng(0)
    prints = []
    voice = [(k // 5) % 2 for k in range(40)]  # two people taking turns, five pieces each
    for k in range(40):
        embedding = rng.normal(size=256) + (5.0 if voice[k] else -5.0)
        pitch = float(np.log(100 + 80 * voice[k]))
        prints.append(voiceprint.Voiceprint(embedding / np.linalg.norm(embedding), pitch, rng.normal(size=12)))
    square = voiceprint.distances(prints)
    np.testing.assert_allclose(voiceprint.distances(prints[:5], prints[5:9]), square[:5, 5:9], atol=1e-9)
    monkeypatch.setattr(voiceprint, "MAX_CLUSTERED", 10)  # only 10 clustered, the other 30 join them
    labels = voiceprint.cluster(prints, [2.0] * len(prints))
    assert len(set(labels)) == 2 and all(labels[k] == labels[5 * voice[k]] for k in range(len(prints)))


def _voices(counts: list[int], seed: int = 0) -> list:
    """Made-up prints: `counts[v]` pieces of voice v, voices far apart (encoder, pitch) and pieces close."""
    from llmkit.asr import voiceprint

    rng = np.random.default_rng(seed)
    centres = [rng.normal(size=256) for _ in counts]
    prints = []
    for v, count in enumerate(counts):
        for _ in range(count):
            embedding = centres[v] + 0.05 * rng.normal(size=256)
            pitch = float(np.log(90 * 1.3**v))
            prints.append(voiceprint.Voiceprint(embedding / np.linalg.norm(embedding), pitch, np.zeros(12)))
    return prints


def test_a_given_count_holds_with_a_short_voice_and_with_more_introductions():
    from llmkit.asr.voiceprint import cluster

    prints = _voices([6, 6, 1])  # a third voice heard once, briefly
    durations = [2.0] * 12 + [1.6]
    assert len(set(cluster(prints, durations, speakers=3))) == 3
    assert len(set(cluster(_voices([4, 4, 4]), [2.0] * 12, speakers=2, anchors={0: "a", 4: "b", 8: "c"}))) == 2
    assert len(set(cluster(_voices([4, 4, 4]), [2.0] * 12, anchors={0: "a", 4: "b", 8: "c"}))) == 3


def test_a_given_count_splits_two_voices_rather_than_count_an_outlier():
    """With a count of 3, merging down can leave a short outlier of one voice counted as a person while two
    close voices share a group; the outlier then joins its voice and the two voices are told apart."""
    from llmkit.asr import voiceprint

    rng = np.random.default_rng(1)
    shared = rng.normal(size=256)

    def piece(hz: float):
        embedding = shared + 0.05 * rng.normal(size=256)
        return voiceprint.Voiceprint(embedding / np.linalg.norm(embedding), float(np.log(hz)), np.zeros(12))

    voice_a, voice_b, voice_c = 100.0, 200.0, 200.0 * np.exp(0.216)  # b and c: about 0.9 apart, a far away
    prints = [piece(voice_a) for _ in range(6)] + [piece(voice_a * np.exp(0.31))]  # a's outlier, 1.5 s
    prints += [piece(voice_b) for _ in range(4)] + [piece(voice_c) for _ in range(4)]
    labels = voiceprint.cluster(prints, [2.0] * 6 + [1.5] + [2.0] * 8, speakers=3)
    assert len(set(labels)) == 3
    assert labels[6] == labels[0]  # the outlier is a's
    assert len({labels[7], labels[11]}) == 2 and len(set(labels[7:11])) == 1 and len(set(labels[11:])) == 1


def test_a_given_count_keeps_a_brief_distinct_voice_in_a_long_meeting():
    """The trade above is for a voice's outlier: a third person heard for 3 s, far from both long voices, keeps
    their place, however much the long voices say (whose own pieces vary in pitch)."""
    from llmkit.asr import voiceprint

    rng = np.random.default_rng(2)
    centres = [rng.normal(size=256) for _ in range(3)]

    def piece(voice: int, hz: float):
        embedding = centres[voice] + 0.05 * rng.normal(size=256)
        return voiceprint.Voiceprint(embedding / np.linalg.norm(embedding), float(np.log(hz)), np.zeros(12))

    prints = [piece(v, hz * np.exp(rng.normal(0, 0.2))) for v, hz in ((0, 100.0), (1, 130.0)) for _ in range(200)]
    prints += [piece(2, 240.0), piece(2, 240.0)]  # 400 s from the two long voices, 3 s from the third
    labels = voiceprint.cluster(prints, [2.0] * 400 + [1.5, 1.5], speakers=3)
    assert len(set(labels)) == 3
    assert labels[400] == labels[401] and labels[400] not in set(labels[:400])
    assert len(set(labels[:200])) == 1 and len(set(labels[200:400])) == 1


def test_an_anchor_of_no_length_finds_the_piece_around_it():
    from llmkit.asr.diarization import anchored_pieces

    spans = [(0.0, 2.0), (2.5, 4.0)]
    assert anchored_pieces(spans, (VoiceAnchor(1.0, 1.0, "x"), VoiceAnchor(3.0, 3.2, "y"))) == {0: "x", 1: "y"}
    assert anchored_pieces(spans, (VoiceAnchor(2.2, 2.2, "z"),)) == {}  # in a pause: no piece claims it


def test_registry_and_missing_extras(monkeypatch, tmp_path):
    assert diarizer_names() == ["pyannote", "resemblyzer"]
    with pytest.raises(ConfigError, match="unknown diarizer 'nope'"):
        create_diarizer("nope")
    monkeypatch.setitem(sys.modules, "resemblyzer", None)  # as if the speakers extra were not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'llmkit\[speakers\]'"):
        _ = create_diarizer("resemblyzer").encoder
    monkeypatch.setitem(sys.modules, "pyannote.audio", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'llmkit\[speakers\]'"):
        create_diarizer("pyannote").turns(tmp_path / "x.wav", [], DiarizationOptions())


def test_auto_mode_without_the_extra_warns_and_keeps_the_transcript(monkeypatch):
    monkeypatch.setitem(sys.modules, "resemblyzer", None)
    transcriber = Transcriber(options=TranscriptionOptions(diarize="auto"))
    from llmkit.asr import Transcript

    transcript = Transcript("x.wav", [Segment(0.0, 1.0, "Hello.")], 1.0)
    result = transcriber.diarized(MEETINGS / "speakers-pair.mp3", transcript)
    assert result.segments[0].speaker == "" and "llmkit[speakers]" in result.warnings[0]


def _framed(voice_means: list[np.ndarray], voices: list[int], seed: int = 0) -> list:
    """Made-up prints whose frames (MFCC-like, 19 numbers) come from one Gaussian per voice; the prints
    themselves say nothing (the same embedding, pitch and timbre for everyone)."""
    from llmkit.asr import voiceprint

    rng = np.random.default_rng(seed)
    embedding = np.ones(256) / 16.0
    return [
        voiceprint.Voiceprint(
            embedding, 4.6, np.zeros(12), (voice_means[v] + rng.normal(size=(150, 19))).astype(np.float16)
        )
        for v in voices
    ]


def test_resegmentation_moves_a_piece_to_the_voice_its_frames_fit():
    """Each group's mixture is trained on its pieces' frames and each piece goes where its frames fit best; an
    introduction's piece stays with its person; a round that would empty a group is not taken."""
    from llmkit.asr.voiceprint import resegment

    rng = np.random.default_rng(3)
    means = [rng.normal(scale=1.5, size=19) for _ in range(2)]
    voices = [0] * 6 + [1] * 6
    prints = _framed(means, voices)
    groups = [1] * 6 + [2] * 6
    groups[2], groups[8], groups[9] = 2, 1, 1  # three pieces in the wrong group
    assert resegment(prints, groups, fixed=set()) == [1] * 6 + [2] * 6
    assert resegment(prints, groups, fixed={8})[8] == 1  # an introduction's piece is not moved
    lone = [1] * 11 + [2]  # one voice in two groups: its lone piece would join the rest and empty its group
    assert resegment(_framed(means, [0] * 12), lone, fixed=set()) == lone
    no_frames = [replace(p, frames=None) for p in prints]
    assert resegment(no_frames, groups, fixed=set()) == groups  # prints without frames: nothing to go on


def test_resegmentation_on_real_voices_returns_misplaced_pieces(tmp_path, diarizer):
    """Real frames: the lines of the three men in the five-person meeting (whose prints alone confuse them),
    cut into pieces of at most 2.5 s. From the true groups nothing moves; a piece of David's put with Ben or
    with Eric goes back to David, each of them. (Ben's and Eric's voices are closer: measured, 80 % of all
    single misplacements return, none of the misses David's.)"""
    from llmkit.asr.voiceprint import resegment, voiceprints

    lines = [x for x in _lines("speakers-five") if x["speaker"] in ("Ben", "David", "Eric")]
    path, segments, turns = _clip(_audio("speakers-five"), lines, tmp_path / "men.wav")
    spans, truth = [], []
    for segment, turn in zip(segments, turns, strict=True):
        count = int(np.ceil((segment.end - segment.start) / 2.5))
        step = (segment.end - segment.start) / count
        spans += [(segment.start + k * step, segment.start + (k + 1) * step) for k in range(count)]
        truth += [{"Ben": 1, "David": 2, "Eric": 3}[turn.speaker]] * count
    prints = voiceprints(read_windows(path), spans, diarizer.encoder)
    assert all(p.frames is not None and p.frames.shape[1] == 19 for p in prints)
    assert resegment(prints, truth, fixed=set()) == truth
    for i in [i for i, group in enumerate(truth) if group == 2]:
        for elsewhere in (1, 3):
            misplaced = truth[:i] + [elsewhere] + truth[i + 1 :]
            assert resegment(prints, misplaced, fixed=set()) == truth, (i, elsewhere)

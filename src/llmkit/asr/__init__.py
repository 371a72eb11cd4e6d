"""Speech to text: audio in any format ffmpeg reads -> timed transcript, window by window."""

from llmkit.asr.audio import SAMPLE_RATE, AudioError, read_windows
from llmkit.asr.diarization import (
    DiarizationOptions,
    Diarizer,
    SpeakerTurn,
    create_diarizer,
    diarization_error_rate,
    diarize,
    diarizer_names,
    register_diarizer,
    turns_of,
)
from llmkit.asr.engines import AsrEngine, asr_engine_names, register_asr_engine
from llmkit.asr.files import (
    TRANSCRIPT_FORMATS,
    OutputError,
    TranscriptWriter,
    load_complete_transcript,
    output_folders,
    read_transcript,
    remove_if_empty,
    short_clock,
)
from llmkit.asr.service import DIARIZE_MODES, NoSpeechError, SpeakerNamer, Transcriber, TranscriptionEvent
from llmkit.asr.types import (
    Segment,
    Speaker,
    Transcript,
    TranscriptionOptions,
    TranscriptionProgress,
    TranscriptionSegment,
    Word,
)

__all__ = [
    "DIARIZE_MODES",
    "SAMPLE_RATE",
    "TRANSCRIPT_FORMATS",
    "AsrEngine",
    "AudioError",
    "DiarizationOptions",
    "Diarizer",
    "NoSpeechError",
    "OutputError",
    "Segment",
    "Speaker",
    "SpeakerNamer",
    "SpeakerTurn",
    "Transcriber",
    "Transcript",
    "TranscriptWriter",
    "TranscriptionEvent",
    "TranscriptionOptions",
    "TranscriptionProgress",
    "TranscriptionSegment",
    "Word",
    "asr_engine_names",
    "create_diarizer",
    "diarization_error_rate",
    "diarize",
    "diarizer_names",
    "load_complete_transcript",
    "output_folders",
    "read_transcript",
    "read_windows",
    "register_asr_engine",
    "register_diarizer",
    "remove_if_empty",
    "short_clock",
    "turns_of",
]

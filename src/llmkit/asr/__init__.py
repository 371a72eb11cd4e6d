"""Speech to text: audio in any format ffmpeg reads -> timed transcript, window by window."""

from llmkit.asr.audio import SAMPLE_RATE, AudioError, read_windows
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
from llmkit.asr.service import NoSpeechError, Transcriber, TranscriptionEvent
from llmkit.asr.types import (
    Segment,
    Transcript,
    TranscriptionOptions,
    TranscriptionProgress,
    TranscriptionSegment,
    Word,
)

__all__ = [
    "SAMPLE_RATE",
    "TRANSCRIPT_FORMATS",
    "AsrEngine",
    "AudioError",
    "NoSpeechError",
    "OutputError",
    "Segment",
    "Transcriber",
    "Transcript",
    "TranscriptWriter",
    "TranscriptionEvent",
    "TranscriptionOptions",
    "TranscriptionProgress",
    "TranscriptionSegment",
    "Word",
    "asr_engine_names",
    "load_complete_transcript",
    "output_folders",
    "read_transcript",
    "read_windows",
    "register_asr_engine",
    "remove_if_empty",
    "short_clock",
]

"""Speech to text: audio in any format ffmpeg reads -> timed transcript, window by window."""

from llmkit.asr.audio import AudioError
from llmkit.asr.engines import AsrEngine, asr_engine_names, register_asr_engine
from llmkit.asr.files import TRANSCRIPT_FORMATS, OutputError, TranscriptWriter, output_folders, read_transcript
from llmkit.asr.service import NoSpeechError, Transcriber
from llmkit.asr.types import Segment, Transcript, TranscriptionOptions, TranscriptionProgress, Word

__all__ = [
    "TRANSCRIPT_FORMATS",
    "AsrEngine",
    "AudioError",
    "NoSpeechError",
    "OutputError",
    "Segment",
    "Transcriber",
    "Transcript",
    "TranscriptWriter",
    "TranscriptionOptions",
    "TranscriptionProgress",
    "Word",
    "asr_engine_names",
    "output_folders",
    "read_transcript",
    "register_asr_engine",
]

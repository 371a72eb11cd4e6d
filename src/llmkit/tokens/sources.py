"""Where tokenizers come from: a registry of built-in offline tokenizers, plus any model the catalog resolves.

A name resolves in this order: built-in tokenizer name or alias, catalog model (by family), OpenAI model
name, local file or folder (tokenizer.json folder, .gguf, sentencepiece .model), hub id.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmkit.config import Settings, load_settings
from llmkit.errors import InvalidInputError, LlmkitError, MissingAssetError, UnknownTokenizerError
from llmkit.models import (
    LLAMA3_TOKENIZER,
    MISTRAL_TOKENIZERS,
    OPENAI_VOCABULARIES,
    QWEN_TOKENIZER,
    SMOLLM2_GGUF,
    EmbeddedAsset,
)
from llmkit.tokens import formats
from llmkit.tokens.engines import HFEngine, SentencePieceEngine, TiktokenEngine, TokenizerEngine

Builder = Callable[[Path, Settings], TokenizerEngine]


@dataclass(frozen=True)
class TokenizerSource:
    name: str
    description: str
    asset: EmbeddedAsset
    build: Builder
    aliases: tuple[str, ...] = ()
    families: tuple[str, ...] = ()  # catalog families whose models use this tokenizer
    template: str | None = None  # named chat format for tokenizers that ship no template of their own
    price_per_m_tokens: float = 0.0  # default for cost estimates when no catalog model sets one
    price_source: str = ""

    def location(self) -> Path | None:
        return self.asset.path()

    def to_dict(self) -> dict[str, Any]:
        path = self.location()
        return {
            "name": self.name,
            "description": self.description,
            "aliases": list(self.aliases),
            "available": path is not None,
            "from": f"{self.asset.package} {self.asset.version}",
            "path": str(path) if path else None,
            "install": None if path else self.asset.install_line,
        }


_SOURCES: dict[str, TokenizerSource] = {}


def register_tokenizer(source: TokenizerSource) -> TokenizerSource:
    """Register a tokenizer source; extensions call this the same way the built-ins do."""
    _SOURCES[source.name] = source
    return source


def builtin_tokenizers() -> list[TokenizerSource]:
    return list(_SOURCES.values())


# -- builders -------------------------------------------------------------------------------------------


def _smollm2(_path: Path, settings: Settings) -> TokenizerEngine:
    from llmkit.models import Catalog

    return engine_for_model_source(_converted_gguf_source(Catalog.load(settings).resolve("smollm2"), settings))


def _converted_gguf_source(entry: Any, settings: Settings) -> str:
    # The generation engine reads the same converted tokenizer: one conversion, cached, for both.
    from llmkit.models import weights_source

    return weights_source(entry, settings)[0]


def _llama3(path: Path, _settings: Settings) -> TokenizerEngine:
    config = json.loads((path / "tokenizer_config.json").read_text())
    specials = {token["content"]: int(token_id) for token_id, token in config["added_tokens_decoder"].items()}
    return TiktokenEngine(
        "llama3",
        formats.read_tiktoken_ranks(path / "tokenizer.model"),
        formats.LLAMA3_PATTERN,
        specials,
        bos=config.get("bos_token"),
        eos=config.get("eos_token"),
        pad=config.get("pad_token"),
    )


def _mistral(path: Path, _settings: Settings) -> TokenizerEngine:
    return SentencePieceEngine(str(path / "tokenizer.model.v1"))


QWEN2_SPECIALS = {"<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645}


def _qwen2(path: Path, _settings: Settings) -> TokenizerEngine:
    return TiktokenEngine(
        "qwen2",
        formats.read_tiktoken_ranks(path),
        formats.QWEN2_PATTERN,
        QWEN2_SPECIALS,
        eos="<|im_end|>",
        pad="<|endoftext|>",
        nfc=True,
    )


def _openai(encoding: str, pattern: str) -> Builder:
    def build(path: Path, _settings: Settings) -> TokenizerEngine:
        ranks = formats.read_quicktok_vocab(path / f"{encoding}.vocab")
        specials = formats.read_quicktok_specials(path / f"{encoding}.special")
        return TiktokenEngine(f"{encoding}_base", ranks, pattern, specials, eos="<|endoftext|>")

    return build


register_tokenizer(
    TokenizerSource(
        "smollm2",
        "SmolLM2 (49,152 ids; from the embedded GGUF)",
        SMOLLM2_GGUF,
        _smollm2,
        aliases=("smollm2-135m-instruct",),
        families=("smollm2",),
    )
)
register_tokenizer(
    TokenizerSource(
        "llama3",
        "Llama 3 / 3.1 / 3.2 (128,256 ids)",
        LLAMA3_TOKENIZER,
        _llama3,
        aliases=("llama-3", "llama-3.1", "llama-3.2"),
        families=("llama-3.1",),
        template="llama3",
        # Together AI's list price for Llama 3.1 8B Instruct Turbo at launch (July 2024), USD per 1M tokens.
        price_per_m_tokens=0.18,
        price_source="Together AI, Llama 3.1 8B Turbo (2024-07)",
    )
)
register_tokenizer(
    TokenizerSource(
        "mistral",
        "Mistral 7B / Mixtral 8x7B, sentencepiece v1 (32,000 ids)",
        MISTRAL_TOKENIZERS,
        _mistral,
        aliases=("mixtral", "mistral-v1"),
        families=("mixtral", "mistral"),
        template="mistral",
        price_per_m_tokens=0.60,
        price_source="Together AI, Mixtral 8x7B Instruct (2024)",
    )
)
register_tokenizer(
    TokenizerSource(
        "qwen2",
        "Qwen / Qwen2 / Qwen2.5 BPE (151,646 ids)",
        QWEN_TOKENIZER,
        _qwen2,
        aliases=("qwen", "qwen2.5"),
        families=("qwen2",),
        template="chatml",
    )
)
register_tokenizer(
    TokenizerSource(
        "cl100k",
        "OpenAI cl100k_base (GPT-4, GPT-3.5 Turbo)",
        OPENAI_VOCABULARIES,
        _openai("cl100k", formats.CL100K_PATTERN),
        aliases=("cl100k_base", "gpt-4", "gpt-4-turbo", "gpt-3.5-turbo"),
        price_per_m_tokens=10.0,
        price_source="OpenAI, GPT-4 Turbo input (2024)",
    )
)
register_tokenizer(
    TokenizerSource(
        "o200k",
        "OpenAI o200k_base (GPT-4o, o1, o3)",
        OPENAI_VOCABULARIES,
        _openai("o200k", formats.O200K_PATTERN),
        aliases=("o200k_base", "gpt-4o", "gpt-4o-mini", "o1", "o3"),
        price_per_m_tokens=2.50,
        price_source="OpenAI, GPT-4o input (2024-08)",
    )
)


# -- models outside the built-ins ------------------------------------------------------------------------


def engine_for_model_source(source: str) -> HFEngine:
    """A tokenizer through transformers (local folder or hub id), keeping its roles and chat template."""
    from llmkit.models import load_tokenizer

    try:
        loaded = load_tokenizer(source)
    except (OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = (
            ""
            if Path(source).exists()
            else (
                " (not a local folder and not in the hub cache; download it once while online, or point at a folder "
                "with tokenizer.json)"
            )
        )
        raise LlmkitError(f"could not load a tokenizer from {source!r}{where}: {reason}") from exc
    if not hasattr(loaded, "backend_tokenizer"):
        raise LlmkitError(f"{source!r} has only a slow (Python) tokenizer; llmkit needs a tokenizer.json")
    roles = {role: getattr(loaded, f"{role}_token", None) for role in ("bos", "eos", "pad", "unk", "mask")}
    roles = {role: (str(value) if value is not None else None) for role, value in roles.items()}
    return HFEngine(loaded.backend_tokenizer, roles=roles, chat_template=_template_text(loaded))


def _template_text(loaded: Any) -> str | None:
    template = getattr(loaded, "chat_template", None)
    if isinstance(template, dict):  # several named templates: the default one
        return template.get("default") or next(iter(template.values()), None)
    return template


def _engine_for_path(path: Path) -> TokenizerEngine:
    if path.is_file() and ".model" in path.suffixes:  # tokenizer.model, tokenizer.model.v1, ...
        if path.read_bytes()[:1] != b"\n":  # a sentencepiece model is a protobuf; field 1 starts it
            raise InvalidInputError(
                f"{path} is not a sentencepiece model (a tiktoken rank file? those need their split pattern); "
                "point at the folder with tokenizer.json, or use a built-in tokenizer name"
            )
        return SentencePieceEngine(str(path))
    if path.suffix == ".gguf":
        return _engine_for_gguf(path)
    if path.is_file() and path.name == "tokenizer.json":
        path = path.parent
    return engine_for_model_source(str(path))


def _engine_for_gguf(path: Path) -> TokenizerEngine:
    from llmkit.models import entry_for_path

    return engine_for_model_source(_converted_gguf_source(entry_for_path(path), load_settings()))


@dataclass
class ResolvedTokenizer:
    name: str
    engine: TokenizerEngine
    source: TokenizerSource | None = None  # None for tokenizers loaded from a model, path or hub id
    price_per_m_tokens: float = 0.0
    price_source: str = ""
    template: str | None = None


def available_names() -> list[str]:
    return [source.name for source in _SOURCES.values() if source.location() is not None]


def _find_builtin(name: str) -> TokenizerSource | None:
    key = name.lower()
    for source in _SOURCES.values():
        if key == source.name or key in source.aliases:
            return source
    return None


@functools.lru_cache(maxsize=16)
def _build(source_name: str) -> TokenizerEngine:
    source = _SOURCES[source_name]
    path = source.location()
    if path is None:
        raise MissingAssetError(f"the {source.name} tokenizer files", source.asset.install_line)
    return source.build(path, load_settings())


def resolve_tokenizer(name: str, settings: Settings | None = None) -> ResolvedTokenizer:
    builtin = _find_builtin(name)
    if builtin is not None:  # before reading any config: encode and encode_batch resolve on every call
        return _resolved_builtin(builtin, builtin.name)
    settings = settings or load_settings()
    entry = _catalog_entry(name, settings)
    if entry is not None:
        for source in _SOURCES.values():
            if entry.family in source.families:
                resolved = _resolved_builtin(source, entry.name)
                if entry.price_per_m_tokens:
                    resolved.price_per_m_tokens, resolved.price_source = entry.price_per_m_tokens, "catalog"
                return resolved
        if entry.local_path or entry.hub_id:
            return _resolved_model(entry.name, entry.local_path or entry.hub_id, entry.price_per_m_tokens)
    path = Path(name).expanduser()
    if path.exists():
        return ResolvedTokenizer(str(path), _engine_for_path(path))
    from llmkit.models import looks_like_hub_id

    if looks_like_hub_id(name):
        return _resolved_model(name, name, 0.0)
    raise _unknown(name, settings)


def _resolved_builtin(source: TokenizerSource, shown_name: str) -> ResolvedTokenizer:
    return ResolvedTokenizer(
        shown_name, _build(source.name), source, source.price_per_m_tokens, source.price_source, source.template
    )


def _resolved_model(name: str, location: str, price: float) -> ResolvedTokenizer:
    engine = _engine_for_path(Path(location)) if Path(location).exists() else engine_for_model_source(location)
    return ResolvedTokenizer(name, engine, None, price, "catalog" if price else "")


def _catalog_entry(name: str, settings: Settings) -> Any:
    from llmkit.models import Catalog

    return Catalog.load(settings).get(name)


def _unknown(name: str, settings: Settings) -> UnknownTokenizerError:
    from llmkit.models import Catalog

    candidates = [n for s in _SOURCES.values() for n in (s.name, *s.aliases)] + Catalog.load(settings).names()
    close = difflib.get_close_matches(name.lower(), candidates, n=3, cutoff=0.5)
    return UnknownTokenizerError(name, close, available_names())

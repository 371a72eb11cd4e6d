"""In-process generation with llama.cpp (llama-cpp-python) on a GGUF file.

The prompt is rendered with the chat template stored in the GGUF, then decoded token by token by
llmkit's loop, so cancellation, stop strings and stats behave as in the transformers backend.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from llmkit.config import Settings
from llmkit.errors import MissingAssetError, ModelFileError, PromptTooLongError, UnsupportedError
from llmkit.extras import require
from llmkit.generation.backends.base import register_backend
from llmkit.generation.streaming import TokenStreamer, stream_tokens
from llmkit.generation.types import CancelToken, GenerationEvent, Prompt, SamplingParams
from llmkit.models.catalog import ModelEntry
from llmkit.models.loading import LoadOptions, check_gguf_file

DEFAULT_CONTEXT = 8192  # the KV cache llama.cpp allocates; capped by the model's own window


def _render_chat(llm: Any, prompt: Prompt) -> str:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    messages = [{"role": m.role, "content": m.content} for m in prompt.messages]
    if not template:
        return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "
    formatter = Jinja2ChatFormatter(  # the template may use bos_token / eos_token
        template=template,
        eos_token=llm._model.token_get_text(llm.token_eos()),
        bos_token=llm._model.token_get_text(llm.token_bos()),
    )
    return formatter(messages=messages).prompt


class LlamaCppBackend:
    name = "llamacpp"

    def __init__(self, entry: ModelEntry, settings: Settings, options: LoadOptions):
        llama_cpp = require("llama_cpp", "the llamacpp backend")
        if options.quantization != "none":
            raise UnsupportedError("the llamacpp backend runs the GGUF's own quantization; drop --quantization")
        path = entry.gguf_file
        if path is None:
            if entry.embedded is not None:
                raise MissingAssetError(f"the embedded model {entry.name}", entry.embedded.install_line)
            raise ModelFileError(entry.local_path or entry.name, "a .gguf file", "the llamacpp backend needs GGUF")
        check_gguf_file(path)
        self.entry = entry
        started = time.perf_counter()
        n_ctx = min(entry.context_length or DEFAULT_CONTEXT, DEFAULT_CONTEXT)
        try:
            self.llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=options.threads or os.cpu_count(),
                n_gpu_layers=-1 if options.device.startswith("cuda") else 0,
                verbose=False,
            )
        except ValueError as exc:
            raise ModelFileError(str(path), "a GGUF model llama.cpp can load", str(exc)) from exc
        self.load_s = time.perf_counter() - started
        self.context_length = n_ctx
        self._lock = threading.Lock()

    def _prompt_tokens(self, prompt: Prompt) -> list[int]:
        if prompt.raw is not None:
            return self.llm.tokenize(prompt.raw.encode(), add_bos=True, special=True)
        # The template writes its own BOS where it wants one; do not add another.
        return self.llm.tokenize(_render_chat(self.llm, prompt).encode(), add_bos=False, special=True)

    def count_prompt_tokens(self, prompt: Prompt) -> int:
        return len(self._prompt_tokens(prompt))

    def close(self) -> None:
        self.llm.close()

    def stream(self, prompt: Prompt, params: SamplingParams, cancel: CancelToken) -> Iterator[GenerationEvent]:
        started = time.perf_counter()
        tokens = self._prompt_tokens(prompt)
        if len(tokens) >= self.context_length:
            raise PromptTooLongError(len(tokens), self.context_length, self.entry.name)
        budget = min(params.max_new_tokens, self.context_length - len(tokens))
        with self._lock:
            yield from self._decode(tokens, params, budget, cancel, started)

    def _decode(
        self, tokens: list[int], params: SamplingParams, budget: int, cancel: CancelToken, started: float
    ) -> Iterator[GenerationEvent]:
        import llama_cpp

        llm = self.llm
        streamer = TokenStreamer(
            lambda ids: llm.detokenize(list(ids)).decode("utf-8", errors="replace"),
            params.stop,
            model=self.entry.name,
            backend=self.name,
            prompt_tokens=len(tokens),
            started=started,
        )
        if params.seed is not None:
            llm.set_seed(params.seed)
        llm.reset()
        grammar = None
        if params.json_schema is not None:
            grammar = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(params.json_schema), verbose=False)
        generator = llm.generate(
            tokens,
            grammar=grammar,
            temp=params.temperature,
            top_p=params.top_p,
            top_k=params.top_k,
            repeat_penalty=params.repetition_penalty,
            min_p=0.0,
            reset=True,
        )

        def is_end(token: int) -> bool:
            return bool(llama_cpp.llama_vocab_is_eog(llm._model.vocab, token)) and not params.ignore_eos

        yield from stream_tokens(generator, streamer, is_end=is_end, budget=budget, cancel=cancel)


@register_backend("llamacpp")
def _create(entry: ModelEntry, settings: Settings, options: LoadOptions) -> LlamaCppBackend:
    return LlamaCppBackend(entry, settings, options)

"""In-process generation with transformers, with llmkit's own decode loop.

The loop (prefill once, then one forward per token over a KV cache) replaces `generate()`: it checks
the cancel signal before every token, yields text as each token arrives, and skips the per-call
machinery `generate()` runs (logits processors, stopping criteria objects, streamer threads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from llmkit.config import Settings
from llmkit.errors import PromptTooLongError
from llmkit.generation.backends.base import register_backend
from llmkit.generation.sampling import Sampler
from llmkit.generation.streaming import TokenStreamer
from llmkit.generation.types import CancelToken, GenerationEvent, Prompt, SamplingParams, TextDelta
from llmkit.models.catalog import ModelEntry
from llmkit.models.loading import LoadedModel, LoadOptions, load_transformers, with_oom_retry


def render_prompt_ids(tokenizer: Any, prompt: Prompt) -> list[int]:
    """Token ids of the prompt: the model's own chat template, tokenized without a second BOS."""
    if prompt.raw is not None:
        return list(tokenizer(prompt.raw, add_special_tokens=True)["input_ids"])
    messages = [{"role": m.role, "content": m.content} for m in prompt.messages]
    if tokenizer.chat_template:
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        # The template already wrote any BOS it wants; adding special tokens again would double it.
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])
    text = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "
    return list(tokenizer(text, add_special_tokens=True)["input_ids"])


def stop_token_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), tokenizer):
        value = getattr(source, "eos_token_id", None)
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    return ids


def wants_fast_path(loaded: LoadedModel, options: LoadOptions) -> bool:
    """The lean CPU decoder, unless the user pinned a precision or quantization (then: plain forward)."""
    from llmkit.generation import fastpath

    return options.precision == "auto" and options.quantization == "none" and fastpath.supports(loaded.model)


class TransformersBackend:
    name = "transformers"

    def __init__(self, entry: ModelEntry, settings: Settings, options: LoadOptions):
        from llmkit.generation.fastpath import FastDecoder

        self.entry = entry
        self.loaded: LoadedModel = load_transformers(entry, options, settings)
        self._eos = stop_token_ids(self.loaded.model, self.loaded.tokenizer)
        self._lock = threading.Lock()  # one generation at a time per loaded model
        self.fast: FastDecoder | None = None
        if wants_fast_path(self.loaded, options):
            # 4-bit codes only where the source already was 4-bit (a Q4 GGUF): no new quantization loss.
            self.fast = FastDecoder(self.loaded.model, int4=self.loaded.source_weight_bits == 4)

    @property
    def context_length(self) -> int:
        return self.loaded.context_length

    def count_prompt_tokens(self, prompt: Prompt) -> int:
        return len(render_prompt_ids(self.loaded.tokenizer, prompt))

    def close(self) -> None:
        self.fast = None
        self.loaded.unload()

    def stream(self, prompt: Prompt, params: SamplingParams, cancel: CancelToken) -> Iterator[GenerationEvent]:
        started = time.perf_counter()
        prompt_ids = render_prompt_ids(self.loaded.tokenizer, prompt)
        limit = self.context_length
        if limit and len(prompt_ids) >= limit:
            raise PromptTooLongError(len(prompt_ids), limit, self.entry.name)
        budget = min(params.max_new_tokens, limit - len(prompt_ids)) if limit else params.max_new_tokens
        with self._lock:
            yield from self._decode(prompt_ids, params, budget, cancel, started)

    def _decode(
        self, prompt_ids: list[int], params: SamplingParams, budget: int, cancel: CancelToken, started: float
    ) -> Iterator[GenerationEvent]:
        import torch
        from transformers import DynamicCache

        model = self.loaded.model
        tokenizer = self.loaded.tokenizer
        streamer = TokenStreamer(
            lambda ids: tokenizer.decode(ids, skip_special_tokens=True),
            params.stop,
            model=self.entry.name,
            backend=self.name,
            prompt_tokens=len(prompt_ids),
            started=started,
        )
        sampler = Sampler(params, model.config.vocab_size)
        device = model.device
        input_ids = torch.tensor([prompt_ids], device=device)
        sampler.observe(input_ids[0].cpu())
        cache = DynamicCache(config=model.config)
        reason = "length"
        with torch.inference_mode():
            if self.fast is not None:
                logits = self.fast.start(prompt_ids)
            else:
                logits = self._forward(model, input_ids, cache, prefill=True)
            for _ in range(budget):
                if cancel.cancelled:
                    reason = "cancelled"
                    break
                token = sampler.choose(logits)
                if token in self._eos:
                    reason = "stop"
                    break
                sampler.observe(token)
                text = streamer.push(token)
                if text:
                    yield TextDelta(text)
                if streamer.stopped:
                    break
                if streamer.completion_tokens == budget:
                    break
                if self.fast is not None:
                    logits = self.fast.forward([token])
                else:
                    logits = self._forward(model, torch.tensor([[token]], device=device), cache, prefill=False)
        tail, finished = streamer.finish(reason)
        if tail:
            yield TextDelta(tail)
        yield finished

    def _forward(self, model: Any, input_ids: Any, cache: Any, prefill: bool) -> Any:
        def step() -> Any:
            out = model(input_ids=input_ids, cache=cache, use_cache=True, logits_to_keep=1)
            return out.logits[0, -1].cpu()

        if not prefill:
            return step()
        return with_oom_retry(step, "processing the prompt", "shorten the prompt, or load with --quantization 4bit")


@register_backend("transformers")
def _create(entry: ModelEntry, settings: Settings, options: LoadOptions) -> TransformersBackend:
    return TransformersBackend(entry, settings, options)

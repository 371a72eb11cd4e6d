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
from llmkit.errors import PromptTooLongError, UnsupportedError
from llmkit.generation.backends.base import BackendCapabilities, BaseBackend, register_backend
from llmkit.generation.sampling import Sampler
from llmkit.generation.streaming import TokenStreamer, stream_tokens
from llmkit.generation.types import (
    CancelToken,
    FinishReason,
    GenerationEvent,
    GenerationResult,
    Prompt,
    SamplingParams,
    collect,
)
from llmkit.models import LoadedModel, LoadOptions, ModelEntry, load_transformers, with_oom_retry


def encode_prompt(loaded: LoadedModel, prompt: Prompt) -> list[int]:
    """Token ids of the prompt, rendered by the model layer (the same renderer the tokenizer lab shows)."""
    if prompt.raw is not None:
        return loaded.prompt_ids(raw=prompt.raw)
    return loaded.prompt_ids([{"role": m.role, "content": m.content} for m in prompt.messages])


def stop_token_ids(source: str, tokenizer: Any) -> set[int]:
    """End-of-sequence ids from the generation config (several for some models) and the tokenizer."""
    from transformers import GenerationConfig

    try:
        generation_config = GenerationConfig.from_pretrained(source)
    except OSError:
        generation_config = None
    ids: set[int] = set()
    for source in (generation_config, tokenizer):
        value = getattr(source, "eos_token_id", None)
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, (list, tuple)):
            ids.update(int(v) for v in value)
    return ids


def wants_fast_path(loaded: LoadedModel, options: LoadOptions) -> bool:
    """The lean CPU decoder, unless the user pinned a precision or quantization (then: plain forward)."""
    from llmkit.generation import fastpath

    pinned = options.precision != "auto" or options.quantization != "none"
    return not pinned and fastpath.supports(loaded.config, loaded.device)


def build_fast_decoder(loaded: LoadedModel) -> Any:
    """From the weights file when there is one (no transformers model needed), else from the model."""
    from llmkit.generation.fastpath import FastDecoder

    # 4-bit codes only where the source already was 4-bit (a Q4 GGUF): no new quantization loss.
    int4 = loaded.source_weight_bits == 4
    weights_file = loaded.safetensors_file()
    if weights_file is None:
        return FastDecoder.from_model(loaded.model, int4)
    from safetensors.torch import load_file

    return FastDecoder(loaded.config, load_file(str(weights_file)), int4)


CAPABILITIES = BackendCapabilities(batched=True)  # continuous batching on the lean decoder


class TransformersBackend(BaseBackend):
    capabilities = CAPABILITIES
    name = "transformers"

    def __init__(self, entry: ModelEntry, settings: Settings, options: LoadOptions):
        from llmkit.generation.fastpath import FastDecoder

        started = time.perf_counter()
        self.entry = entry
        self.loaded: LoadedModel = load_transformers(entry, options, settings)
        self._eos = stop_token_ids(self.loaded.source, self.loaded.tokenizer)
        self._lock = threading.Lock()  # one generation at a time per loaded model
        self.batch_size = max(settings.batch_size, 1)
        self.fast: FastDecoder | None = (
            build_fast_decoder(self.loaded) if wants_fast_path(self.loaded, options) else None
        )
        if self.fast is not None:
            self._warm_template_prefix()
        else:
            self.loaded.model  # noqa: B018 - build it now: loading belongs to load time, not the first request
        self.load_s = time.perf_counter() - started

    def _warm_template_prefix(self) -> None:
        """Process the part of the chat template every default request starts with (for SmolLM2 its
        built-in system prompt, ~20 tokens) once at load, so the first request reuses it."""
        import torch

        a, b = (encode_prompt(self.loaded, Prompt.of(text)) for text in ("a", "b"))
        shared = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), 0)
        if shared > 1:
            with torch.inference_mode():
                self.fast.start(a[:shared])

    @property
    def context_length(self) -> int:
        return self.loaded.context_length

    def count_prompt_tokens(self, prompt: Prompt) -> int:
        return len(encode_prompt(self.loaded, prompt))

    def close(self) -> None:
        self.fast = None
        self.loaded.unload()

    def _checked_prompt(self, prompt: Prompt, params: SamplingParams) -> tuple[list[int], int]:
        """Prompt ids and the token budget left after them; refuses what this backend cannot honour."""
        if params.json_schema is not None:
            raise UnsupportedError(
                "JSON-schema-constrained decoding runs on the llamacpp and openai backends; "
                "pass backend='llamacpp' (pip install 'llmkit[llamacpp]')"
            )
        prompt_ids = encode_prompt(self.loaded, prompt)
        limit = self.context_length
        if limit and len(prompt_ids) >= limit:
            raise PromptTooLongError(len(prompt_ids), limit, self.entry.name)
        budget = min(params.max_new_tokens, limit - len(prompt_ids)) if limit else params.max_new_tokens
        return prompt_ids, budget

    def stream(self, prompt: Prompt, params: SamplingParams, cancel: CancelToken) -> Iterator[GenerationEvent]:
        started = time.perf_counter()
        prompt_ids, budget = self._checked_prompt(prompt, params)
        with self._lock:
            yield from self._decode(prompt_ids, params, budget, cancel, started)

    def generate_batch(
        self, prompts: list[Prompt], params: list[SamplingParams], cancel: CancelToken
    ) -> Iterator[tuple[int, GenerationResult]]:
        """Many prompts, `batch_size` decoded together on the lean decoder (one at a time on the plain
        forward); yields (index, result) as each finishes. After `cancel`, running rows end as cancelled
        and prompts not yet started are dropped."""
        if self.fast is None or len(prompts) == 1 or self.batch_size == 1:
            for index, (prompt, one) in enumerate(zip(prompts, params, strict=True)):
                yield index, collect(self.stream(prompt, one, cancel))
            return
        started = time.perf_counter()
        checked = [self._checked_prompt(p, q) for p, q in zip(prompts, params, strict=True)]
        with self._lock:
            yield from self._decode_batch(checked, params, cancel, started)

    def _decode_batch(
        self, checked: list[tuple[list[int], int]], params: list[SamplingParams], cancel: CancelToken, started: float
    ) -> Iterator[tuple[int, GenerationResult]]:
        import torch

        from llmkit.generation.fastpath import BatchDecoder, common_prefix

        tokenizer = self.loaded.tokenizer
        vocab = self.loaded.config.vocab_size

        def new_row(index: int) -> _BatchRow:
            ids, budget = checked[index]
            streamer = TokenStreamer(
                lambda ids: tokenizer.decode(ids, skip_special_tokens=True),
                params[index].stop,
                model=self.entry.name,
                backend=self.name,
                prompt_tokens=len(ids),
                started=started,
            )
            row = _BatchRow(index, streamer, Sampler(params[index], vocab), budget, params[index].ignore_eos)
            row.sampler.observe(torch.tensor(ids))
            return row

        slots = min(self.batch_size, len(checked))
        capacity = max(len(ids) for ids, _ in checked) + max(budget for _, budget in checked)
        pending = list(range(len(checked)))[::-1]
        rows: list[_BatchRow | None] = [None] * slots
        logits: list[Any] = [None] * slots
        # Free slots are refilled together (one pass over the weights for all their prompts), once a
        # quarter of the batch is free or nothing runs: admitting one prompt costs about one decode step.
        refill_at = max(1, slots // 4)
        with torch.inference_mode():
            decoder = BatchDecoder(self.fast, slots, capacity, common_prefix([ids for ids, _ in checked]))
            while True:
                free = [slot for slot, row in enumerate(rows) if row is None]
                if pending and not cancel.cancelled and (len(free) >= refill_at or len(free) == slots):
                    admitted = free[: len(pending)]
                    for slot in admitted:
                        rows[slot] = new_row(pending.pop())
                    first = decoder.admit(admitted, [checked[rows[slot].index][0] for slot in admitted])
                    for slot, row_logits in zip(admitted, first, strict=True):
                        logits[slot] = row_logits
                tokens = [0] * slots
                for slot, row in enumerate(rows):
                    if row is None:
                        continue
                    tokens[slot] = row.take(logits[slot], self._eos, cancel)
                    if row.reason is not None:
                        yield row.index, row.result()
                        rows[slot] = None
                active = [row is not None for row in rows]
                if not any(active) and (not pending or cancel.cancelled):
                    return  # after a cancel, prompts not yet started get no result
                if any(active):
                    logits = list(decoder.step(tokens, active))

    def _decode(
        self, prompt_ids: list[int], params: SamplingParams, budget: int, cancel: CancelToken, started: float
    ) -> Iterator[GenerationEvent]:
        import torch

        tokenizer = self.loaded.tokenizer
        streamer = TokenStreamer(
            lambda ids: tokenizer.decode(ids, skip_special_tokens=True),
            params.stop,
            model=self.entry.name,
            backend=self.name,
            prompt_tokens=len(prompt_ids),
            started=started,
        )
        sampler = Sampler(params, self.loaded.config.vocab_size)
        steps = self.fast if self.fast is not None else _PlainForward(self.loaded.model)

        def sampled_tokens() -> Iterator[int]:
            with torch.inference_mode():
                sampler.observe(torch.tensor(prompt_ids))
                logits = steps.start(prompt_ids)
                while True:
                    token = sampler.choose(logits)
                    sampler.observe(token)
                    yield token
                    logits = steps.forward([token])  # runs only if the loop asks for another token

        def is_end(token: int) -> bool:
            return token in self._eos and not params.ignore_eos

        yield from stream_tokens(sampled_tokens(), streamer, is_end=is_end, budget=budget, cancel=cancel)


class _BatchRow:
    """One sequence of a batch: its sampler, its streamer and why it ended (None while running)."""

    def __init__(self, index: int, streamer: TokenStreamer, sampler: Sampler, budget: int, ignore_eos: bool):
        self.index = index
        self.streamer, self.sampler, self.budget, self.ignore_eos = streamer, sampler, budget, ignore_eos
        self.reason: FinishReason | None = None

    def take(self, logits: Any, eos: set[int], cancel: CancelToken) -> int:
        """Choose this row's next token (0, ignored, once the row has ended)."""
        if self.reason is not None:
            return 0
        if cancel.cancelled:
            self.reason = "cancelled"
            return 0
        token = self.sampler.choose(logits)
        self.sampler.observe(token)
        if token in eos and not self.ignore_eos:
            self.reason = "stop"
            return 0
        self.streamer.push(token)
        if self.streamer.stopped or self.streamer.completion_tokens >= self.budget:
            self.reason = "length"
        return token

    def result(self) -> GenerationResult:
        _, finished = self.streamer.finish(self.reason or "length")
        return GenerationResult(text=finished.text, stats=finished.stats)


class _PlainForward:
    """transformers' own forward over a dynamic KV cache: any architecture, any device or quantization."""

    def __init__(self, model: Any):
        from transformers import DynamicCache

        self.model = model
        self.cache = DynamicCache(config=model.config)

    def start(self, prompt_ids: list[int]) -> Any:
        return with_oom_retry(
            lambda: self.forward(prompt_ids),
            "processing the prompt",
            "shorten the prompt, or load with --quantization 4bit",
        )

    def forward(self, token_ids: list[int]) -> Any:
        import torch

        input_ids = torch.tensor([token_ids], device=self.model.device)
        out = self.model(input_ids=input_ids, cache=self.cache, use_cache=True, logits_to_keep=1)
        return out.logits[0, -1].cpu()


@register_backend("transformers", capabilities=CAPABILITIES)
def _create(entry: ModelEntry, settings: Settings, options: LoadOptions) -> TransformersBackend:
    return TransformersBackend(entry, settings, options)

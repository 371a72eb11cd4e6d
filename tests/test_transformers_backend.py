"""The transformers backend on the real embedded model (SmolLM2-135M-Instruct), on the CPU."""

from __future__ import annotations

import threading

import pytest
import torch

from llmkit import CancelToken, ChatMessage, Prompt, PromptTooLongError, SamplingParams, TextDelta
from llmkit.generation.backends.transformers import encode_prompt
from llmkit.generation.fastpath import FastDecoder
from tests.conftest import collect

PROMPT = "List three colours of the rainbow."


def test_tokens_stream_and_stats_are_consistent(engine):
    deltas, final = collect(engine.stream(PROMPT, max_new_tokens=24))
    stats = final.stats
    assert len(deltas) >= 3 and "".join(deltas) == final.text and final.text.strip()
    assert stats.backend == "transformers" and stats.model == "smollm2-135m-instruct"
    backend = engine.backend_for()
    assert stats.prompt_tokens == backend.count_prompt_tokens(Prompt.of(PROMPT))
    assert 1 <= stats.completion_tokens <= 24
    assert 0 < stats.ttft_s <= stats.total_s and stats.tokens_per_s > 0
    assert stats.finish_reason in ("stop", "length")


def test_greedy_is_deterministic_and_generate_collects_the_stream(engine):
    first = engine.generate(PROMPT, max_new_tokens=20)
    second = engine.generate(PROMPT, max_new_tokens=20)
    assert first.text == second.text
    deltas, final = collect(engine.stream(PROMPT, max_new_tokens=20))
    assert final.text == first.text


def test_seed_makes_sampling_reproducible(engine):
    kwargs = dict(max_new_tokens=24, temperature=1.2, top_p=0.95, seed=1234)
    a = engine.generate("Invent a name for a cat.", **kwargs).text
    b = engine.generate("Invent a name for a cat.", **kwargs).text
    others = {engine.generate("Invent a name for a cat.", **{**kwargs, "seed": s}).text for s in (1, 2, 3)}
    assert a == b
    assert len(others | {a}) > 1


def test_length_limit_and_stop_strings(engine):
    limited = engine.generate("Count from 1 to 50 separated by commas.", max_new_tokens=8)
    assert limited.stats.completion_tokens == 8 and limited.stats.finish_reason == "length"
    stopped = engine.generate("Count from 1 to 50 separated by commas.", max_new_tokens=60, stop=["5"])
    assert "5" not in stopped.text and stopped.stats.finish_reason == "stop"
    assert stopped.text.startswith("1")


def test_cancel_signal_stops_within_one_token(engine):
    cancel = CancelToken()
    produced = 0
    final = None
    for event in engine.stream("Write a long story about the sea.", max_new_tokens=200, cancel=cancel):
        if isinstance(event, TextDelta):
            produced += 1
            if produced == 3:
                cancel.cancel()
        else:
            final = event
    assert final.stats.finish_reason == "cancelled"
    assert final.stats.completion_tokens <= 4  # the token in flight when cancel arrived, at most


def test_closing_the_stream_frees_the_model(engine):
    stream = engine.stream("Write a long story about the sea.", max_new_tokens=200)
    next(stream)
    stream.close()
    result = [None]
    worker = threading.Thread(target=lambda: result.__setitem__(0, engine.generate("Hi", max_new_tokens=4)))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the model stayed locked after the stream was closed"
    assert result[0].stats.completion_tokens >= 1


def test_prompt_over_the_context_window_is_refused_with_both_counts(engine):
    long_prompt = "word " * 9000
    with pytest.raises(PromptTooLongError) as info:
        engine.generate(long_prompt, max_new_tokens=4)
    assert info.value.context_length == 8192 and info.value.prompt_tokens > 8192
    assert str(info.value.prompt_tokens) in str(info.value) and "8192" in str(info.value)


def test_chat_template_comes_from_the_model_without_double_bos(engine):
    loaded = engine.backend_for().loaded
    tokenizer = loaded.tokenizer
    prompt = Prompt.of([ChatMessage("user", "Hi")], system="Be brief.")
    ids = encode_prompt(loaded, prompt)
    text = tokenizer.decode(ids)
    assert text.startswith("<|im_start|>system\nBe brief.<|im_end|>")
    assert text.endswith("<|im_start|>assistant\n")
    if tokenizer.bos_token_id is not None:
        assert ids[:2].count(tokenizer.bos_token_id) <= 1


def _hf_reference_logits(model, ids):
    with torch.inference_mode():
        return model(input_ids=torch.tensor([ids])).logits[0].float()


@pytest.mark.parametrize("int4", [True, False])
def test_fast_path_matches_transformers_forward(engine, int4):
    """Teacher-forced: the lean decoder's next-token logits agree with transformers' own forward."""
    loaded = engine.backend_for().loaded
    model = loaded.model
    ids = encode_prompt(loaded, Prompt.of("Explain photosynthesis to a child, in detail."))
    continuation = engine.generate("Explain photosynthesis to a child, in detail.", max_new_tokens=48).text
    ids_all = ids + loaded.tokenizer(continuation, add_special_tokens=False)["input_ids"]
    reference = _hf_reference_logits(model, ids_all)
    decoder = FastDecoder.from_model(model, int4=int4)
    with torch.inference_mode():
        fast = [decoder.start(ids)] + [decoder.forward([t]) for t in ids_all[len(ids) : -1]]
    fast = torch.stack(fast)
    ref = reference[len(ids) - 1 : -1]
    agreement = (fast.argmax(-1) == ref.argmax(-1)).float().mean().item()
    kl = torch.nn.functional.kl_div(fast.log_softmax(-1), ref.log_softmax(-1), log_target=True, reduction="batchmean")
    assert agreement >= 0.95, agreement
    assert kl.item() < 0.02, kl.item()


def test_prefix_reuse_gives_the_same_answer_as_a_cold_start(engine):
    backend = engine.backend_for()
    assert backend.fast is not None, "the embedded model should use the lean CPU decoder"
    history = [
        ChatMessage("user", "Name a fruit."),
        ChatMessage("assistant", "Apple."),
        ChatMessage("user", "Another?"),
    ]
    backend.fast.reset()
    cold = engine.generate(history, max_new_tokens=16)
    engine.generate(history[:1], max_new_tokens=4)  # leaves a shared prefix in the cache
    warm = engine.generate(history, max_new_tokens=16)
    assert backend.fast.reused_tokens > 5
    assert warm.text == cold.text


def test_greedy_matches_plain_transformers_generate(engine):
    loaded = engine.backend_for().loaded
    ids = encode_prompt(loaded, Prompt.of(PROMPT))
    with torch.inference_mode():
        out = loaded.model.generate(torch.tensor([ids]), max_new_tokens=32, do_sample=False)[0, len(ids) :]
    expected = loaded.tokenizer.decode(out, skip_special_tokens=True)
    ours = engine.generate(PROMPT, max_new_tokens=32).text
    assert ours == expected


def test_pinned_precision_uses_the_plain_forward():
    import gc
    import weakref

    from llmkit import Engine

    eng = Engine(precision="fp32")
    backend = eng.backend_for()
    assert backend.fast is None and backend.loaded.dtype == torch.float32
    result = eng.generate(PROMPT, max_new_tokens=12, params=None)
    assert result.stats.completion_tokens >= 1 and result.text
    model_ref = weakref.ref(backend.loaded.model)
    eng.unload()
    del backend
    gc.collect()
    assert model_ref() is None, "unload left the model in memory"


@pytest.mark.parametrize("quantization", ["4bit"])
def test_bitsandbytes_cpu_quantization_path(quantization):
    pytest.importorskip("bitsandbytes")
    from llmkit import Engine

    eng = Engine(quantization=quantization)
    backend = eng.backend_for()
    full = 134_515_008 * 4
    assert backend.loaded.memory_bytes() < full / 2
    assert eng.generate("Say hello.", max_new_tokens=6).stats.completion_tokens >= 1
    eng.close()


def test_sampling_params_object_is_accepted(engine):
    params = SamplingParams(max_new_tokens=5, temperature=0.7, seed=5)
    a = engine.generate(PROMPT, params=params)
    b = engine.generate(PROMPT, params=params)
    assert a.text == b.text and a.stats.completion_tokens <= 5


def test_template_prefix_is_processed_at_load_and_reused():
    from llmkit import Engine

    eng = Engine()
    backend = eng.backend_for()
    warmed = len(backend.fast.tokens)
    assert warmed > 10  # SmolLM2's template starts every default prompt with its own system prompt
    result = eng.generate(PROMPT, max_new_tokens=4)
    assert backend.fast.reused_tokens == warmed and result.stats.completion_tokens >= 1
    eng.close()


def test_eager_fallback_of_the_decode_step_matches_torchscript(engine):
    """If a future torch drops TorchScript, the same step runs eagerly: it must give the same logits."""
    from safetensors.torch import load_file

    from llmkit.generation.fastpath import _decode_step_source

    loaded = engine.backend_for().loaded
    decoder = FastDecoder(loaded.config, load_file(str(loaded.safetensors_file())), int4=True)
    ids = encode_prompt(loaded, Prompt.of(PROMPT))
    with torch.inference_mode():
        decoder.start(ids)
        scripted = decoder.forward([42])
        decoder._step = _decode_step_source()
        decoder.reset()  # the same path both times: no prefix reuse
        decoder.start(ids)
        eager = decoder.forward([42])
    assert torch.allclose(scripted, eager, atol=1e-3)


def test_batch_decoder_matches_transformers_forward(engine):
    """Teacher-forced, two prompts of different lengths side by side (shared prefix copied, idle slot,
    padding in the admit pass): each row's logits agree with transformers' forward of that row alone."""
    from llmkit.generation.fastpath import BatchDecoder, common_prefix

    loaded = engine.backend_for().loaded
    texts = ["Name three fruits.", "Explain photosynthesis to a child, in one paragraph please."]
    prompts = [encode_prompt(loaded, Prompt.of(t)) for t in texts]
    follow = loaded.tokenizer(" The answer is simple and short", add_special_tokens=False)["input_ids"]
    decoder = BatchDecoder(
        engine.backend_for().fast, 3, max(map(len, prompts)) + len(follow) + 1, common_prefix(prompts)
    )
    with torch.inference_mode():
        rows = [list(decoder.admit([0, 2], prompts))]  # slot 1 stays idle
        for token in follow:
            step = decoder.step([token, 0, token], [True, False, True])
            rows.append([step[0], step[2]])
    for index, prompt in enumerate(prompts):
        reference = _hf_reference_logits(loaded.model, prompt + follow)[len(prompt) - 1 :]
        mine = torch.stack([r[index] for r in rows])
        kl = torch.nn.functional.kl_div(
            mine.log_softmax(-1), reference.log_softmax(-1), log_target=True, reduction="batchmean"
        )
        assert kl.item() < 0.02, kl.item()  # same distributions (argmax can flip on near-ties)


def test_generate_many_returns_every_prompt_with_its_own_result(engine):
    import dataclasses

    prompts = ["Say hello.", "Count to three.", "Name a colour.", "Name a fruit.", "Say goodbye."]
    backend = engine.backend_for()
    backend.batch_size = 2  # five prompts through two slots: refills happen
    try:
        many = dict(engine.generate_many(prompts, SamplingParams(max_new_tokens=12)))
        again = dict(engine.generate_many(prompts, SamplingParams(max_new_tokens=12)))
    finally:
        backend.batch_size = dataclasses.replace(engine.settings).batch_size
    assert sorted(many) == list(range(5))
    for result in many.values():
        assert 0 < result.stats.completion_tokens <= 12 and result.text.strip()
    assert {i: r.text for i, r in many.items()} == {i: r.text for i, r in again.items()}  # greedy repeats
    assert len({r.text for r in many.values()}) >= 4  # each row answered its own prompt


def test_generate_many_rows_match_greedy_generate(engine):
    """Each row of generate_many answers its own prompt as greedy generate() does. The single-sequence path
    decodes on the GGUF's int4 codes and the batch on fp32, and a reused cached prefix changes float rounding,
    so a near-tie can flip a token: every row must start as generate() does (from a cleared prefix cache, so
    the reference does not depend on what ran before) and most rows must agree word for word."""
    import re

    prompts = ["Say hello.", "Count to three.", "Name a colour.", "Name a fruit.", "Say goodbye."]
    backend = engine.backend_for()
    backend.batch_size = 2
    try:
        many = dict(engine.generate_many(prompts, SamplingParams(max_new_tokens=12)))
    finally:
        backend.batch_size = engine.settings.batch_size
    alone = {}
    for index, prompt in enumerate(prompts):
        if backend.fast is not None:
            backend.fast.reset()
        alone[index] = engine.generate(prompt, max_new_tokens=12).text

    def first_word(text: str) -> str:
        return re.sub(r"\W", "", text.split()[0]).lower()

    assert all(first_word(many[i].text) == first_word(alone[i]) for i in alone), (many, alone)
    assert sum(many[i].text == alone[i] for i in alone) >= 3, (many, alone)


def test_generate_many_stops_on_cancel(engine):
    """A cancel mid-batch: the rows running end as cancelled, prompts not yet started are not begun."""
    backend = engine.backend_for()
    backend.batch_size, cancel = 2, CancelToken()
    results = {}
    try:
        for index, result in engine.generate_many([f"Count to {n}." for n in range(6)], SamplingParams(max_new_tokens=40),
                                                  cancel=cancel):  # fmt: skip
            results[index] = result
            cancel.cancel()
    finally:
        backend.batch_size = engine.settings.batch_size
    # The first row to finish triggers the cancel; the other running row ends cancelled; none of the four
    # waiting prompts is started.
    assert len(results) == 2
    assert [r.stats.finish_reason for r in results.values()][1] == "cancelled"


def test_the_tokenizer_lab_shows_the_ids_generation_sends(engine):
    from llmkit import tokens

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there, café ① 42!"}]
    lab = tokens.render_chat(messages, "smollm2", add_generation_prompt=True)
    sent = encode_prompt(engine.backend_for().loaded, Prompt.of([ChatMessage(**m) for m in messages]))
    assert lab.ids == sent and not lab.warnings

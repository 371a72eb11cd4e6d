"""The quantization lab: the sliding windows, a reference check of our perplexity against transformers'
own loss, request checks, and one real run (fp32 reference, the GGUF through llama.cpp, and a GPU
method that reports why it cannot run), each method in its own process."""

from __future__ import annotations

import json
import math
import os

import pytest

from llmkit import quant
from llmkit.errors import ConfigError, InvalidInputError


@pytest.mark.parametrize(("n", "window", "stride"), [(10, 4, 2), (10, 4, 4), (7, 16, 8), (100, 32, 7), (2, 2, 1)])
def test_windows_score_every_token_after_the_first_exactly_once(n, window, stride):
    scored = []
    for begin, end, first in quant.windows(n, window, stride):
        assert 0 <= begin <= first < end <= n and end - begin <= window
        scored += range(first + 1, end)
    # No overlap (stride == window): each window's first token has no context and is not scored.
    expected = [t for t in range(1, n) if stride < window or t % window]
    assert scored == expected


def test_sliding_window_perplexity_matches_transformers_loss():
    """One window covering the text: our score must equal exp(the model's own mean loss)."""
    import torch

    from llmkit import internals
    from llmkit.quant.measure import TransformersRunner, score

    os.environ.setdefault("LLMKIT_CONFIG", "/nonexistent/llmkit-test-config.toml")
    loaded = internals.load_for_inspection("smollm2")
    text, _ = quant.default_text()
    ids = loaded.tokenizer(text[:400])["input_ids"][:64]
    scores, log_probs = score(TransformersRunner(loaded.model), ids, 64, 64, None, keep_log_probs=True)
    with torch.inference_mode():
        loss = loaded.model(torch.tensor([ids]), labels=torch.tensor([ids])).loss
    assert quant.perplexity(scores) == pytest.approx(math.exp(float(loss)), rel=1e-4)
    assert log_probs.shape == (len(ids) - 1, loaded.model.config.vocab_size)
    strided, _ = score(TransformersRunner(loaded.model), ids, 32, 16, log_probs)
    assert strided.count == len(ids) - 1 and strided.kl > 0  # less context than the reference: some divergence


def test_bad_requests_fail_before_any_load():
    with pytest.raises(ConfigError, match="known"):
        quant.run_quant(quant.QuantRequest(methods=("int3-magic",)))
    with pytest.raises(ConfigError, match="stride"):
        quant.run_quant(quant.QuantRequest(window=8, stride=16))
    with pytest.raises(InvalidInputError, match="cannot read"):
        quant.run_quant(quant.QuantRequest(methods=("fp32",), text_file="/nonexistent/text.txt"))


def test_a_real_run_with_the_reference_the_gguf_and_a_method_that_cannot_run(tmp_path):
    request = quant.QuantRequest(methods=("gguf", "gptq"), eval_tokens=48, window=32, stride=16, prompt_tokens=16,
                                 decode_tokens=4, out_dir=str(tmp_path))  # fmt: skip
    events = list(quant.stream_quant(request))
    progress = [e for e in events if isinstance(e, quant.QuantProgress)]
    assert [(e.method, e.row is None) for e in progress][:2] == [("fp32", True), ("fp32", False)]
    report = events[-1].report
    rows = {r.method: r for r in report.rows}
    assert list(rows) == ["fp32", "gguf", "gptq"] and report.eval_tokens == 48
    fp32, gguf = rows["fp32"], rows["gguf"]
    assert fp32.error is None and gguf.error is None, (fp32.error, gguf.error)
    assert fp32.kl_vs_reference == 0 and fp32.top1_agreement == 1
    assert 480 < fp32.weight_mb < 560 and gguf.weight_mb < 120  # real bytes: fp32 vs the Q4_1 file's tensors
    # The fp32 model is the dequantized Q4_1 GGUF: llama.cpp's own run of it differs only by kernels.
    assert gguf.perplexity == pytest.approx(fp32.perplexity, rel=0.05)
    assert 0 < gguf.kl_vs_reference < 0.05 and gguf.top1_agreement > 0.85
    assert all(getattr(gguf, f) and getattr(gguf, f) > 0 for f in ("bits_per_byte", "prefill_tok_s", "decode_tok_s",
                                                                   "peak_rss_mb"))  # fmt: skip
    assert "CUDA" in rows["gptq"].error or "package" in rows["gptq"].error
    saved = json.loads((tmp_path / "quant.json").read_text())
    assert set(quant.ROW_FIELDS) <= set(saved["rows"][0])
    assert (tmp_path / "quant.png").stat().st_size > 1000 and "| gguf |" in (tmp_path / "quant.md").read_text()


def test_a_method_whose_process_fails_is_a_row_with_its_error(tmp_path):
    from llmkit.quant.service import _run_method

    job = {"method": "bf16", "source": str(tmp_path / "no-model"), "gguf": None, "ids_file": str(tmp_path / "x.npy"),
           "text_bytes": 1, "window": 8, "stride": 4, "prompt_tokens": 4, "decode_tokens": 1, "threads": 1}  # fmt: skip
    row = _run_method(job, tmp_path, timeout_s=1200)
    assert row.method == "bf16" and row.error and row.perplexity is None

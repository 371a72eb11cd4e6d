"""The internals lab on the real embedded SmolLM2 (loaded once for the module), plus a second and third
architecture (Qwen2, Gemma 3) built from small configs with random weights."""

from __future__ import annotations

import json
import os

import pytest

from llmkit import internals
from llmkit.errors import ConfigError, InvalidInputError

TEXTS = ["The capital of France is", "def add(a, b):\n    return", "Once upon a time, 3 bears", "Hello"]


@pytest.fixture(scope="module")
def loaded():
    os.environ.setdefault("LLMKIT_CONFIG", "/nonexistent/llmkit-test-config.toml")
    model = internals.load_for_inspection("smollm2")
    _ = model.model
    return model


def _next_token_probs(model, tokenizer, text):
    import torch

    ids = tokenizer(text, add_special_tokens=True)["input_ids"]
    with torch.inference_mode():
        return torch.softmax(model(torch.tensor([ids])).logits[0].float(), -1)


def test_arch_from_the_config_alone_counts_the_real_parameters(loaded):
    report = internals.describe_architecture(loaded.config, "smollm2")
    real = sum(p.numel() for p in loaded.model.parameters())  # tied weights once
    assert report.total_params == real == sum(report.params_by_kind.values())
    s = report.summary
    assert (s["layers"], s["attention_heads"], s["kv_heads"], s["head_dim"]) == (30, 9, 3, 64)
    assert s["attention"].startswith("grouped-query") and s["tie_word_embeddings"]
    assert ["model.embed_tokens.weight", "lm_head.weight"] in report.tied
    assert {m.cls for m in report.modules} >= {"LlamaAttention", "LlamaMLP", "LlamaRMSNorm", "Embedding"}
    json.dumps(report.to_dict())


def test_memory_estimate_is_within_5_percent_of_the_measured_bytes(loaded):
    report = internals.memory(context=2048, batch=2, loaded=loaded)
    assert report.measured_dtype == "fp32"
    assert abs(report.estimate_error_pct) < 5
    est = report.estimate
    assert est.kv_bytes_per_token == 2 * 30 * 3 * 64 * 2  # K and V, 30 layers, 3 KV heads, bf16
    assert est.kv_cache_bytes == est.kv_bytes_per_token * 2048 * 2
    assert est.weights_bytes["fp32"] == 2 * est.weights_bytes["bf16"] > 3 * est.weights_bytes["4bit"]
    assert report.gguf_file_bytes and report.gguf_file_bytes < est.weights_bytes["bf16"]


def test_estimate_memory_works_from_a_config_dict_and_honours_sliding_windows():
    config = {"model_type": "gemma3_text", "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
              "num_hidden_layers": 6, "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 16,
              "sliding_window": 128, "max_position_embeddings": 4096}  # fmt: skip
    est = internals.estimate_memory(config, "bf16", context=4096, batch=1)
    full_layers = 1  # Gemma 3: every sixth layer is global
    assert est.kv_cache_bytes == 2 * 1 * 16 * 2 * (full_layers * 4096 + 5 * 128)
    with pytest.raises(ConfigError, match="model_type"):
        internals.estimate_memory({"hidden_size": 64})
    with pytest.raises(ConfigError, match="dtype"):
        internals.estimate_memory(config, "fp8")


def test_attention_report_shapes_files_and_standalone_html(loaded, tmp_path):
    report = internals.attention(loaded, TEXTS[0], layers="0,-1", heads="0,8", out_dir=tmp_path)
    data = report.to_dict()
    n = len(data["tokens"])
    assert data["layers"] == [0, 29] and data["heads"] == [0, 8]
    assert len(data["attention"]) == 2 and len(data["attention"][0]) == 2 and len(data["attention"][0][0]) == n
    matrix = report.attention[1, 0]
    assert abs(matrix.sum(-1) - 1).max() < 1e-3  # each query's weights sum to 1
    assert abs(matrix[0, 1:]).max() == 0  # causal: the first token sees only itself
    page = (tmp_path / "attention.html").read_text()
    assert "<script src" not in page and "http" not in page.split("<script", 1)[1]
    assert {p.split("/")[-1] for p in report.files} >= {"attention_layer00.png", "attention_layer29.png"}
    assert loaded.model.config._attn_implementation != "eager"  # the fast path is restored


def test_attention_bounds_long_inputs(loaded):
    report = internals.attention(loaded, "word " * 300, max_tokens=100)
    assert len(report.tokens) == 100 and report.layers == [29]
    assert any("cut" in note for note in report.notes) and any("last layer" in note for note in report.notes)


@pytest.mark.parametrize("text", TEXTS)
def test_logit_lens_last_layer_is_the_real_next_token_distribution(loaded, text):
    report = internals.lens(loaded, text, top=5)
    probs = _next_token_probs(loaded.model, loaded.tokenizer, text)
    assert [layer.layer for layer in report.layers] == list(range(31))
    for position, top in enumerate(report.layers[-1].top):
        expected = probs[position].topk(5)
        assert [t.id for t in top] == expected.indices.tolist()
        assert [t.prob for t in top] == pytest.approx(expected.values.tolist(), abs=1e-5)
    first = report.layers[0].top[0][0]
    assert first.token == loaded.tokenizer.decode([first.id])


def test_lens_picture_and_json_shape(loaded, tmp_path):
    data = internals.lens(loaded, TEXTS[0], top=2, out_dir=tmp_path).to_dict()
    assert set(data) >= {"tokens", "layers"} and set(data["layers"][3]["top"][0][0]) == {"id", "token", "prob"}
    assert (tmp_path / "lens.png").stat().st_size > 1000
    assert data["positions"] == list(range(len(data["tokens"])))


def test_lens_of_a_long_input_reads_the_last_positions(loaded):
    text = "To be, or not to be, that is the question. " * 4
    full = internals.lens(loaded, text, top=1, positions=1000)
    tail = internals.lens(loaded, text, top=1, positions=5)
    n = len(full.tokens)
    assert tail.positions == list(range(n - 5, n)) and any("last 5" in note for note in tail.notes)
    for layer_full, layer_tail in zip(full.layers, tail.layers, strict=True):
        assert [p[0].id for p in layer_full.top[-5:]] == [p[0].id for p in layer_tail.top]


def test_hidden_states_per_layer(loaded, tmp_path):
    report = internals.hidden(loaded, TEXTS[1], out_dir=tmp_path)
    assert len(report.norms) == 31 and len(report.cosine_to_next) == 30
    assert len(report.norms_per_position[0]) == len(report.tokens)
    assert all(-1.0 <= c <= 1.0 for c in report.cosine_to_next) and (tmp_path / "hidden.png").is_file()


def test_saliency_explains_the_predicted_token(loaded, tmp_path):
    report = internals.saliency(loaded, TEXTS[0], out_dir=tmp_path)
    probs = _next_token_probs(loaded.model, loaded.tokenizer, TEXTS[0])[-1]
    assert report.target.id == int(probs.argmax())
    n = len(report.tokens)
    assert len(report.gradient_x_input) == len(report.attention_rollout) == n
    assert len(report.rollout_without_first) == n - 1
    assert sum(report.gradient_x_input) == pytest.approx(1, abs=1e-3)
    assert "France" in (tmp_path / "saliency.html").read_text()


def test_bad_input_gets_a_clear_error(loaded):
    with pytest.raises(InvalidInputError, match="empty"):
        internals.attention(loaded, "   ")
    with pytest.raises(InvalidInputError, match="30"):
        internals.attention(loaded, "hi", layers="31")
    with pytest.raises(InvalidInputError, match="indexes"):
        internals.attention(loaded, "hi", heads="first")
    with pytest.raises(InvalidInputError, match="--top"):
        internals.lens(loaded, "hi", top=0)


_SMALL = {"vocab_size": 49152, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 3,
          "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256}  # fmt: skip


@pytest.mark.parametrize("model_type", ["qwen2", "gemma3_text"])
def test_other_architectures_from_a_small_config_with_random_weights(loaded, model_type, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    extra = {"head_dim": 16, "sliding_window": 64} if model_type == "gemma3_text" else {}
    config = internals.as_config({"model_type": model_type, **_SMALL, **extra})
    model = AutoModelForCausalLM.from_config(config).eval()
    arch = internals.describe_architecture(config, model_type)
    assert arch.total_params == sum(p.numel() for p in model.parameters())
    from llmkit.internals import probes

    lens = probes.logit_lens(model, loaded.tokenizer, TEXTS[0], top=3)
    probs = _next_token_probs(model, loaded.tokenizer, TEXTS[0])
    assert [t.id for t in lens.layers[-1].top[-1]] == probs[-1].topk(3).indices.tolist()
    att = probes.attention(model, loaded.tokenizer, TEXTS[0], layers="all", heads="all")
    assert att.attention.shape[:2] == (3, 4)
    assert probes.saliency(model, loaded.tokenizer, TEXTS[0]).target.id == int(probs[-1].argmax())


def test_cli_arch_and_lens_json(tmp_path):
    from click.testing import CliRunner

    from llmkit.cli.main import cli

    result = CliRunner().invoke(cli, ["inspect", "arch", "smollm2", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_params"] > 100_000_000
    result = CliRunner().invoke(cli, ["inspect", "lens", "The capital of France is", "--json", "--top", "2",
                                      "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layers"][-1]["top"][-1][0]["token"] == " Paris"
    result = CliRunner().invoke(cli, ["inspect", "attention", "", "--json"])
    assert result.exit_code != 0 and "empty" in str(result.exception or result.output)


def test_the_labs_import_light_and_a_missing_plot_library_names_the_extra():
    import subprocess
    import sys

    code = ("import sys, llmkit.internals, llmkit.quant, llmkit.cli.labs; "
            "print(sorted(m for m in ('torch', 'transformers', 'numpy', 'matplotlib', 'llama_cpp') if m in sys.modules))")  # fmt: skip
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    code = ("import sys; sys.modules['matplotlib'] = None\nfrom llmkit.internals import require_matplotlib\n"
            "try:\n    require_matplotlib('plots')\nexcept Exception as e:\n    print(e)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'llmkit[lab]'" in out

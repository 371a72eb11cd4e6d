"""The model catalog: families, lookup by every kind of name, user entries, availability."""

from __future__ import annotations

import pytest

from llmkit import Catalog, ModelFileError, UnknownModelError, load_settings


@pytest.fixture
def catalog():
    return Catalog.load(load_settings())


def test_every_family_the_field_compares_is_listed(catalog):
    hub_ids = {e.hub_id for e in catalog.entries}
    for expected in [
        "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Llama-3.1-405B-Instruct",
        "microsoft/Phi-3-mini-4k-instruct", "microsoft/Phi-3-small-8k-instruct", "microsoft/Phi-3-medium-4k-instruct",
        "google/gemma-2b-it", "google/gemma-7b-it", "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "Qwen/Qwen2-0.5B-Instruct", "Qwen/Qwen2-1.5B-Instruct", "Qwen/Qwen2-7B-Instruct", "Qwen/Qwen2-72B-Instruct",
        "HuggingFaceTB/SmolLM2-135M-Instruct",
    ]:  # fmt: skip
        assert expected in hub_ids
    for entry in catalog.entries:
        assert entry.params_b > 0 and entry.context_length > 0 and entry.license and entry.languages
        assert entry.strengths and entry.best_for


def test_embedded_model_is_offline(catalog):
    entry = catalog.resolve("smollm2")
    assert entry.name == "smollm2-135m-instruct"
    assert entry.availability() == "offline"
    assert entry.gguf_file is not None and entry.gguf_file.is_file()
    assert catalog.resolve("llama-3.1-8b-instruct").availability() == "download"


def test_lookup_by_hub_id_and_alias(catalog):
    assert catalog.resolve("Qwen/Qwen2-7B-Instruct").name == "qwen2-7b-instruct"
    assert catalog.resolve("MIXTRAL").name == "mixtral-8x7b-instruct"
    unknown_hub = catalog.resolve("someone/some-model")
    assert unknown_hub.hub_id == "someone/some-model" and unknown_hub.source == "hub"


def test_unknown_model_lists_close_matches(catalog):
    with pytest.raises(UnknownModelError, match="did you mean: .*llama-3.1-8b") as info:
        catalog.resolve("llama-3.1-8")
    assert info.value.close_matches


def test_local_paths(catalog, tmp_path, embedded_gguf):
    assert catalog.resolve(str(embedded_gguf)).gguf_file == embedded_gguf.resolve()
    model_dir = tmp_path / "mymodel"
    model_dir.mkdir()
    with pytest.raises(ModelFileError, match="config.json is missing"):
        catalog.resolve(str(model_dir))
    (model_dir / "config.json").write_text("{}")
    assert catalog.resolve(str(model_dir)).local_path == str(model_dir.resolve())
    with pytest.raises(ModelFileError, match="no such file"):
        catalog.resolve(str(tmp_path / "missing.gguf"))


def test_user_entries_from_config(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(
        '[models.my-vllm]\nbackend = "openai"\nbase_url = "http://10.0.0.5:8000/v1"\n'
        'served_name = "meta-llama/Llama-3.1-70B-Instruct"\ncontext_length = 131072\n'
    )
    monkeypatch.setenv("LLMKIT_CONFIG", str(config))
    entry = Catalog.load(load_settings()).resolve("my-vllm")
    assert entry.source == "user" and entry.availability() == "endpoint"
    assert entry.to_dict()["base_url"] == "http://10.0.0.5:8000/v1"

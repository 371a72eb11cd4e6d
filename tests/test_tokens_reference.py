"""Each offline tokenizer against the reference that defines it, on 1,200 varied lines (ids identical).

- llama3: llmkit runs Meta's tiktoken rank file; the reference is Hugging Face's tokenizer.json for the same
  model (with `ignore_merges`, as the official Llama 3.1 file sets it; the json in the package predates that).
- cl100k / o200k / qwen2: rank tables converted from quicktok's binary format (or read from Qwen's .tiktoken);
  the reference is quicktok's own encoder over its own files (its `qwen3` encoding is the Qwen2 BPE).
- mistral: sentencepiece's own encoder on the v1 model (what the lab adds: BOS, special-token splitting).
- smollm2: the tokenizer converted from the embedded GGUF; the reference is llama.cpp reading the GGUF.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmkit.models.assets import LLAMA3_TOKENIZER, MISTRAL_TOKENIZERS, SMOLLM2_GGUF
from llmkit.tokens.sources import resolve_tokenizer

CORPUS = [json.loads(line) for line in (Path(__file__).parent / "data" / "token_corpus.jsonl").read_text().splitlines()]


def _mismatches(ours, reference) -> list[str]:
    return [line for line in CORPUS if ours(line) != reference(line)]


def _plain(name):
    engine = resolve_tokenizer(name).engine
    return lambda line: engine.encode(line, add_special=False, parse_special=False)


def _default(name):
    engine = resolve_tokenizer(name).engine
    return lambda line: engine.encode(line)


def test_corpus_is_large_and_varied():
    assert len(CORPUS) >= 1000
    joined = "".join(CORPUS)
    for sample in ("def ", "你", "ال", "🎉", "\t", "\r\n", "<|endoftext|>", "[INST]", "e\u0301"):
        assert sample in joined, sample


@pytest.mark.parametrize("name, encoding", [("cl100k", "cl100k_base"), ("o200k", "o200k_base"), ("qwen2", "qwen3")])
def test_rank_conversions_match_quicktok(name, encoding):
    quicktok = pytest.importorskip("quicktok")
    reference = quicktok.get_encoding(encoding)
    assert _mismatches(_plain(name), reference.encode_ordinary) == []
    if name != "qwen2":  # quicktok's qwen3 encoding carries Qwen3's newer special tokens
        assert _mismatches(_default(name), lambda line: reference.encode(line, allowed_special="all")) == []


def test_llama3_matches_the_hugging_face_tokenizer():
    from tokenizers import Tokenizer

    data = json.loads((LLAMA3_TOKENIZER.path() / "tokenizer.json").read_text())
    data["model"]["ignore_merges"] = True
    reference = Tokenizer.from_str(json.dumps(data))
    assert _mismatches(_default("llama3"), lambda line: reference.encode(line).ids) == []
    reference.encode_special_tokens = True
    assert _mismatches(_plain("llama3"), lambda line: reference.encode(line, add_special_tokens=False).ids) == []


def test_mistral_matches_sentencepiece():
    import sentencepiece

    reference = sentencepiece.SentencePieceProcessor(model_file=str(MISTRAL_TOKENIZERS.path() / "tokenizer.model.v1"))
    assert _mismatches(_plain("mistral"), reference.encode) == []
    engine = resolve_tokenizer("mistral").engine
    with_bos = lambda line: engine.encode(line, parse_special=False)  # noqa: E731
    assert _mismatches(with_bos, lambda line: reference.encode(line, add_bos=True)) == []


@pytest.mark.llamacpp
def test_smollm2_conversion_matches_llama_cpp():
    llama_cpp = pytest.importorskip("llama_cpp")
    reference = llama_cpp.Llama(str(SMOLLM2_GGUF.path()), vocab_only=True, verbose=False)
    assert (
        _mismatches(_plain("smollm2"), lambda line: reference.tokenize(line.encode(), add_bos=False, special=False))
        == []
    )
    assert (
        _mismatches(_default("smollm2"), lambda line: reference.tokenize(line.encode(), add_bos=False, special=True))
        == []
    )


@pytest.mark.parametrize("name", ["smollm2", "llama3", "mistral", "qwen2", "cl100k", "o200k"])
def test_offsets_cover_the_text_and_decode_round_trips(name):
    engine = resolve_tokenizer(name).engine
    for line in CORPUS:
        text, tokens = engine.tokens(line, add_special=False, parse_special=False)
        assert tokens[0].start == 0 and tokens[-1].end == len(text) if tokens else text == ""
        for before, after in zip(tokens, tokens[1:], strict=False):
            assert before.start <= after.start <= before.end <= after.end, (line, before, after)
        assert [token.id for token in tokens] == engine.encode(line, add_special=False, parse_special=False)
        assert engine.decode([token.id for token in tokens]) == text, (name, line)

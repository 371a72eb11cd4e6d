"""Builds tests/data/token_corpus.jsonl: the lines the tokenizer reference tests encode (one JSON string a line).

Deterministic (fixed seeds). Run with Faker installed: `.venv/bin/python tests/data/make_token_corpus.py`.
Categories: multilingual prose, names and addresses (Faker locales), code, numbers, emoji, mixed
whitespace, Unicode edge cases and special-token look-alikes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from faker import Faker

LOCALES = [
    "en_US",
    "en_GB",
    "de_DE",
    "fr_FR",
    "es_ES",
    "it_IT",
    "pt_BR",
    "nl_NL",
    "pl_PL",
    "tr_TR",
    "ru_RU",
    "uk_UA",
    "el_GR",
    "he_IL",
    "ar_AA",
    "fa_IR",
    "hi_IN",
    "th_TH",
    "vi_VN",
    "zh_CN",
    "zh_TW",
    "ja_JP",
    "ko_KR",
    "id_ID",
]
SPECIAL_LOOKALIKES = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<s>",
    "</s>",
    "<unk>",
    "[INST]",
    "[/INST]",
    "<<SYS>>",
    "<</SYS>>",
    "<|begin_of_text|>",
    "<|eot_id|>",
    "<|start_header_id|>",
    "<|endoftext",
    "< |im_start| >",
    "<|fim_prefix|>",
    "<pad>",
    "<mask>",
    "<|reserved|>",
]
EMOJI = ["😀", "🎉", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "🇫🇷", "❤️", "🤖", "🔥", "✅", "🚀", "🧑🏿‍💻", "☕", "🙈", "💯"]
EDGE = [
    "e\u0301",
    "A\u030a",
    "\u200b",
    "\u200d",
    "\u00a0",
    "\u202e",
    "\ufeff",
    "ﬁ",
    "Ⅻ",
    "①",
    "ｆｕｌｌ",
    "𝔘𝔫𝔦",
    "∑∫√∞≠",
    "µ",
    "Å",
    "ǅ",
    "İstanbul",
    "straße",
    "\u3000",
    "ｶﾀｶﾅ",
    "한글",
    "가",
    "𠜎𠜱",
    "ꦲꦏ꧀ꦱꦫ",
]
IDENTIFIERS = ["user_id", "parseTokens", "HTTPServer", "max_len", "self", "df", "x1", "__init__", "ctx", "i"]


def prose(fake: Faker, rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return fake.text(max_nb_chars=rng.choice([60, 160, 400])).replace("\n", " ")
    if kind == 1:
        return f"{fake.name()}, {fake.address()}"  # addresses keep their newline
    if kind == 2:
        return fake.sentence(nb_words=rng.randint(3, 18))
    return f"{fake.company()} — {fake.catch_phrase()}" if hasattr(fake, "catch_phrase") else fake.sentence()


def code(rng: random.Random) -> str:
    a, b = rng.sample(IDENTIFIERS, 2)
    indent = rng.choice(["", "    ", "        ", "\t", "\t\t"])
    templates = [
        f"{indent}def {a}({b}, *args, **kwargs) -> dict[str, int]:",
        f"{indent}if {a} is not None and len({b}) >= {rng.randint(0, 999)}:",
        f"{indent}return {{'{a}': {b}[{rng.randint(0, 9)}:], \"n\": {rng.random():.4f}}}",
        f"{indent}for (int {a} = 0; {a} < n; ++{a}) {{ sum += {b}[{a}] * {a}; }}",
        f"SELECT {a}, COUNT(*) AS n FROM orders WHERE {b} >= '2024-01-0{rng.randint(1, 9)}' GROUP BY 1;",
        f'<div class="{a}" data-id="{rng.randint(1, 99999)}"><a href="https://example.com/{b}?q=1&x=2">link</a></div>',
        f'{{"{a}": [{rng.randint(-99, 99)}, {rng.random():.3e}, null, true], "{b}": {{"nested": "va\\"lue"}}}}',
        f"{indent}const {a} = async ({b}) => await fetch(`/api/${{{b}}}`).then(r => r.json());",
        f"{indent}# TODO({a}): handle {b} == NaN || {b} === undefined  /* {rng.randint(0, 9)} */",
        rf"pattern = re.compile(r'^(?P<{a}>[A-Za-z_]\w*)\s*=\s*(\d+|\"[^\"]*\")$')",
        f"{indent}let {a}: Vec<u8> = {b}.iter().map(|x| x >> 2).collect::<Vec<_>>();",
        f'$ git commit -m "fix({a}): {b}" && ./run.sh --flag={rng.randint(0, 5)} 2>&1 | tee log.txt',
    ]
    return rng.choice(templates)


def numbers(rng: random.Random, fake: Faker) -> str:
    choices = [
        str(rng.randint(0, 10 ** rng.randint(1, 20))),
        f"{rng.uniform(-1e6, 1e6):,.2f}",
        f"{rng.random():.12f}",
        f"{rng.randint(1, 31):02d}/{rng.randint(1, 12):02d}/{rng.randint(1900, 2100)}",
        f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}",
        f"v{rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}-rc{rng.randint(1, 5)}",
        f"{rng.randint(1, 9999)}€ / ${rng.randint(1, 9999)}.{rng.randint(0, 99):02d} / ¥{rng.randint(100, 99999)}",
        f"{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}:{rng.randint(1, 65535)}",
        fake.iso8601(),
        "1e-10 3.14159 2^64 0x7fff_ffff 0b1010 1_000_000",
    ]
    return rng.choice(choices)


def emoji(rng: random.Random, fake: Faker) -> str:
    glyphs = "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 6)))
    return rng.choice([glyphs, f"{fake.sentence()} {glyphs}", f"{glyphs}{glyphs} x{rng.randint(2, 9)}"])


def whitespace(rng: random.Random, fake: Faker) -> str:
    words = fake.words(nb=rng.randint(2, 6))
    separators = [" ", "  ", "   ", "\t", " \t ", "\n", "\n\n", "\r\n", "    \n", " \u00a0 "]
    line = "".join(word + rng.choice(separators) for word in words)
    return rng.choice(["", " ", "  ", "\t", "\n"]) + line + rng.choice(["", " ", "   ", "\n", "\n\n\n"])


def edge(rng: random.Random, fake: Faker) -> str:
    parts = rng.sample(EDGE, rng.randint(1, 4))
    return rng.choice([" ".join(parts), "".join(parts) + fake.word(), f"{fake.word()}{parts[0]}{fake.word()}"])


def lookalike(rng: random.Random, fake: Faker) -> str:
    marker = rng.choice(SPECIAL_LOOKALIKES)
    return rng.choice(
        [
            f"{marker}{fake.sentence()}",
            f"{fake.sentence()} {marker}",
            f"{marker}user\n{fake.sentence()}{marker}",
            f"text with {marker} inside and {rng.choice(SPECIAL_LOOKALIKES)}",
        ]
    )


def build(lines_per_kind: int = 150, seed: int = 20261127) -> list[str]:
    rng = random.Random(seed)
    fakers = {}
    for locale in LOCALES:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed)
    english = fakers["en_US"]
    lines = []
    for index in range(lines_per_kind * 2):  # prose and names in every locale: twice the share
        lines.append(prose(fakers[LOCALES[index % len(LOCALES)]], rng))
    for _ in range(lines_per_kind):
        lines.append(code(rng))
        lines.append(numbers(rng, english))
        lines.append(emoji(rng, english))
        lines.append(whitespace(rng, fakers[rng.choice(LOCALES)]))
        lines.append(edge(rng, english))
        lines.append(lookalike(rng, english))
    return lines


if __name__ == "__main__":
    corpus = build()
    target = Path(__file__).with_name("token_corpus.jsonl")
    target.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in corpus), encoding="utf-8")
    print(f"{len(corpus)} lines -> {target}")

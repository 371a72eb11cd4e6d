"""Readers for the vocabulary formats the offline tokenizers ship in, and conversion to one runtime format.

Every offline tokenizer ends up as a Hugging Face `tokenizers` JSON (one runtime: offsets, special tokens,
batching). Byte-level BPE vocabularies that ship as ranks (tiktoken files, quicktok's binary vocab) are
converted here; the conversion is what the reference tests check against tiktoken.
"""

from __future__ import annotations

import base64
import struct
from pathlib import Path

Ranks = dict[bytes, int]

# The split patterns are part of each encoding's definition (as published with tiktoken and the models).
CL100K_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = CL100K_PATTERN
QWEN2_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)


def read_tiktoken_ranks(path: Path) -> Ranks:
    """A `.tiktoken` file: one `base64(token) rank` per line (also Llama 3's `tokenizer.model`)."""
    ranks: Ranks = {}
    for line_number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
        except ValueError as exc:
            raise ValueError(f"{path}:{line_number}: not a 'base64 rank' line") from exc
    return ranks


def read_quicktok_vocab(path: Path) -> Ranks:
    """quicktok's `.vocab`: u32 count, then per token u16 length, the bytes, u32 rank (little endian)."""
    data = path.read_bytes()
    (count,) = struct.unpack_from("<I", data, 0)
    position, ranks = 4, {}
    for _ in range(count):
        (length,) = struct.unpack_from("<H", data, position)
        token = data[position + 2 : position + 2 + length]
        (rank,) = struct.unpack_from("<I", data, position + 2 + length)
        ranks[token] = rank
        position += 6 + length
    if position != len(data):
        raise ValueError(f"{path}: {len(data) - position} trailing bytes; not a quicktok vocabulary")
    return ranks


def read_quicktok_specials(path: Path) -> dict[str, int]:
    """quicktok's `.special`: u32 count, then per token u32 id, u16 length, UTF-8 text."""
    data = path.read_bytes()
    (count,) = struct.unpack_from("<I", data, 0)
    position, specials = 4, {}
    for _ in range(count):
        token_id, length = struct.unpack_from("<IH", data, position)
        specials[data[position + 6 : position + 6 + length].decode("utf-8")] = token_id
        position += 6 + length
    return specials


def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in for each byte, which byte-level BPE vocabularies are written in."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return mapping


BYTE_TO_UNICODE = _byte_to_unicode()


def as_byte_level(token: bytes) -> str:
    return "".join(BYTE_TO_UNICODE[b] for b in token)


def _split_by_lower_ranks(token: bytes, ranks: Ranks, max_rank: int) -> list[bytes]:
    """Byte-pair encode `token` using only merges ranked below `max_rank`: what produced it in training."""
    parts = [bytes([b]) for b in token]
    while len(parts) > 1:
        best_index, best_rank = -1, max_rank
        for index in range(len(parts) - 1):
            rank = ranks.get(parts[index] + parts[index + 1])
            if rank is not None and rank < best_rank:
                best_index, best_rank = index, rank
        if best_index < 0:
            break
        parts[best_index : best_index + 2] = [parts[best_index] + parts[best_index + 1]]
    return parts


def merges_from_ranks(ranks: Ranks) -> list[tuple[bytes, bytes]]:
    """The merge list a rank table implies: each multi-byte token splits into the two parts it was merged from."""
    merges = []
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) < 2:
            continue
        parts = _split_by_lower_ranks(token, ranks, rank)
        if len(parts) != 2:
            raise ValueError(f"token {token!r} (rank {rank}) cannot be built from lower-ranked tokens")
        merges.append((parts[0], parts[1]))
    return merges


def byte_level_bpe_json(ranks: Ranks, pattern: str, specials: dict[str, int], *, nfc: bool = False) -> dict:
    """A `tokenizers` JSON equivalent to tiktoken's rules: whole pieces found in the vocabulary win (ignore_merges)."""
    vocab = {as_byte_level(token): rank for token, rank in ranks.items()}
    merges = [[as_byte_level(left), as_byte_level(right)] for left, right in merges_from_ranks(ranks)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": token_id,
                "content": text,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for text, token_id in sorted(specials.items(), key=lambda item: item[1])
        ],
        "normalizer": {"type": "NFC"} if nfc else None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            ],
        },
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": True,
            "vocab": vocab,
            "merges": merges,
        },
    }

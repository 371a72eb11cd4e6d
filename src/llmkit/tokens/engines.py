"""Tokenizer engines: one interface over the libraries that define each vocabulary.

Each offline tokenizer runs on the library that defines its format, so encoding costs what the reference
costs: tiktoken for rank files (OpenAI encodings, Llama 3, Qwen2), sentencepiece for `.model` files
(Mistral), Hugging Face `tokenizers` for `tokenizer.json` (SmolLM2, any hub model or local folder).
"""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from llmkit.tokens.formats import Ranks, as_byte_level
from llmkit.tokens.types import Token, TokenRef

THREADS = 2  # batch encoding threads; the default machine has two cores


class TokenizerEngine(ABC):
    """What the lab needs from a tokenizer. Ids are plain ints; offsets are character offsets."""

    bos: TokenRef | None = None
    eos: TokenRef | None = None
    pad: TokenRef | None = None
    unk: TokenRef | None = None
    mask: TokenRef | None = None
    adds_bos: bool = False
    chat_template: str | None = None

    @property
    @abstractmethod
    def vocab_size(self) -> int: ...

    @abstractmethod
    def special_tokens(self) -> list[TokenRef]:
        """Tokens written as control markers (never produced by splitting ordinary text)."""

    # Two switches, as in the reference libraries: `add_special` adds what the tokenizer puts around a text
    # (BOS); `parse_special` reads special-token text such as "<|im_start|>" as the special token.

    @abstractmethod
    def encode(self, text: str, *, add_special: bool = True, parse_special: bool = True) -> list[int]: ...

    def encode_batch(
        self, texts: Sequence[str], *, add_special: bool = True, parse_special: bool = True
    ) -> list[list[int]]:
        return [self.encode(text, add_special=add_special, parse_special=parse_special) for text in texts]

    @abstractmethod
    def tokens(self, text: str, *, add_special: bool = True, parse_special: bool = True) -> tuple[str, list[Token]]:
        """Tokens with offsets, and the text the offsets refer to."""

    @abstractmethod
    def decode(self, ids: Sequence[int], *, skip_special: bool = False) -> str: ...

    def knows(self, token_id: int) -> bool:
        return 0 <= token_id < self.vocab_size

    def prepare(self, text: str) -> str:
        """The normalization the tokenizer applies before splitting (none by default)."""
        return text


def _byte_offsets_to_chars(text: str) -> list[int]:
    """For each UTF-8 byte position, the index of the character it belongs to (plus the end position)."""
    positions = []
    for index, char in enumerate(text):
        positions.extend([index] * len(char.encode("utf-8")))
    positions.append(len(text))
    return positions


def _spans_from_lengths(text: str, byte_lengths: Sequence[int]) -> list[tuple[int, int]]:
    """Character spans of consecutive tokens given each one's length in bytes; a token that only covers part
    of a multi-byte character gets that character's span."""
    char_at = _byte_offsets_to_chars(text)
    spans, position = [], 0
    for length in byte_lengths:
        start, end = char_at[position], char_at[min(position + length, len(char_at) - 1)]
        if end == start and length:
            end = min(start + 1, len(text))
        spans.append((start, end))
        position += length
    return spans


def _nfc(text: str) -> str:
    """NFC line by line, touching only lines that need it: a newline blocks every composition and reordering,
    so this equals normalizing the whole text, at a third of the cost on mostly-normalized text."""
    if text.isascii():
        return text
    return "\n".join(
        line if unicodedata.is_normalized("NFC", line) else unicodedata.normalize("NFC", line)
        for line in text.split("\n")
    )


class TiktokenEngine(TokenizerEngine):
    def __init__(
        self,
        name: str,
        ranks: Ranks,
        pattern: str,
        specials: dict[str, int],
        *,
        bos: str | None = None,
        eos: str | None = None,
        pad: str | None = None,
        nfc: bool = False,
    ) -> None:
        import tiktoken

        self._encoding = tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=specials)
        self._specials = specials
        self._special_ids = set(specials.values())
        self._ordinary_count = len(ranks)
        self._nfc = nfc
        self.bos, self.eos, self.pad = (self._ref(token) for token in (bos, eos, pad))
        self.adds_bos = bos is not None

    def _ref(self, text: str | None) -> TokenRef | None:
        return TokenRef(text, self._specials[text]) if text else None

    @property
    def vocab_size(self) -> int:
        return self._encoding.n_vocab

    def special_tokens(self) -> list[TokenRef]:
        return [TokenRef(text, token_id) for text, token_id in sorted(self._specials.items(), key=lambda i: i[1])]

    def knows(self, token_id: int) -> bool:
        # Rank files number ordinary tokens 0..n-1; special ids may leave gaps above them.
        return 0 <= token_id < self._ordinary_count or token_id in self._special_ids

    def prepare(self, text: str) -> str:
        # Qwen2's tokenizer normalizes to NFC before splitting; tiktoken itself does not.
        return _nfc(text) if self._nfc else text

    def encode(self, text: str, *, add_special: bool = True, parse_special: bool = True) -> list[int]:
        text = self.prepare(text)
        if parse_special:
            ids = self._encoding.encode(text, allowed_special="all")
        else:
            ids = self._encoding.encode_ordinary(text)
        return [self.bos.id, *ids] if add_special and self.bos else ids

    def encode_batch(
        self, texts: Sequence[str], *, add_special: bool = True, parse_special: bool = True
    ) -> list[list[int]]:
        texts = [self.prepare(text) for text in texts]
        if parse_special:
            batch = self._encoding.encode_batch(texts, num_threads=THREADS, allowed_special="all")
        else:
            batch = self._encoding.encode_ordinary_batch(texts, num_threads=THREADS)
        return [[self.bos.id, *ids] for ids in batch] if add_special and self.bos else batch

    def tokens(self, text: str, *, add_special: bool = True, parse_special: bool = True) -> tuple[str, list[Token]]:
        text = self.prepare(text)
        ids = self.encode(text, add_special=add_special, parse_special=parse_special)
        body = ids[1:] if add_special and self.bos else ids
        pieces = [self._encoding.decode_single_token_bytes(token_id) for token_id in body]
        spans = _spans_from_lengths(text, [len(piece) for piece in pieces])
        tokens = [Token(self.bos.id, self.bos.text, 0, 0, True)] if add_special and self.bos else []
        for token_id, piece, (start, end) in zip(body, pieces, spans, strict=True):
            is_special = token_id in self._special_ids
            shown = piece.decode("utf-8") if is_special else as_byte_level(piece)
            tokens.append(Token(token_id, shown, start, end, is_special))
        return text, tokens

    def decode(self, ids: Sequence[int], *, skip_special: bool = False) -> str:
        if skip_special:
            ids = [token_id for token_id in ids if token_id not in self._special_ids]
        return self._encoding.decode(list(ids), errors="replace")


class SentencePieceEngine(TokenizerEngine):
    def __init__(self, model_file: str, *, add_bos: bool = True) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_file)
        self.adds_bos = add_bos
        ref = lambda token_id: TokenRef(self._sp.id_to_piece(token_id), token_id) if token_id >= 0 else None  # noqa: E731
        self.bos, self.eos, self.pad, self.unk = (
            ref(self._sp.bos_id()),
            ref(self._sp.eos_id()),
            ref(self._sp.pad_id()),
            ref(self._sp.unk_id()),
        )
        self._control = {
            self._sp.id_to_piece(i): i
            for i in range(self._sp.get_piece_size())
            if self._sp.is_control(i) or self._sp.is_unknown(i)
        }

    @property
    def vocab_size(self) -> int:
        return self._sp.get_piece_size()

    def special_tokens(self) -> list[TokenRef]:
        return [TokenRef(text, token_id) for text, token_id in sorted(self._control.items(), key=lambda i: i[1])]

    def _segments(self, text: str, parse_special: bool) -> list[str | int]:
        """Text split around special-token markers, which become their ids."""
        if not parse_special:
            return [text]
        segments: list[str | int] = []
        rest = text
        while rest:
            hits = [(rest.find(marker), marker) for marker in self._control if marker in rest]
            if not hits:
                segments.append(rest)
                break
            position, marker = min(hits)
            if position:
                segments.append(rest[:position])
            segments.append(self._control[marker])
            rest = rest[position + len(marker) :]
        return segments

    def encode(self, text: str, *, add_special: bool = True, parse_special: bool = True) -> list[int]:
        ids = [self.bos.id] if add_special and self.adds_bos and self.bos else []
        for segment in self._segments(text, parse_special):
            ids.extend([segment] if isinstance(segment, int) else self._sp.encode(segment))
        return ids

    def encode_batch(
        self, texts: Sequence[str], *, add_special: bool = True, parse_special: bool = True
    ) -> list[list[int]]:
        if parse_special and any(marker in text for text in texts for marker in self._control):
            return super().encode_batch(texts, add_special=add_special, parse_special=parse_special)
        batch = self._sp.encode(list(texts), num_threads=THREADS)
        if add_special and self.adds_bos and self.bos:
            return [[self.bos.id, *ids] for ids in batch]
        return batch

    def tokens(self, text: str, *, add_special: bool = True, parse_special: bool = True) -> tuple[str, list[Token]]:
        tokens = [Token(self.bos.id, self.bos.text, 0, 0, True)] if add_special and self.adds_bos and self.bos else []
        offset = 0
        for segment in self._segments(text, parse_special):
            if isinstance(segment, int):
                piece = self._sp.id_to_piece(segment)
                tokens.append(Token(segment, piece, offset, offset + len(piece), True))
                offset += len(piece)
                continue
            ids = self._sp.encode(segment)
            # Offsets from the pieces themselves ("▁" is a space, "<0xNN>" one byte); the dummy prefix space
            # sentencepiece adds in front maps to nothing in the input.
            lengths = [self._piece_length(token_id) for token_id in ids]
            spans = _spans_from_lengths(" " + segment, lengths)
            for token_id, (start, end) in zip(ids, spans, strict=True):
                start, end = max(start - 1, 0), max(end - 1, 0)
                tokens.append(Token(token_id, self._sp.id_to_piece(token_id), offset + start, offset + end, False))
            offset += len(segment)
        return text, tokens

    def _piece_length(self, token_id: int) -> int:
        if self._sp.is_byte(token_id):
            return 1
        return len(self._sp.id_to_piece(token_id).replace("\u2581", " ").encode("utf-8"))

    def decode(self, ids: Sequence[int], *, skip_special: bool = False) -> str:
        # sentencepiece drops control ids on decode; written out they show where they were.
        parts, run = [], []
        for token_id in ids:
            if self._sp.is_control(token_id):
                parts.append(self._sp.decode(run))
                run = []
                if not skip_special:
                    parts.append(self._sp.id_to_piece(token_id))
            else:
                run.append(token_id)
        parts.append(self._sp.decode(run))
        return "".join(parts)


class HFEngine(TokenizerEngine):
    """A Hugging Face `tokenizers.Tokenizer`, with the special-token roles transformers' config names."""

    def __init__(
        self, tokenizer: Any, *, roles: dict[str, str | None] | None = None, chat_template: str | None = None
    ) -> None:
        self._tokenizer = tokenizer
        self._plain = _copy_without_special_parsing(tokenizer)
        self.chat_template = chat_template
        for role, text in (roles or {}).items():
            token_id = tokenizer.token_to_id(text) if text else None
            if token_id is not None:
                setattr(self, role, TokenRef(text, token_id))
        probe = tokenizer.encode("a", add_special_tokens=True).ids
        self.adds_bos = bool(self.bos) and probe[:1] == [self.bos.id]

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def special_tokens(self) -> list[TokenRef]:
        added = self._tokenizer.get_added_tokens_decoder()
        return [TokenRef(token.content, token_id) for token_id, token in sorted(added.items()) if token.special]

    def _pick(self, parse_special: bool) -> Any:
        return self._tokenizer if parse_special else self._plain

    def encode(self, text: str, *, add_special: bool = True, parse_special: bool = True) -> list[int]:
        return self._pick(parse_special).encode(text, add_special_tokens=add_special).ids

    def encode_batch(
        self, texts: Sequence[str], *, add_special: bool = True, parse_special: bool = True
    ) -> list[list[int]]:
        batch = self._pick(parse_special).encode_batch(list(texts), add_special_tokens=add_special)
        return [encoding.ids for encoding in batch]

    def tokens(self, text: str, *, add_special: bool = True, parse_special: bool = True) -> tuple[str, list[Token]]:
        encoding = self._pick(parse_special).encode(text, add_special_tokens=add_special)
        special_ids = {ref.id for ref in self.special_tokens()}
        return text, [
            Token(token_id, piece, start, end, token_id in special_ids)
            for token_id, piece, (start, end) in zip(encoding.ids, encoding.tokens, encoding.offsets, strict=True)
        ]

    def decode(self, ids: Sequence[int], *, skip_special: bool = False) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=skip_special)


def _copy_without_special_parsing(tokenizer: Any) -> Any:
    """A twin that reads special-token text as ordinary text (what `--no-special` means)."""
    from tokenizers import Tokenizer

    twin = Tokenizer.from_str(tokenizer.to_str())
    twin.encode_special_tokens = True
    return twin

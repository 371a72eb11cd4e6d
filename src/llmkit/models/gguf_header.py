"""A fast reader of a GGUF file's header: its scalar and text metadata and each tensor's type.

`gguf.GGUFReader` turns every array element into a numpy view in Python; on a 262k-token vocabulary
(Gemma 3) that takes a minute or more on a busy CPU, and it is read several times per conversion. This
reader skips arrays by their lengths instead and keeps only what llmkit asks about (the pre-tokenizer,
the chat template, the weight types).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


@dataclass
class GGUFHeader:
    metadata: dict[str, Any] = field(default_factory=dict)  # arrays are left out (their keys map to None)
    tensor_types: list[tuple[str, int, int]] = field(default_factory=list)  # (name, dimensions, ggml type id)


def read_gguf_header(path: Path) -> GGUFHeader:
    header = GGUFHeader()
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        _version, tensors, entries = struct.unpack("<IQQ", handle.read(20))
        for _ in range(entries):
            key = _string(handle)
            (kind,) = struct.unpack("<I", handle.read(4))
            header.metadata[key] = _value(handle, kind)
        for _ in range(tensors):
            name = _string(handle)
            (dims,) = struct.unpack("<I", handle.read(4))
            handle.seek(8 * dims, 1)
            (kind,) = struct.unpack("<I", handle.read(4))
            handle.seek(8, 1)  # the data offset
            header.tensor_types.append((name, dims, kind))
    return header


def _string(handle: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", handle.read(8))
    return handle.read(length).decode("utf-8", errors="replace")


def _value(handle: BinaryIO, kind: int) -> Any:
    if kind == _STRING:
        return _string(handle)
    if kind == _ARRAY:
        element, count = struct.unpack("<IQ", handle.read(12))
        _skip_array(handle, element, count)
        return None
    fmt = _SCALARS[kind]
    return struct.unpack(fmt, handle.read(struct.calcsize(fmt)))[0]


def _skip_array(handle: BinaryIO, element: int, count: int) -> None:
    if element in _SCALARS:
        handle.seek(struct.calcsize(_SCALARS[element]) * count, 1)
        return
    for _ in range(count):  # strings (a vocabulary) or nested arrays: each carries its own length
        if element == _STRING:
            (length,) = struct.unpack("<Q", handle.read(8))
            handle.seek(length, 1)
        else:
            inner, inner_count = struct.unpack("<IQ", handle.read(12))
            _skip_array(handle, inner, inner_count)

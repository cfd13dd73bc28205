"""A GGUF model file's own name, read from its metadata header without loading the model.

GGUF starts with a header of typed key/value pairs; `general.name` is the model's name as its
publisher wrote it. Only the header is read, with every length bounded, so a damaged or
hostile file gives None (and the caller falls back to the file name), never a huge read.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

MAGIC = b"GGUF"
NAME_KEY = "general.name"
MAX_KEYS = 4_096  # general.* keys come first; a real header has a few dozen before the tokenizer
MAX_STRING_BYTES = 1 << 20
MAX_ARRAY_ITEMS = 1 << 22
MAX_NAME_CHARS = 120

# Value types of the GGUF specification and the struct format of the fixed-size ones.
_FIXED = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING = 8
_ARRAY = 9


class _Malformed(Exception):
    pass


def _read(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise _Malformed("truncated")
    return data


def _unpack(stream: BinaryIO, fmt: str) -> int:
    value: int = struct.unpack("<" + fmt, _read(stream, struct.calcsize(fmt)))[0]
    return value


def _string(stream: BinaryIO) -> bytes:
    length = _unpack(stream, "Q")
    if length > MAX_STRING_BYTES:
        raise _Malformed("string too long")
    return _read(stream, length)


def _skip_value(stream: BinaryIO, kind: int) -> None:
    if kind in _FIXED:
        _read(stream, struct.calcsize(_FIXED[kind]))
    elif kind == _STRING:
        _string(stream)
    elif kind == _ARRAY:
        item_kind, count = _unpack(stream, "I"), _unpack(stream, "Q")
        if count > MAX_ARRAY_ITEMS or item_kind == _ARRAY:
            raise _Malformed("array too large or nested")
        if item_kind in _FIXED:
            _read(stream, struct.calcsize(_FIXED[item_kind]) * count)
        else:
            for _ in range(count):
                _skip_value(stream, item_kind)
    else:
        raise _Malformed(f"unknown value type {kind}")


def gguf_model_name(path: Path) -> str | None:
    """`general.name` from the GGUF header of `path`, or None when absent or unreadable."""
    try:
        with path.open("rb") as stream:
            if _read(stream, 4) != MAGIC:
                return None
            version = _unpack(stream, "I")
            if version < 2:  # version 1 used 32-bit lengths; nothing current writes it
                return None
            _unpack(stream, "Q")  # tensor count
            keys = _unpack(stream, "Q")
            for _ in range(min(keys, MAX_KEYS)):
                key = _string(stream).decode("utf-8", "replace")
                kind = _unpack(stream, "I")
                if key == NAME_KEY and kind == _STRING:
                    name = " ".join(_string(stream).decode("utf-8", "replace").split())
                    return name[:MAX_NAME_CHARS] or None
                _skip_value(stream, kind)
    except (OSError, _Malformed, struct.error):
        return None
    return None

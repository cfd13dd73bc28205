"""Reading a GGUF file's own name from its header: real files, written to the specification."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from doctown.backends.gguf import MAX_STRING_BYTES, gguf_model_name


def _string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data)) + data


def gguf(path: Path, pairs: list[tuple[str, int, bytes]], *, version: int = 3) -> Path:
    """A GGUF header: magic, version, no tensors, then `pairs` of (key, value type, value)."""
    body = b"GGUF" + struct.pack("<IQQ", version, 0, len(pairs))
    for key, kind, value in pairs:
        body += _string(key) + struct.pack("<I", kind) + value
    path.write_bytes(body)
    return path


TOKENS = struct.pack("<IQ", 8, 3) + _string("<s>") + _string("a") + _string("b")
SCORES = struct.pack("<IQ", 6, 3) + struct.pack("<3f", 0.0, 0.5, 1.0)


def test_the_name_is_found_after_values_of_every_shape(tmp_path: Path) -> None:
    path = gguf(
        tmp_path / "m.gguf",
        [
            ("general.architecture", 8, _string("llama")),
            ("general.quantization_version", 4, struct.pack("<I", 2)),
            ("llama.rope.freq_base", 6, struct.pack("<f", 1e5)),
            ("general.use_cache", 7, b"\x01"),
            ("tokenizer.ggml.tokens", 9, TOKENS),
            ("tokenizer.ggml.scores", 9, SCORES),
            ("general.size", 10, struct.pack("<Q", 135_000_000)),
            ("general.name", 8, _string("Gemma 3\n270m  It")),
        ],
    )
    assert gguf_model_name(path) == "Gemma 3 270m It"


def test_the_bundled_model_names_itself(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    from doctown.backends.local import find_model_file

    assert gguf_model_name(find_model_file()) == "Smollm2 135M 8k Lc100K Mix1 Ep2"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("not-gguf.gguf", b"PK\x03\x04 a zip, not a model"),
        ("empty.gguf", b""),
        ("truncated.gguf", b"GGUF" + struct.pack("<IQQ", 3, 0, 5) + _string("general.na")),
        ("old.gguf", b"GGUF" + struct.pack("<I", 1) + b"\x00" * 16),
        (
            "huge-string.gguf",
            b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", MAX_STRING_BYTES + 1),
        ),
        (
            "unknown-type.gguf",
            b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + _string("x") + struct.pack("<I", 99),
        ),
    ],
)
def test_a_damaged_or_foreign_file_gives_no_name(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert gguf_model_name(path) is None


def test_a_file_without_a_name_gives_none(tmp_path: Path) -> None:
    path = gguf(tmp_path / "anon.gguf", [("general.architecture", 8, _string("llama"))])
    assert gguf_model_name(path) is None
    assert gguf_model_name(tmp_path / "missing.gguf") is None

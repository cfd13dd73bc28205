"""Request files: one line per request, the same body as a synchronous request, split to limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doctown.batch.requests import ENDPOINT, request_line, split, write_files


def lines(count: int, size: int = 10) -> list[tuple[str, bytes]]:
    return [(f"k{i}", request_line(f"k{i}", {"pad": "x" * size})) for i in range(count)]


def test_a_line_is_an_openai_batch_request() -> None:
    line = json.loads(request_line("abc", {"model": "m", "messages": []}))
    assert line == {
        "custom_id": "abc",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "m", "messages": []},
    }
    assert ENDPOINT == "/v1/chat/completions"


def test_split_respects_the_request_count() -> None:
    parts = split(lines(7), max_requests=3)
    assert [len(part) for part in parts] == [3, 3, 1]
    assert [key for part in parts for key, _ in part] == [f"k{i}" for i in range(7)]


def test_split_respects_the_file_size() -> None:
    each = len(lines(1)[0][1])
    parts = split(lines(5), max_bytes=each * 2)
    assert [len(part) for part in parts] == [2, 2, 1]
    assert all(sum(len(line) for _, line in part) <= each * 2 for part in parts)
    with pytest.raises(ValueError, match="larger than"):
        split(lines(1, size=100), max_bytes=50)


def test_files_are_named_by_content_and_hold_every_line(tmp_path: Path) -> None:
    parts = split(lines(5), max_requests=2)
    first = write_files(tmp_path, parts)
    again = write_files(tmp_path, parts)
    assert [f.path for f in first] == [f.path for f in again] and len(first) == 3
    assert first[0].keys == ["k0", "k1"]
    assert first[0].path.read_bytes().count(b"\n") == 2 == len(first[0].keys)
    assert first[0].bytes == first[0].path.stat().st_size

"""The Batch API's input: one JSONL line per request, split to the API's per-file limits.

Each line is `{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}` with the
same body a synchronous request would have; `custom_id` is the prompt's key, so results are
matched back without trusting their order. The same files run on vLLM unchanged:
`vllm run-batch -i requests-1.jsonl -o results.jsonl --model MODEL`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENDPOINT = "/v1/chat/completions"
MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 200 * 1024 * 1024


@dataclass(frozen=True)
class RequestFile:
    """One file of requests, as written to disk."""

    path: Path
    keys: list[str]  # the custom_id of each line, in order
    bytes: int


def request_line(custom_id: str, body: Mapping[str, Any]) -> bytes:
    line = {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def split(
    lines: Sequence[tuple[str, bytes]],
    *,
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
) -> list[list[tuple[str, bytes]]]:
    """Consecutive groups of `(custom_id, line)` within both limits of one file."""
    parts: list[list[tuple[str, bytes]]] = []
    current: list[tuple[str, bytes]] = []
    size = 0
    for custom_id, line in lines:
        if len(line) > max_bytes:
            raise ValueError(f"request {custom_id} alone is larger than {max_bytes} bytes")
        if current and (len(current) == max_requests or size + len(line) > max_bytes):
            parts.append(current)
            current, size = [], 0
        current.append((custom_id, line))
        size += len(line)
    if current:
        parts.append(current)
    return parts


def write_files(directory: Path, parts: Sequence[Sequence[tuple[str, bytes]]]) -> list[RequestFile]:
    """Write each part as a file named by its content, so the same requests reuse one name."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for part in parts:
        content = b"".join(line for _, line in part)
        path = directory / f"requests-{hashlib.sha256(content).hexdigest()[:16]}.jsonl"
        if not path.exists():
            partial = path.with_suffix(".partial")
            partial.write_bytes(content)
            partial.replace(path)
        written.append(RequestFile(path, [custom_id for custom_id, _ in part], len(content)))
    return written

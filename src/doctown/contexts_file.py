"""Reading symbol contexts from a JSON file, in any of the shapes the worker accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from doctown.errors import InputError
from doctown.schemas import GenerateRequest

MAX_FILE_BYTES = 512 * 1024 * 1024


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def parse_request(data: Any, *, default_job_id: str) -> GenerateRequest:
    """A request from a `/generate` body, a list of {symbol_id, context}, or bare contexts."""
    if isinstance(data, list):
        symbols = [
            item
            if isinstance(item, dict) and "context" in item
            else {
                "symbol_id": (item.get("symbol_id") if isinstance(item, dict) else None)
                or f"symbol_{i}",
                "context": item,
            }
            for i, item in enumerate(data)
        ]
        data = {"job_id": default_job_id, "symbols": symbols}
    elif isinstance(data, dict):
        data = {"job_id": default_job_id, **data}
    else:
        raise InputError(
            "Expected a JSON object with 'symbols', or a JSON list of symbol contexts."
        )
    try:
        return GenerateRequest.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in exc.errors()[:10])
        more = len(exc.errors()) - 10
        raise InputError(
            f"Invalid contexts: {problems}" + (f" (+{more} more)" if more > 0 else "")
        ) from None


def read_request(path: Path, *, default_job_id: str) -> GenerateRequest:
    """Load and validate a contexts file, naming the problem and where it is."""
    if not path.is_file():
        raise InputError(f"{path}: no such file. Pass a JSON file of symbol contexts.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB; split it.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; it must be a JSON file.") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return parse_request(data, default_job_id=default_job_id)

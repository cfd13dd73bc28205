"""What the fake OpenAI server answers: scripted replies, and the ways servers refuse formats.

A `Reply` is what the server does with one chat request (or one line of a batch). The
`*_refusal` functions reproduce how real OpenAI-compatible servers refuse a `response_format`
they do not support, body and status as observed:

- llama-cpp-python (0.3): 500, FastAPI's validation error inside an OpenAI-shaped error;
- vLLM before json_schema support: 400, its `{"object": "error", ...}` body naming the field;
- LM Studio (0.3.5+): 400, `{"error": "'response_format.type' must be 'json_schema' or 'text'"}`
  for `json_object`;
- Ollama (0.5.0-0.5.2): 400, `invalid format: expected "json" or a JSON schema`. Older Ollama
  ignored `json_schema` silently: script `text(...)` replies for that.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    """What the server does with one chat request."""

    kind: str = "ok"
    summary: str | None = None
    status: int = 200
    code: str | None = None
    error_type: str | None = None
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content: str | None = None


def ok(summary: str | None = None) -> Reply:
    return Reply(summary=summary)


def rate_limited(retry_after: float | None = None, retry_after_ms: float | None = None) -> Reply:
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    if retry_after_ms is not None:
        headers["retry-after-ms"] = str(retry_after_ms)
    return Reply(
        "error",
        status=429,
        code="rate_limit_exceeded",
        error_type="requests",
        message="Rate limit reached for requests",
        headers=headers,
    )


def server_error(status: int = 500) -> Reply:
    return Reply(
        "error", status=status, error_type="server_error", message="The server had an error"
    )


def insufficient_quota() -> Reply:
    return Reply(
        "error",
        status=429,
        code="insufficient_quota",
        error_type="insufficient_quota",
        message="You exceeded your current quota, please check your plan and billing details.",
    )


def bad_request(message: str = "Invalid request") -> Reply:
    return Reply(
        "error",
        status=400,
        code="invalid_request",
        error_type="invalid_request_error",
        message=message,
    )


def status_error(status: int, message: str = "error", code: str | None = None) -> Reply:
    return Reply(
        "error", status=status, code=code, error_type="invalid_request_error", message=message
    )


def refusal(text: str = "I'm sorry, I can't help with that.") -> Reply:
    return Reply("refusal", message=text)


def truncated() -> Reply:
    return Reply("length")


def malformed(content: str = '{"summary": "unterminated') -> Reply:
    return Reply("malformed", content=content)


def stall(seconds: float) -> Reply:
    """Answer normally, but only after `seconds` (longer than the client's timeout: a timeout)."""
    return Reply(delay=seconds)


_SYMBOL_LINE = re.compile(r"^Symbol: (.+)$", re.MULTILINE)
_KIND_LINE = re.compile(r"^Kind: (.+)$", re.MULTILINE)


def default_summary(user_message: str) -> str:
    """A deterministic summary naming the symbol the prompt is about."""
    name = _SYMBOL_LINE.search(user_message)
    kind = _KIND_LINE.search(user_message)
    return (
        f"Documents the {kind.group(1) if kind else 'symbol'} "
        f"{name.group(1) if name else 'unknown'}."
    )


_NUMBER_LINE = re.compile(r"^\[(\d+)\]$", re.MULTILINE)


def group_items(user_message: str) -> list[tuple[str, str]]:
    """The numbered symbols of a request about several at once, as (number, its text);
    empty for a request about one symbol."""
    marks = list(_NUMBER_LINE.finditer(user_message))
    if len(marks) < 2:
        return []
    ends = [mark.start() for mark in marks[1:]] + [len(user_message)]
    return [
        (mark.group(1), user_message[mark.end() : end].strip("\n") + "\n")
        for mark, end in zip(marks, ends, strict=True)
    ]


_REFERENCE = re.compile(r"^- \[([^\]\s]+)\]", re.MULTILINE)
_OVERVIEW_LINE = re.compile(r"^Overview of: (.+?) \[", re.MULTILINE)
_NOT_SYMBOLS = ("cluster:", "module:", "group:")


def structured_answer(schema: dict[str, Any], user_message: str, summary: str | None) -> str:
    """An answer that follows `schema` (an overview's), naming only references the prompt
    lists: the first symbols for ranked lists, the clusters for parts and relations."""
    refs = _REFERENCE.findall(user_message)
    clusters = [ref for ref in refs if ref.startswith("cluster:")]
    symbols = [ref for ref in refs if not ref.startswith(_NOT_SYMBOLS)]
    about = _OVERVIEW_LINE.search(user_message)
    text = summary or f"Gives an overview of the {about.group(1) if about else 'code'}."
    answer: dict[str, Any] = {}
    for name, field_schema in schema.get("properties", {}).items():
        if field_schema.get("type") != "array":
            answer[name] = "Part title" if name == "title" else text
            continue
        items = field_schema.get("items", {})
        if "$ref" in items or items.get("type") == "object":
            answer[name] = [{"cluster": c, "description": "Works with it."} for c in clusters[:3]]
        elif name == "main_parts":
            answer[name] = clusters[:3]
        else:
            answer[name] = symbols[:3]
    return json.dumps(answer)


def text(content: str) -> Reply:
    """Answer with this content as it stands (prose, fenced JSON...): a server ignoring formats."""
    return Reply("text", content=content)


@dataclass(frozen=True)
class FormatRefusal:
    """The status and body a server answers a response_format it cannot produce with."""

    status: int
    body: dict[str, Any]


def llama_cpp_python_refusal(format_type: str = "json_schema") -> FormatRefusal:
    message = (
        "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
        f"'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': '{format_type}', "
        "'ctx': {'expected': \"'text' or 'json_object'\"}}"
    )
    return FormatRefusal(
        500,
        {
            "error": {
                "message": message,
                "type": "internal_server_error",
                "param": None,
                "code": None,
            }
        },
    )


def vllm_refusal(format_type: str = "json_schema") -> FormatRefusal:
    message = (
        "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
        f"'msg': \"Input should be 'text' or 'json_object'\", 'input': '{format_type}'}}]"
    )
    return FormatRefusal(
        400,
        {
            "object": "error",
            "message": message,
            "type": "BadRequestError",
            "param": None,
            "code": 400,
        },
    )


def lm_studio_refusal(format_type: str = "json_object") -> FormatRefusal:
    del format_type  # LM Studio names what it accepts, not what it was sent
    return FormatRefusal(400, {"error": "'response_format.type' must be 'json_schema' or 'text'"})


def ollama_refusal(format_type: str = "json_schema") -> FormatRefusal:
    del format_type
    return FormatRefusal(
        400,
        {
            "error": {
                "message": 'invalid format: expected "json" or a JSON schema',
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
    )

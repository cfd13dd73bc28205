"""The structured-output ladder: what to ask a server for, and how to read what it answers.

OpenAI-compatible servers differ in the `response_format` they accept, so doctown asks for the
strongest one a server supports:

1. `json_schema`: the strict JSON schema (OpenAI, vLLM, Ollama 0.5+, LM Studio);
2. `json_object`: JSON mode with the schema alongside (llama.cpp's servers honour the schema);
3. `json_instructions`: no `response_format` at all; the prompt's JSON instructions, and the
   answer validated by doctown (a fenced or embedded JSON object is accepted);
4. `text`: an answer at rung 3 with no JSON in it is taken as the summary as it stands, and
   marked so (`output_format: "text"`) wherever the summary goes.

A server that cannot do a format says so with a 400, 422 or 500 naming `response_format`
(or `json_schema`, `json_object`): `format_unsupported` recognises it, and the backend steps
down a rung instead of retrying. Which rung works is probed once per (base URL, model) and
remembered (see `ladder.py`).
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from functools import cache
from typing import Any

import pydantic

from doctown.prompts import group_labels
from doctown.schemas import DocumentationOutput, GroupOutput


class OutputFormat(StrEnum):
    JSON_SCHEMA = "json_schema"
    JSON_OBJECT = "json_object"
    JSON_INSTRUCTIONS = "json_instructions"
    TEXT = "text"


# What a server can be asked for, strongest first. TEXT is how one answer is read, not a request.
LADDER = (OutputFormat.JSON_SCHEMA, OutputFormat.JSON_OBJECT, OutputFormat.JSON_INSTRUCTIONS)

# Statuses servers use to refuse a response_format: OpenAI and vLLM 400, FastAPI-based servers
# 422, llama.cpp's and llama-cpp-python's servers (and Ollama for some schemas) 500.
_REFUSAL_STATUSES = frozenset({400, 422, 500})
_FORMAT_WORDS = ("response_format", "response format", "json_schema", "json schema", "json_object")
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n?|\n?```\s*$")


# A summary's rules are in the system prompt; its schema only holds its shape (strict mode
# requires additionalProperties false).
SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
    "additionalProperties": False,
}


def _strict(schema: Any) -> Any:
    """`schema` as strict mode wants it: every object closed and every property required."""
    if isinstance(schema, dict):
        schema = {key: _strict(value) for key, value in schema.items()}
        if schema.get("type") == "object":
            schema["additionalProperties"] = False
            schema["required"] = list(schema.get("properties", {}))
        return schema
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@cache
def strict_schema(output: type[DocumentationOutput] = DocumentationOutput) -> dict[str, Any]:
    """The JSON schema of an answer of kind `output`, in strict form: a symbol summary's
    shape alone, an overview's with the descriptions of its keys."""
    if output is DocumentationOutput:
        return SUMMARY_SCHEMA
    result: dict[str, Any] = _strict(output.model_json_schema())
    return result


@cache
def _request_fields(rung: OutputFormat, output: type[DocumentationOutput]) -> dict[str, Any]:
    schema = strict_schema(output)
    if rung is OutputFormat.JSON_SCHEMA:
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": output.schema_name, "strict": True, "schema": schema},
            }
        }
    if rung is OutputFormat.JSON_OBJECT:
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {}


# The name a group's schema is sent under (the fake server tells a group's request by it).
GROUP_SCHEMA_NAME = "DocumentationGroup"


@cache
def group_schema(symbols: int) -> dict[str, Any]:
    """The strict schema of a group's answer: one string under each number, no other key."""
    labels = group_labels(symbols)
    return {
        "type": "object",
        "properties": {label: {"type": "string"} for label in labels},
        "required": labels,
        "additionalProperties": False,
    }


@cache
def _group_fields(rung: OutputFormat, symbols: int) -> dict[str, Any]:
    schema = group_schema(symbols)
    if rung is OutputFormat.JSON_SCHEMA:
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": GROUP_SCHEMA_NAME, "strict": True, "schema": schema},
            }
        }
    if rung is OutputFormat.JSON_OBJECT:
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {}


def request_fields(
    rung: OutputFormat, output: type[DocumentationOutput] = DocumentationOutput, symbols: int = 1
) -> dict[str, Any]:
    """The body fields that ask for `rung` (nothing at all for json_instructions), for an
    answer of kind `output`, or for the summaries of `symbols` symbols when there are several
    (a group's request, whose members are all symbol summaries)."""
    if symbols > 1:
        return _group_fields(rung, symbols)
    return _request_fields(rung, output)


def asks_for_format(rung: OutputFormat) -> bool:
    return rung is not OutputFormat.JSON_INSTRUCTIONS


def format_unsupported(status: int, error_text: str) -> bool:
    """True when an error answer says the server cannot produce the response_format asked for."""
    if status not in _REFUSAL_STATUSES:
        return False
    text = error_text.lower()
    return any(word in text for word in _FORMAT_WORDS)


def next_rung(rung: OutputFormat) -> OutputFormat | None:
    """The rung below `rung`, or None at the bottom."""
    index = LADDER.index(rung)
    return LADDER[index + 1] if index + 1 < len(LADDER) else None


def ignored_format(content: str) -> bool:
    """An answer to a JSON request that does not even start as JSON: the format was ignored."""
    return not content.lstrip().startswith("{")


def _embedded_object(content: str) -> str | None:
    """The JSON object inside fences or prose, as text; None when there is no `{` at all."""
    unfenced = _FENCE.sub("", content.strip())
    start, end = unfenced.find("{"), unfenced.rfind("}")
    return None if start == -1 else unfenced[start : end + 1]


def read_group(content: str, rung: OutputFormat, symbols: int) -> tuple[GroupOutput, OutputFormat]:
    """The summaries in an answer about `symbols` symbols, by number, and the format it was
    read as.

    The answer must be one JSON object (at json_instructions it may sit in fences or prose).
    A key that was not asked for means the numbering cannot be trusted, so the whole answer
    is refused; a number left out, or answered with something other than text, is that
    symbol's failure, decided when the answer is split. Raises ValueError for an answer that
    cannot be read this way: a group's answer is never taken as bare text.
    """
    try:
        data = json.loads(content)
    except ValueError:
        if rung is not OutputFormat.JSON_INSTRUCTIONS:
            raise
        text = _embedded_object(content)
        if text is None:
            raise ValueError("the answer holds no JSON object") from None
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    extra = sorted(set(data) - set(group_labels(symbols)))
    if extra:
        raise ValueError(f"the answer has keys that were not asked for: {', '.join(extra[:5])}")
    # A number answered with something other than text is as good as left out.
    summaries = {key: value for key, value in data.items() if isinstance(value, str)}
    return GroupOutput(summaries=summaries), rung


def read_summary(
    content: str, rung: OutputFormat, output: type[DocumentationOutput] = DocumentationOutput
) -> tuple[DocumentationOutput, OutputFormat]:
    """The answer of kind `output` asked for at `rung`, and the format it was really read as.

    At the JSON rungs the answer must be exactly the schema's JSON. At json_instructions a JSON
    object inside fences or prose is accepted too; an answer with no JSON object at all is
    taken as text when a summary is all the kind holds. Raises pydantic.ValidationError or
    ValueError for JSON that does not fit.
    """
    try:
        return output.model_validate_json(content), rung
    except pydantic.ValidationError:
        if rung is not OutputFormat.JSON_INSTRUCTIONS:
            raise
    embedded = _embedded_object(content)
    if embedded is None:
        if output is not DocumentationOutput:
            raise ValueError("the answer holds no JSON object")
        text = " ".join(_FENCE.sub("", content.strip()).split()).strip("\"'")
        return DocumentationOutput(summary=text), OutputFormat.TEXT
    return output.model_validate(json.loads(embedded)), rung

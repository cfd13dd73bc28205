"""Reading answers at each rung, and recognising a refused response_format in every shape."""

from __future__ import annotations

import json

import pydantic
import pytest

from doctown.backends.formats import (
    OutputFormat,
    format_unsupported,
    read_group,
    read_summary,
    request_fields,
)
from doctown.backends.openai_wire import error_info
from doctown.testing import (
    llama_cpp_python_refusal,
    lm_studio_refusal,
    ollama_refusal,
    vllm_refusal,
)

SCHEMA_AT_EVERY_RUNG = [OutputFormat.JSON_SCHEMA, OutputFormat.JSON_OBJECT]


@pytest.mark.parametrize(
    "refusal",
    [llama_cpp_python_refusal(), vllm_refusal(), lm_studio_refusal(), ollama_refusal()],
    ids=["llama-cpp-python", "vllm", "lm-studio", "ollama"],
)
def test_every_servers_refusal_is_recognised(refusal) -> None:  # type: ignore[no-untyped-def]
    info = error_info(json.dumps(refusal.body).encode())
    assert format_unsupported(refusal.status, f"{info.code} {info.message}")


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (500, "The server had an error while processing your request."),
        (400, "Invalid request: messages must not be empty"),
        (429, "response_format rate limit"),  # a rate limit is a rate limit, whatever it says
        (503, "json_schema backend overloaded"),
    ],
)
def test_other_errors_are_not_format_refusals(status: int, text: str) -> None:
    assert not format_unsupported(status, text)


@pytest.mark.parametrize("rung", SCHEMA_AT_EVERY_RUNG)
def test_json_rungs_accept_only_the_schemas_json(rung: OutputFormat) -> None:
    output, read_as = read_summary('{"summary": "Adds two numbers."}', rung)
    assert output.summary == "Adds two numbers." and read_as is rung
    with pytest.raises(pydantic.ValidationError):
        read_summary('```json\n{"summary": "Adds two numbers."}\n```', rung)


@pytest.mark.parametrize(
    "content",
    [
        '{"summary": "Adds two numbers."}',
        '```json\n{"summary": "Adds two numbers."}\n```',
        'Here it is: {"summary": "Adds two numbers."} Hope it helps.',
    ],
)
def test_json_instructions_accept_json_inside_fences_or_prose(content: str) -> None:
    output, read_as = read_summary(content, OutputFormat.JSON_INSTRUCTIONS)
    assert output.summary == "Adds two numbers." and read_as is OutputFormat.JSON_INSTRUCTIONS


def test_an_answer_without_json_is_taken_as_text() -> None:
    output, read_as = read_summary('  "Adds two\n numbers."  ', OutputFormat.JSON_INSTRUCTIONS)
    assert output.summary == "Adds two numbers." and read_as is OutputFormat.TEXT


@pytest.mark.parametrize("content", ['{"summary": "cut off', '{"title": "no summary"}'])
def test_broken_json_is_never_taken_as_text(content: str) -> None:
    with pytest.raises((pydantic.ValidationError, ValueError)):
        read_summary(content, OutputFormat.JSON_INSTRUCTIONS)


def test_error_bodies_of_every_shape_are_read() -> None:
    assert error_info(b'{"error": {"message": "m", "type": "t", "code": "c"}}').code == "c t"
    assert error_info(b'{"error": "plain"}').message == "plain"
    assert error_info(b'{"detail": "Not Found"}').message == "Not Found"
    assert error_info(b'{"object": "error", "message": "m", "code": 400}').message == "m"
    assert error_info(b"<html>bad gateway</html>").message == "<html>bad gateway</html>"


def test_a_group_is_asked_for_with_one_string_under_each_number() -> None:
    strict = request_fields(OutputFormat.JSON_SCHEMA, symbols=3)["response_format"]["json_schema"]
    assert strict["strict"] is True and strict["name"] == "DocumentationGroup"
    assert strict["schema"] == {
        "type": "object",
        "properties": {label: {"type": "string"} for label in ("1", "2", "3")},
        "required": ["1", "2", "3"],
        "additionalProperties": False,
    }
    assert request_fields(OutputFormat.JSON_OBJECT, symbols=3)["response_format"] == {
        "type": "json_object",
        "schema": strict["schema"],
    }
    assert request_fields(OutputFormat.JSON_INSTRUCTIONS, symbols=3) == {}
    assert request_fields(OutputFormat.JSON_SCHEMA, symbols=1) == request_fields(
        OutputFormat.JSON_SCHEMA
    )


@pytest.mark.parametrize("rung", SCHEMA_AT_EVERY_RUNG)
def test_a_group_answer_keeps_what_it_answered_and_drops_what_is_not_text(
    rung: OutputFormat,
) -> None:
    output, read_as = read_group('{"1": "Adds.", "3": "Subtracts.", "2": null}', rung, 3)
    assert output.summaries == {"1": "Adds.", "3": "Subtracts."} and read_as is rung
    with pytest.raises(ValueError):  # not the bare object asked for
        read_group('```json\n{"1": "Adds."}\n```', rung, 2)


def test_a_group_answer_with_numbers_not_asked_for_is_refused_whole() -> None:
    with pytest.raises(ValueError, match="not asked for: 0"):
        read_group('{"0": "Adds.", "1": "Subtracts."}', OutputFormat.JSON_SCHEMA, 2)
    with pytest.raises(ValueError, match="not a JSON object"):
        read_group('["Adds.", "Subtracts."]', OutputFormat.JSON_SCHEMA, 2)


def test_a_group_answer_is_found_in_prose_but_never_taken_as_text() -> None:
    output, read_as = read_group(
        'Sure: {"1": "Adds.", "2": "Subtracts."}', OutputFormat.JSON_INSTRUCTIONS, 2
    )
    assert output.summaries == {"1": "Adds.", "2": "Subtracts."}
    assert read_as is OutputFormat.JSON_INSTRUCTIONS
    with pytest.raises(ValueError, match="no JSON object"):
        read_group("Adds, then subtracts.", OutputFormat.JSON_INSTRUCTIONS, 2)

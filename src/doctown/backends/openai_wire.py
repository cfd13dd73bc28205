"""The JSON an OpenAI-compatible server answers with, read in one pass by pydantic-core.

Only the fields doctown uses are declared; everything else is ignored, so servers that add or
leave out fields (llama.cpp's has no `refusal`, Ollama's no token details) read the same.
The same reader serves synchronous answers and the lines of a Batch API output file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pydantic
from pydantic import BaseModel, Field

from doctown.backends.base import Completion, schema_label, validate_summary
from doctown.backends.formats import OutputFormat, ignored_format, read_group, read_summary
from doctown.errors import InvalidOutputError, RefusalError, TruncatedOutputError
from doctown.schemas import DocumentationOutput
from doctown.usage import Usage


class _PromptDetails(BaseModel):
    cached_tokens: int | None = None


class _CompletionDetails(BaseModel):
    reasoning_tokens: int | None = None


class WireUsage(BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: _PromptDetails | None = None
    completion_tokens_details: _CompletionDetails | None = None

    def to_usage(self) -> Usage:
        prompt, completion = self.prompt_tokens_details, self.completion_tokens_details
        return Usage(
            input_tokens=self.prompt_tokens or 0,
            cached_tokens=(prompt.cached_tokens or 0) if prompt else 0,
            output_tokens=self.completion_tokens or 0,
            reasoning_tokens=(completion.reasoning_tokens or 0) if completion else 0,
            requests=1,
        )


class WireMessage(BaseModel):
    content: str | None = None
    refusal: str | None = None


class WireChoice(BaseModel):
    message: WireMessage = Field(default_factory=WireMessage)
    finish_reason: str | None = None


class ChatCompletionBody(BaseModel):
    choices: list[WireChoice] = Field(default_factory=list)
    usage: WireUsage | None = None

    def billed(self) -> Usage:
        """What the request cost; a server that reports no usage still counts one request."""
        return self.usage.to_usage() if self.usage else Usage(requests=1)


def parse_chat_completion(raw: bytes | dict[str, Any]) -> ChatCompletionBody:
    """The answer's body; a body that is not a chat completion is an invalid answer."""
    try:
        if isinstance(raw, dict):
            return ChatCompletionBody.model_validate(raw)
        return ChatCompletionBody.model_validate_json(raw)
    except pydantic.ValidationError:
        raise InvalidOutputError(
            "the server's answer is not a chat completion", usage=Usage(requests=1)
        ) from None


def read_answer(
    body: ChatCompletionBody,
    rung: OutputFormat,
    *,
    probing: bool,
    completion_cap: int,
    output: type[DocumentationOutput] = DocumentationOutput,
    symbols: int = 1,
) -> Completion:
    """The answer of kind `output` in a chat completion asked for at `rung`, or the
    per-symbol failure it is.

    While `probing`, an answer to a JSON rung that is not JSON at all is read as the
    json_instructions rung would read it: the server ignored the format. An answer about
    several `symbols` holds their summaries by number (GroupOutput); each is checked when the
    answer is split among them.
    """
    usage = body.billed()
    if not body.choices:
        raise InvalidOutputError("the response has no choices", usage=usage)
    choice = body.choices[0]
    if choice.finish_reason == "length":
        raise TruncatedOutputError(
            f"the answer hit the completion cap ({completion_cap} tokens) before it was "
            "complete; raise MAX_COMPLETION_TOKENS",
            usage=usage,
        )
    if choice.finish_reason == "content_filter":
        raise RefusalError("the content filter stopped the answer", usage=usage)
    message = choice.message
    if message.refusal:
        raise RefusalError(f"the model refused: {message.refusal[:300]}", usage=usage)
    if not message.content:
        raise InvalidOutputError("the answer has no parsed content", usage=usage)
    if probing and rung is not OutputFormat.JSON_INSTRUCTIONS and ignored_format(message.content):
        rung = OutputFormat.JSON_INSTRUCTIONS
    if symbols > 1:
        try:
            group, read_as = read_group(message.content, rung, symbols)
        except (pydantic.ValidationError, ValueError) as exc:
            raise InvalidOutputError(
                f"the answer is not the JSON object of {symbols} summaries asked for ({exc})",
                usage=usage,
            ) from None
        return Completion(output=group, usage=usage, output_format=read_as)
    try:
        answer, read_as = read_summary(message.content, rung, output)
    except (pydantic.ValidationError, ValueError) as exc:
        raise InvalidOutputError(
            f"the answer is not valid JSON for the {schema_label(output)} schema "
            f"({type(exc).__name__})",
            usage=usage,
        ) from None
    problem = validate_summary(answer)
    if problem:
        raise InvalidOutputError(problem, usage=usage)
    return Completion(output=answer, usage=usage, output_format=read_as)


@dataclass(frozen=True)
class ErrorInfo:
    """What an error answer says: its `code` and `type` joined, and its message."""

    code: str
    message: str


def error_info(raw: bytes) -> ErrorInfo:
    """Read an error body in any of the shapes servers use.

    OpenAI `{"error": {"message", "type", "code"}}`, LM Studio `{"error": "..."}`, vLLM
    `{"object": "error", "message", "type", "code"}`, FastAPI `{"detail": ...}`, or plain text.
    """
    try:
        data: Any = json.loads(raw)
    except ValueError:
        return ErrorInfo("", raw.decode("utf-8", "replace").strip()[:2_000])
    if not isinstance(data, dict):
        return ErrorInfo("", str(data)[:2_000])
    error = data.get("error", data)
    if isinstance(error, str):
        return ErrorInfo("", error[:2_000])
    if not isinstance(error, dict):
        error = data
    code = " ".join(str(error.get(key) or "") for key in ("code", "type")).strip()
    message = error.get("message") or error.get("detail") or ""
    if not isinstance(message, str):
        message = json.dumps(message)
    return ErrorInfo(code, message[:2_000])

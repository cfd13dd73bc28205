"""Reading a batch's output and error files back into one answer per request.

Output lines carry the chat completion a synchronous request would have returned, read by
the same reader (`openai_wire.read_answer`); error lines carry an HTTP error body or a batch
error (`batch_expired`). Every answer is marked as coming from a batch, so it is billed at
the batch price. A request about several symbols is read as a group's answer, which the
runner splits among them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from doctown.backends.base import completion_cap as group_cap
from doctown.backends.formats import OutputFormat
from doctown.backends.http import RawResponse
from doctown.backends.openai import OpenAIAPI
from doctown.backends.openai_wire import parse_chat_completion, read_answer
from doctown.errors import BatchExpiredError, BatchFailedError, SymbolFailure
from doctown.generation.answered import Answer
from doctown.redaction import redact
from doctown.schemas import DocumentationOutput


def read_results(
    content: bytes,
    *,
    api: OpenAIAPI,
    model: str,
    output_format: OutputFormat,
    completion_cap: int,
    outputs: Mapping[str, type[DocumentationOutput]] | None = None,
    symbols: Mapping[str, int] | None = None,
) -> dict[str, Answer]:
    """custom_id -> answer, for every line of an output or error file. `outputs` names the
    kind of answer each custom_id asked for (a symbol summary when it is not listed), and
    `symbols` how many symbols a request asks about, when more than one (a group's summaries).
    """
    answers: dict[str, Answer] = {}
    for raw in content.splitlines():
        if not raw.strip():
            continue
        line: dict[str, Any] = json.loads(raw)
        custom_id = str(line.get("custom_id"))
        answers[custom_id] = _answer(
            line,
            api=api,
            model=model,
            output_format=output_format,
            completion_cap=completion_cap,
            output=(outputs or {}).get(custom_id, DocumentationOutput),
            symbols=(symbols or {}).get(custom_id, 1),
        )
    return answers


def _answer(
    line: dict[str, Any],
    *,
    api: OpenAIAPI,
    model: str,
    output_format: OutputFormat,
    completion_cap: int,
    output: type[DocumentationOutput],
    symbols: int,
) -> Answer:
    response = line.get("response")
    error = line.get("error")
    if not isinstance(response, dict):
        code = str((error or {}).get("code") or "")
        message = str((error or {}).get("message") or "the batch gave no answer")
        failure_type = BatchExpiredError if code == "batch_expired" else BatchFailedError
        return _billed(failure_type(redact(f"{code or 'batch_error'}: {message}")))
    status = int(response.get("status_code") or 0)
    body = response.get("body") or {}
    if status != 200:
        failure = api.failure(RawResponse(status, {}, json.dumps(body).encode()), model=model)
        if isinstance(failure, SymbolFailure):
            return _billed(failure)
        return _billed(BatchFailedError(f"the batch answered {failure}"))
    try:
        completion = read_answer(
            parse_chat_completion(body),
            output_format,
            probing=False,
            completion_cap=group_cap(completion_cap, symbols),
            output=output,
            symbols=symbols,
        )
    except SymbolFailure as failure:
        return _billed(failure)
    return replace(completion, batch=True)


def _billed(failure: SymbolFailure) -> SymbolFailure:
    failure.batch = True
    return failure

"""What travels through Redis: a shard of prompts out, one outcome per prompt back.

Only JSON, validated on arrival at both ends: a message is data, never code. Prompts travel
whole (messages, token count, and how many symbols they ask about), so a worker sends exactly
what the coordinator planned, priced and keyed its cache with; a group's answer comes back
whole too, and the coordinator splits it among the group's symbols. An answer carries what its
provenance needs (how it was read, what making it cost when it came from the workers' cache,
whether it was a batch's), so a distributed pack records what a one-process build records.
Secrets never travel: each worker reads its own key.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from doctown.backends.base import Completion, validate_summary
from doctown.backends.formats import OutputFormat
from doctown.errors import InvalidOutputError, JobAbortedError, SymbolFailure, TransientError
from doctown.overviews.schemas import OUTPUT_TYPES
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput, GroupOutput
from doctown.usage import Usage


class WirePrompt(BaseModel):
    messages: list[dict[str, str]]
    prompt_tokens: int = Field(ge=0)
    # The kind of answer asked for, by schema name: a symbol summary unless an overview.
    output: str = DocumentationOutput.schema_name
    # How many symbol summaries it asks for: more than one for a group's request.
    symbols: int = Field(default=1, ge=1)

    @field_validator("output")
    @classmethod
    def _known_output(cls, value: str) -> str:
        if value not in OUTPUT_TYPES:
            raise ValueError(f"unknown output schema {value!r}")
        return value

    @model_validator(mode="after")
    def _groups_of_summaries(self) -> WirePrompt:
        if self.symbols > 1 and self.output != DocumentationOutput.schema_name:
            raise ValueError("only symbol summaries are asked several at a time")
        return self


class ShardRequest(BaseModel):
    """A shard: prompts of one build, for the backend and model the build was planned for."""

    build_id: str = Field(min_length=1, max_length=200)
    backend: str
    model: str
    prompts: list[WirePrompt]


class WireUsage(BaseModel):
    input_tokens: int = Field(default=0, ge=0)
    cached_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    reasoning_tokens: int = Field(default=0, ge=0)
    requests: int = Field(default=0, ge=0)

    @classmethod
    def of(cls, usage: Usage) -> WireUsage:
        return cls(**asdict(usage))

    def usage(self) -> Usage:
        return Usage(**self.model_dump())


OutcomeKind = Literal["documented", "failed", "aborted", "transient"]


class Outcome(BaseModel):
    """One prompt's result on a worker.

    `documented`: a summary, or a group's summaries by number (`summaries`). `failed`: this
    prompt could not be answered (`reason`).
    `aborted`: nothing more can succeed (quota, key, model): the build stops. `transient`:
    the worker could not finish it (the shard ran out of time); the coordinator may ask again.
    """

    kind: OutcomeKind
    summary: str | None = None
    summaries: dict[str, str] | None = None  # a group's, by number
    answer: dict[str, Any] | None = None  # the whole structured answer, for an overview
    reason: str | None = None
    message: str = ""
    usage: WireUsage = Field(default_factory=WireUsage)
    attempts: int = Field(default=1, ge=0)
    cached: bool = False
    # Provenance of a documented answer: how it was read, what making it cost when that is
    # not `usage` (found in the workers' cache), and whether the Batch API answered it.
    output_format: OutputFormat = OutputFormat.JSON_SCHEMA
    original_usage: WireUsage | None = None
    batch: bool = False


class ShardResult(BaseModel):
    """The outcomes of a shard, in the order of its prompts."""

    worker: str
    outcomes: list[Outcome]


def to_wire(prompt: Prompt) -> WirePrompt:
    return WirePrompt(
        messages=prompt.messages,
        prompt_tokens=prompt.prompt_tokens,
        output=prompt.output.schema_name,
        symbols=prompt.symbols,
    )


def from_wire(prompt: WirePrompt) -> Prompt:
    """The prompt a shard carries (its kind of answer was checked on arrival)."""
    return Prompt(
        messages=prompt.messages,
        prompt_tokens=prompt.prompt_tokens,
        truncated=False,
        output=OUTPUT_TYPES[prompt.output],
        symbols=prompt.symbols,
    )


def documented(completion: Completion) -> Outcome:
    output = completion.output
    return Outcome(
        kind="documented",
        summary=output.summary if isinstance(output, DocumentationOutput) else None,
        summaries=output.summaries if isinstance(output, GroupOutput) else None,
        answer=(
            output.model_dump()
            if isinstance(output, DocumentationOutput) and type(output) is not DocumentationOutput
            else None
        ),
        usage=WireUsage.of(completion.usage),
        attempts=completion.attempts,
        cached=completion.cached,
        output_format=completion.output_format,
        original_usage=(
            WireUsage.of(completion.original_usage) if completion.original_usage else None
        ),
        batch=completion.batch,
    )


def failed(error: SymbolFailure) -> Outcome:
    return Outcome(
        kind="failed",
        reason=error.reason,
        message=str(error),
        usage=WireUsage.of(error.usage),
        attempts=error.attempts,
    )


def aborted(error: JobAbortedError) -> Outcome:
    return Outcome(kind="aborted", reason=error.reason, message=str(error))


def transient(message: str) -> Outcome:
    return Outcome(kind="transient", message=message, attempts=0)


def job_stop(reason: str, message: str) -> JobAbortedError:
    """A JobAbortedError that carries a reason decided elsewhere (a worker, another process)."""
    error = JobAbortedError(message)
    error.reason = reason
    return error


def completion_of(
    outcome: Outcome,
    output_type: type[DocumentationOutput] = DocumentationOutput,
    symbols: int = 1,
) -> Completion:
    """The Completion an outcome stands for, or the error it stands for, raised. `output_type`
    and `symbols` are what the prompt asked for: an answer of another shape is invalid."""
    if outcome.kind == "documented" and (outcome.summaries is not None) != (symbols > 1):
        raise InvalidOutputError(
            f"the worker's answer does not hold the {symbols} summaries asked for",
            usage=outcome.usage.usage(),
        )
    if outcome.kind == "documented" and outcome.summaries is not None:
        # Each summary meets the rules when the coordinator splits the group's answer.
        return _answered(outcome, GroupOutput(summaries=outcome.summaries))
    if outcome.kind == "documented" and outcome.summary is not None:
        # A worker is another machine: its answer meets the same rules as a local one.
        try:
            if output_type is DocumentationOutput:
                output = DocumentationOutput(summary=outcome.summary)
            else:
                output = output_type.model_validate(outcome.answer)
        except ValidationError:
            raise InvalidOutputError(
                f"the worker's answer does not fit the {output_type.schema_name} schema",
                usage=outcome.usage.usage(),
            ) from None
        problem = validate_summary(output)
        if problem:
            raise InvalidOutputError(problem, usage=outcome.usage.usage())
        return _answered(outcome, output)
    if outcome.kind == "aborted":
        raise job_stop(outcome.reason or "aborted", outcome.message)
    if outcome.kind == "transient":
        raise TransientError(outcome.message)
    failure = SymbolFailure(outcome.message, usage=outcome.usage.usage(), attempts=outcome.attempts)
    failure.reason = outcome.reason or "failed"
    raise failure


def _answered(outcome: Outcome, output: DocumentationOutput | GroupOutput) -> Completion:
    """The Completion of a documented outcome whose answer was checked."""
    made = outcome.original_usage
    return Completion(
        output=output,
        usage=outcome.usage.usage(),
        attempts=outcome.attempts,
        cached=outcome.cached,
        original_usage=made.usage() if made is not None else None,
        output_format=outcome.output_format,
        batch=outcome.batch,
    )

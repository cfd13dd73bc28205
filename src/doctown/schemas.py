"""The wire contract: request and response bodies of the worker, and the model's output schema.

Field names follow the original worker's contract exactly; every addition is optional on input
and additive on output, so existing clients keep working.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Bounds on what one context may carry: source code is untrusted input and prompts have budgets.
MAX_NAME_CHARS = 1_000
MAX_SIGNATURE_CHARS = 20_000
MAX_TEXT_CHARS = 100_000
MAX_LIST_ITEMS = 10_000


class SymbolContext(BaseModel):
    """What static analysis computed about one symbol."""

    model_config = ConfigDict(extra="ignore")

    symbol_id: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    kind: str = Field(min_length=1, max_length=100)
    language: str = Field(min_length=1, max_length=100)
    file_path: str = Field(min_length=1, max_length=4_096)
    signature: str = Field(default="", max_length=MAX_SIGNATURE_CHARS)
    calls: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    called_by: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    imports: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    related_symbols: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    cluster_label: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    centrality: float = Field(default=0.0, ge=0.0, le=1.0)
    # Additions: an existing docstring and a bounded excerpt of the symbol's source.
    docstring: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    source_excerpt: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    # Tests that call the symbol: kept out of `called_by`, and out of the prompt.
    tested_by: list[str] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    # Summaries already written for the symbols it calls (name -> summary), when generating
    # in dependency order.
    callee_summaries: dict[str, str] | None = Field(default=None, max_length=MAX_LIST_ITEMS)


class SymbolInput(BaseModel):
    symbol_id: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    context: SymbolContext

    @model_validator(mode="after")
    def _ids_agree(self) -> Self:
        if self.context.symbol_id is None:
            self.context.symbol_id = self.symbol_id
        elif self.context.symbol_id != self.symbol_id:
            raise ValueError(
                f"context.symbol_id {self.context.symbol_id!r} differs from symbol_id "
                f"{self.symbol_id!r}; they must name the same symbol"
            )
        return self


class GenerateRequest(BaseModel):
    job_id: str = Field(min_length=1, max_length=200)
    symbols: list[SymbolInput]


class DocumentationOutput(BaseModel):
    """The structured output the model must return."""

    # Every kind of answer doctown asks for (a symbol summary; a module, cluster or repository
    # overview) is this model or a subclass: each has a `summary`, and a prompt names the kind
    # its answer must follow (`Prompt.output`), so every backend asks for and validates it.
    # (The docstring is sent with the schema: it stays short.)
    # The name the schema is sent under, and the longest summary that is still acceptable.
    schema_name: ClassVar[str] = "DocumentationOutput"
    max_summary_chars: ClassVar[int] = 600

    summary: str = Field(
        description="1-2 sentences saying what the symbol does and why it exists. No code."
    )


class GroupOutput(BaseModel):
    """The structured output of a request about several symbols: each summary under the number
    its symbol was asked under ("1", "2", ...)."""

    summaries: dict[str, str]


class UsageReport(BaseModel):
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0
    cost: float = 0.0


class DocumentedSymbol(BaseModel):
    symbol_id: str
    summary: str
    tokens_used: int
    # Additions.
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost: float = 0.0
    attempts: int = 1
    reused_from: str | None = Field(
        default=None, description="Set when an identical context earlier in the batch was asked"
    )
    cached: bool = Field(default=False, description="Served from the summary cache; not paid now")
    original_usage: UsageReport | None = Field(
        default=None,
        description="What producing the summary cost when it was made, when that differs from "
        "what it cost now (a cached answer, or an identical prompt asked once in the batch)",
    )
    reasked: bool = Field(default=False, description="Asked again because it named unknown things")
    ungrounded: list[str] = Field(
        default_factory=list, description="Identifiers the summary names that exist nowhere"
    )
    output_format: str | None = Field(
        default=None,
        description="How the answer was read: json_schema, json_object, json_instructions, or "
        "text (the answer had no JSON; its text was taken as the summary)",
    )
    batch: bool = Field(default=False, description="Answered through the Batch API")


class FailedSymbol(BaseModel):
    symbol_id: str
    reason: str = Field(description="A stable code: refusal, length, invalid_output, rejected, ...")
    message: str
    tokens_used: int = 0
    cost: float = 0.0
    attempts: int = 0


JobStatus = Literal["success", "partial", "failed", "aborted"]


class JobError(BaseModel):
    type: str
    message: str


class GenerateResponse(BaseModel):
    documented_symbols: list[DocumentedSymbol]
    total_tokens: int
    total_cost: float
    # Additions.
    job_id: str = ""
    status: JobStatus = "success"
    failed_symbols: list[FailedSymbol] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    usage: UsageReport = Field(default_factory=UsageReport)
    backend: str = ""
    model: str = ""
    preview: bool = Field(
        default=False,
        description="True when summaries come from the embedded offline preview model",
    )
    duration_ms: int = 0
    error: JobError | None = None


class HealthResponse(BaseModel):
    status: Literal["healthy", "unhealthy"]
    model: str
    ready: bool
    # Additions.
    backend: str = ""
    detail: str | None = None


class EstimateResponse(BaseModel):
    job_id: str
    symbols: int
    unique_prompts: int
    requests: int = Field(
        default=0, description="Requests that would ask them (several symbols of a file share one)"
    )
    prompt_tokens: int
    max_completion_tokens: int = Field(description="The completion cap of a one-symbol request")
    cost_min: float = Field(description="Dollars if every answer were empty")
    cost_max: float = Field(description="Dollars if every answer used the whole completion cap")
    backend: str
    model: str

"""The contract every backend fulfils: one async method that answers one prompt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from doctown.backends.formats import OutputFormat
from doctown.model_catalog import Price
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput, GroupOutput
from doctown.usage import Usage

# Summaries longer than this are not 1-2 sentences; they fail validation.
MAX_SUMMARY_CHARS = DocumentationOutput.max_summary_chars
# What each further summary of a group's request adds to its completion cap: room for one
# summary of MAX_SUMMARY_CHARS and its key.
GROUP_ITEM_COMPLETION_TOKENS = 160


def completion_cap(cap: int, symbols: int) -> int:
    """The completion cap of a request about `symbols` symbols, when one symbol's is `cap`."""
    return cap + max(symbols - 1, 0) * GROUP_ITEM_COMPLETION_TOKENS


@dataclass(frozen=True, slots=True)
class Completion:
    # One symbol's summary, or a group's summaries (split per symbol before anyone reads them).
    output: DocumentationOutput | GroupOutput
    usage: Usage  # what this call cost (zero when served from the cache)
    attempts: int = 1
    cached: bool = False
    original_usage: Usage | None = None  # what making the answer cost, when not `usage`
    reasked: bool = False  # asked a second time because the first answer was ungrounded
    ungrounded: tuple[str, ...] = ()  # identifiers the final summary names that do not exist
    # How the answer was read: a structured format, or its bare text (marked wherever it goes).
    output_format: OutputFormat = OutputFormat.JSON_SCHEMA
    batch: bool = False  # answered through the Batch API, billed at the batch price

    @property
    def single_output(self) -> DocumentationOutput:
        """The answer to a prompt about one thing (a symbol's summary, an overview)."""
        if not isinstance(self.output, DocumentationOutput):
            raise TypeError("a group's answer holds several summaries; split it first")
        return self.output

    @property
    def summary(self) -> str:
        """The summary of a one-symbol answer."""
        return self.single_output.summary

    @property
    def cost_to_make(self) -> Usage:
        """What producing this answer cost, whenever it was made (a cached answer's original
        call, not the nothing it costs now): what a pack records, so it is the same warm or cold.
        """
        return self.usage if self.original_usage is None else self.original_usage


class Backend(Protocol):
    """Answers one prompt.

    `complete` returns a validated Completion or raises a GenerationError subclass: a
    SymbolFailure (with the usage it cost), a TransientError (worth retrying) or a
    JobAbortedError (stop everything). Backends do not retry, limit or meter: wrappers do.
    A backend that `supports_groups` also answers prompts about several symbols
    (`Prompt.symbols > 1`) with a GroupOutput; the others are only ever sent one symbol.
    """

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def price(self) -> Price: ...

    @property
    def few_shot(self) -> bool:
        """Whether prompts for this backend carry the worked examples."""
        ...

    @property
    def preview(self) -> bool:
        """True when output is an offline preview, not a source of truth."""
        ...

    @property
    def supports_groups(self) -> bool:
        """Whether it answers prompts about several symbols of one file at once."""
        ...

    @property
    def max_completion_tokens(self) -> int:
        """The completion cap each one-symbol request is sent with (`completion_cap` scales
        it for a group's request)."""
        ...

    async def complete(self, prompt: Prompt) -> Completion: ...

    async def readiness(self) -> str | None:
        """None when ready to serve, else why not. Must not spend tokens."""
        ...

    async def aclose(self) -> None:
        """Release connections; the backend is not used afterwards."""
        ...


def validate_summary(output: DocumentationOutput) -> str | None:
    """Why `output` breaks the summary rules of its kind, or None when it is acceptable."""
    summary = output.summary.strip()
    limit = type(output).max_summary_chars
    if not summary:
        return "the summary is empty"
    if len(summary) > limit:
        return f"the summary is {len(summary)} characters long (at most {limit})"
    return None


def schema_label(output: type[DocumentationOutput]) -> str:
    """How errors name a kind of answer: `summary` for symbols, else the schema's name."""
    return "summary" if output is DocumentationOutput else output.schema_name


def stored_text(output: DocumentationOutput) -> str:
    """How a cache keeps `output`: a symbol summary as its text, any other kind as its JSON."""
    if type(output) is DocumentationOutput:
        return output.summary
    return output.model_dump_json()


def restored(text: str, output_type: type[DocumentationOutput]) -> DocumentationOutput:
    """The answer `stored_text` kept (raises pydantic.ValidationError if it no longer fits)."""
    if output_type is DocumentationOutput:
        return DocumentationOutput(summary=text)
    return output_type.model_validate_json(text)

"""Token usage that adds up, per request, per symbol and per batch."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens as the API billed them.

    `output_tokens` already includes `reasoning_tokens`, and `cached_tokens` is the part of
    `input_tokens` served from the prompt cache, exactly as OpenAI's `usage` reports them.
    """

    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def total(usages: list[Usage]) -> Usage:
    """Sum a list of usages (an empty list sums to zero)."""
    result = Usage()
    for usage in usages:
        result = result + usage
    return result

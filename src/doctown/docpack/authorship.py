"""Who wrote a pack's summaries and what writing them cost, read from each summary's provenance.

A pack records no run: the same source and summaries give the same bytes whichever run wrote
them. What a reader wants to know about the model and the money is therefore derived from the
provenance every documented symbol carries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from doctown.docpack.format import Provenance, Symbol


@dataclass(frozen=True)
class Writer:
    """One backend and model, and how many summaries of the pack it wrote."""

    backend: str
    model: str
    preview: bool
    summaries: int

    @property
    def label(self) -> str:
        """`openai (gpt-5-nano)`, `docstring`."""
        return f"{self.backend} ({self.model})" if self.model else self.backend


@dataclass(frozen=True)
class Authorship:
    """The writers of a pack's summaries, most summaries first, and what making them cost."""

    writers: tuple[Writer, ...]
    input_tokens: int
    output_tokens: int
    cost: float

    @property
    def main(self) -> Writer | None:
        """The writer of most summaries, or None when no summary was written by a model."""
        return self.writers[0] if self.writers else None

    @property
    def preview(self) -> bool:
        """True when any summary comes from an offline preview model."""
        return any(writer.preview for writer in self.writers)

    @property
    def label(self) -> str:
        """Every writer, with counts when there are several; `none` when there is none."""
        if len(self.writers) == 1:
            return self.writers[0].label
        return ", ".join(f"{w.label} x{w.summaries}" for w in self.writers) or "none"


def authorship(symbols: Iterable[Symbol]) -> Authorship:
    """Who wrote the documented summaries among `symbols`, and their tokens and cost."""
    provenances: list[Provenance] = [
        symbol.documentation.provenance
        for symbol in symbols
        if symbol.documentation.status == "documented" and symbol.documentation.provenance
    ]
    counts = Counter((p.backend, p.model, p.preview) for p in provenances)
    writers = tuple(
        Writer(backend=backend, model=model, preview=preview, summaries=n)
        for (backend, model, preview), n in sorted(
            counts.items(), key=lambda item: (-item[1], item[0])
        )
    )
    return Authorship(
        writers=writers,
        input_tokens=sum(p.input_tokens for p in provenances),
        output_tokens=sum(p.output_tokens for p in provenances),
        cost=sum(p.cost for p in provenances),
    )

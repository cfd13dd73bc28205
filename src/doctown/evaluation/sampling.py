"""Which symbols an evaluation scores: documentable ones whose docstring says enough.

The reference a summary is compared with is the first sentence of the symbol's own docstring;
symbols whose first sentence is shorter than `MIN_REFERENCE_WORDS` words are not scored. The
sample is a seeded ranking, so it is the same on every machine, and the first N symbols are
the same for every limit: a run of 5 scores a subset of a run of 50.
"""

from __future__ import annotations

import hashlib

from doctown.analysis import AnalysisResult, Symbol
from doctown.pipeline.selection import first_sentence, is_documentable

MIN_REFERENCE_WORDS = 5


def reference(docstring: str | None) -> str | None:
    """The docstring's first sentence when it has at least MIN_REFERENCE_WORDS words."""
    sentence = first_sentence(docstring)
    if sentence is None or len(sentence.split()) < MIN_REFERENCE_WORDS:
        return None
    return sentence


def eligible(result: AnalysisResult) -> dict[int, str]:
    """Symbol index -> reference sentence, for every documentable symbol that has one."""
    references = {}
    for index, symbol in enumerate(result.symbols):
        if not is_documentable(symbol.kind, symbol.visibility, include_private=False):
            continue
        sentence = reference(symbol.docstring)
        if sentence is not None:
            references[index] = sentence
    return references


def rank(symbol: Symbol, seed: int) -> str:
    """A symbol's place in the seeded order: a hash of the seed and its stable id."""
    return hashlib.sha256(f"{seed}:{symbol.id}".encode()).hexdigest()


def sample(result: AnalysisResult, candidates: list[int], *, limit: int, seed: int) -> list[int]:
    """At most `limit` of `candidates` (symbol indices), the first in the seeded order."""
    symbols = result.symbols
    return sorted(candidates, key=lambda index: rank(symbols[index], seed))[:limit]

"""Ranked full-text search over a pack's names, qualified names, signatures and summaries.

BM25F over words. Identifiers are split on snake_case and CamelCase, so "parse config" finds
`parse_config` and `ConfigParser`. A word counts more in a name than in a summary (the field
weights), and a symbol whose name is the query itself ranks above every other.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from doctown.docpack.format import Symbol

FIELD_WEIGHTS = {"name": 4.0, "qualified_name": 2.0, "signature": 1.0, "summary": 1.0}
# The usual BM25 constants: term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75
DEFAULT_LIMIT = 10

# One pass over ASCII text: CamelCase humps, lower-case runs, capitals, digits.
_ASCII_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_WORD = re.compile(r"[^\W_]+")


def tokenize(text: str) -> list[str]:
    """Lower-case words of `text`; ASCII identifiers are split on snake_case and CamelCase.

    >>> tokenize("HTTPClient.parse_url2")
    ['http', 'client', 'parse', 'url', '2']
    """
    if text.isascii():
        # One lower() over the joined words is about twice as fast as one per word.
        return " ".join(_ASCII_WORD.findall(text)).lower().split()
    words: list[str] = []
    for word in _WORD.findall(text):
        words.extend(tokenize(word) if word.isascii() else [word.lower()])
    return words


def _fields(symbol: Symbol) -> tuple[str, str, str, str]:
    # In the order of FIELD_WEIGHTS.
    return (
        symbol.name,
        symbol.qualified_name or "",
        symbol.signature,
        symbol.documentation.summary or "",
    )


def _padded_words(text: str) -> tuple[str, int]:
    """The words of `text` as one string with a space on each side, and how many there are."""
    words = tokenize(text)
    return f" {' '.join(words)} ", len(words)


@dataclass(frozen=True, slots=True)
class Hit:
    """A search result: the symbol and its score (higher is better)."""

    symbol: Symbol
    score: float


class SearchIndex:
    """A pack's symbols prepared for search.

    Each field is kept as its words in one padded string, so counting a word is one
    `str.count(" word ")` in C. A query scans every symbol: for the one query a command asks,
    that is several times faster than building an inverted index first, and a query over
    10,000 symbols still takes milliseconds.
    """

    def __init__(self, symbols: Iterable[Symbol]) -> None:
        self._symbols = list(symbols)
        documents = [[_padded_words(text) for text in _fields(s)] for s in self._symbols]
        weights = list(FIELD_WEIGHTS.values())
        count = max(len(documents), 1)
        averages = [
            sum(doc[field][1] for doc in documents) / count or 1.0 for field in range(len(weights))
        ]
        self._texts = [tuple(text for text, _ in doc) for doc in documents]
        # What one occurrence of a word in each field is worth: BM25F's field weight over its
        # length normalisation.
        self._norms = [
            tuple(
                weight / (1 - B + B * length / average)
                for (_, length), weight, average in zip(doc, weights, averages, strict=True)
            )
            for doc in documents
        ]
        self._joined = ["".join(texts) for texts in self._texts]

    def __len__(self) -> int:
        return len(self._symbols)

    def _frequencies(self, word: str, *, prefix: bool = False) -> list[tuple[int, float]]:
        """The symbols holding `word` (or a word starting with it), with its weighted
        frequency in each."""
        pattern = f" {word}" if prefix else f" {word} "
        return [
            (
                position,
                sum(
                    norm * text.count(pattern)
                    for text, norm in zip(self._texts[position], self._norms[position], strict=True)
                ),
            )
            for position, joined in enumerate(self._joined)
            if pattern in joined
        ]

    def search(self, query: str, *, limit: int = DEFAULT_LIMIT, prefix: bool = False) -> list[Hit]:
        """The best `limit` symbols for `query`, best first; ties go to the smaller id.

        With `prefix`, the last word also matches the words it begins (as the reader types
        `pars`, `parse` and `parser` match), unless the query ends with a space.
        """
        words = tokenize(query)
        total = len(self._symbols)
        scores: dict[int, float] = defaultdict(float)
        partial = words[-1] if prefix and words and not query[-1:].isspace() else None
        for word in dict.fromkeys(words):
            found = self._frequencies(word, prefix=word == partial)
            idf = math.log(1 + (total - len(found) + 0.5) / (len(found) + 0.5))
            for position, frequency in found:
                scores[position] += idf * frequency * (K1 + 1) / (frequency + K1)
        lowered = query.strip().lower()
        as_name = f" {' '.join(words)} "

        def rank(item: tuple[int, float]) -> tuple[bool, float, str]:
            position, score = item
            symbol = self._symbols[position]
            exact = self._texts[position][0] == as_name or lowered in (
                symbol.name.lower(),
                (symbol.qualified_name or "").lower(),
            )
            return (not exact, -score, symbol.id)

        best = heapq.nsmallest(limit, scores.items(), key=rank)
        return [Hit(self._symbols[position], score) for position, score in best]

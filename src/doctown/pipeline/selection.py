"""Which symbols deserve a paid call, and what their existing docstrings are used for."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from doctown.analysis import AnalysisResult
from doctown.analysis.testcode import is_test_path
from doctown.docpack import Recipe
from doctown.schemas import SymbolContext, SymbolInput

DocstringMode = Literal["context", "reuse", "ignore"]

# Declarations worth a summary; locals, variables and fields are described by their parents.
DOCUMENTED_KINDS = frozenset(
    {"module", "class", "struct", "interface", "trait", "enum", "function", "method", "constructor"}
)
_MIN_WORDS = 4
_MAX_REUSED_CHARS = 300
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


@dataclass(frozen=True)
class Selection:
    """The symbols chosen (indices into the analysis) and summaries taken from docstrings."""

    indices: list[int]
    reused: dict[int, str]
    contexts: dict[int, dict[str, Any]]


def first_sentence(docstring: str | None) -> str | None:
    """The first sentence of a good docstring, or None when it is too thin to stand alone."""
    if not docstring:
        return None
    paragraph = docstring.strip().split("\n\n", 1)[0]
    text = " ".join(paragraph.split())
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0].strip()
    if len(sentence.split()) < _MIN_WORDS or len(sentence) > _MAX_REUSED_CHARS:
        return None
    if sentence.startswith((">>>", ":", "@")) or "TODO" in sentence:
        return None
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def is_documentable(kind: str, visibility: str, *, include_private: bool) -> bool:
    if kind not in DOCUMENTED_KINDS:
        return False
    return include_private or kind == "module" or visibility not in ("private", "internal")


def select(
    result: AnalysisResult,
    *,
    include_private: bool = False,
    include_tests: bool = False,
    docstrings: DocstringMode = "context",
    source_excerpt: bool = True,
    limit: int | None = None,
) -> Selection:
    """Modules, classes and public functions and methods (all of them with `include_private`),
    outside test code (test code too with `include_tests`).

    `docstrings`: "context" puts existing docstrings in the prompt, "reuse" takes the first
    sentence of a good one as the summary without a call, "ignore" hides them from the model
    (and drops the source excerpt too, since a body's first lines hold its docstring).
    `source_excerpt` keeps or drops the first lines of each symbol's body. `limit` keeps only
    the most central symbols (a quick, cheap preview of a large repository).
    """
    reused: dict[int, str] = {}
    contexts: dict[int, dict[str, Any]] = {}
    fields: Sequence[dict[str, Any]] = result.context_fields
    symbols = result.symbols
    indices = [
        index
        for index, symbol in enumerate(symbols)
        if is_documentable(symbol.kind, symbol.visibility, include_private=include_private)
        and (include_tests or not is_test_path(symbol.file_path))
    ]
    if limit is not None and len(indices) > limit:
        centrality = result.centrality
        ranked = sorted(indices, key=lambda i: (-centrality.get(symbols[i].id, 0.0), symbols[i].id))
        indices = sorted(ranked[:limit])
    for index in indices:
        symbol = symbols[index]
        sentence = first_sentence(symbol.docstring) if docstrings == "reuse" else None
        if sentence is not None:
            reused[index] = sentence
            continue
        context = dict(fields[index])
        if docstrings == "ignore":
            context["docstring"] = None
        if docstrings == "ignore" or not source_excerpt:
            context["source_excerpt"] = None
        contexts[index] = context
    return Selection(indices=indices, reused=reused, contexts=contexts)


def select_as(result: AnalysisResult, recipe: Recipe) -> Selection:
    """`select` with the choices a pack's recipe records."""
    return select(
        result,
        include_private=recipe.include_private,
        include_tests=recipe.include_tests,
        docstrings=recipe.docstrings,
        source_excerpt=recipe.source_excerpt,
        limit=recipe.limit,
    )


def inputs_of(selection: Selection) -> list[SymbolInput]:
    """The symbols to ask about, in analysis order, as generation inputs."""
    return [
        SymbolInput(
            symbol_id=context["symbol_id"], context=SymbolContext.model_construct(**context)
        )
        for context in (selection.contexts[index] for index in sorted(selection.contexts))
    ]

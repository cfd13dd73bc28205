"""The context options an evaluation compares: what the model is told about each symbol.

Every option hides the symbol's docstring, which is the answer being scored, and the
docstrings of what is defined inside it. An option is a
name and a few switches; adding one that combines existing switches is one line in OPTIONS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from doctown.excerpts import cut, docstring_span


@dataclass(frozen=True)
class ContextOption:
    """One way of building prompts, scored as one run over the same sampled symbols.

    `source_excerpt` adds the first lines of the symbol's body (its docstrings cut out).
    `callee_summaries` documents the symbol's callees first (in dependency waves) and puts
    their summaries in its prompt. `grounding` asks again, once, for a summary that names
    identifiers that exist nowhere, as `doctown build` does. `grouped` documents the symbols
    of its file that a build asks in the same request too, so that it is asked as a build
    asks it (with a backend that answers several symbols per request).
    """

    name: str
    description: str
    source_excerpt: bool = False
    callee_summaries: bool = False
    grounding: bool = False
    grouped: bool = False


OPTIONS: dict[str, ContextOption] = {
    option.name: option
    for option in (
        ContextOption("bare", "the analysis' facts only: name, signature, calls, callers"),
        ContextOption("excerpt", "+ the first lines of the body", source_excerpt=True),
        ContextOption("callees", "+ its callees' summaries, written first", callee_summaries=True),
        ContextOption(
            "grounded", "bare, re-asking summaries that name unknown things", grounding=True
        ),
        ContextOption(
            "grouped",
            "excerpt, in one request with the symbols of its file a build asks with it",
            source_excerpt=True,
            grouped=True,
        ),
    )
}


def hide_docstring(excerpt: str | None, docstring: str | None) -> str | None:
    """`excerpt` without the lines that hold `docstring`, so the model cannot copy it.

    Languages that write the docstring inside the body (Python) have it in the excerpt; its
    lines are found by their text and removed with any line that holds only its quotes. When
    the docstring cannot be found where it should be, the excerpt is withheld (None) rather
    than risk showing the answer.
    """
    if not excerpt or not docstring:
        return excerpt
    lines = excerpt.split("\n")
    span = docstring_span(lines, docstring)
    if span is not None:
        return cut(lines, span) or None
    first = docstring.split("\n")[0].strip()
    if first and any(first in line for line in lines):
        return None  # its first line is there but not the rest where it should be
    # Doc comments written above the definition (JSDoc, `///`) are not in the excerpt.
    return excerpt if not _mentions(excerpt, docstring) else None


def _mentions(excerpt: str, docstring: str) -> bool:
    """Whether any substantial line of the docstring appears in the excerpt."""
    return any(len(line.strip()) > 20 and line.strip() in excerpt for line in docstring.split("\n"))


def context_for(
    option: ContextOption, fields: dict[str, Any], *, excerpt: str | None, docstrings: list[str]
) -> dict[str, Any]:
    """The context fields one option sends for a symbol.

    `fields` come with the docstring and excerpt already hidden (`docstrings="ignore"`);
    `excerpt` is the symbol's own, from the analysis, and `docstrings` are its docstring and
    those of the symbols defined inside it (a class's methods), all cut out of the excerpt.
    """
    context = dict(fields)
    context["docstring"] = None
    shown = excerpt if option.source_excerpt else None
    for docstring in docstrings:
        shown = hide_docstring(shown, docstring)
    context["source_excerpt"] = shown
    return context

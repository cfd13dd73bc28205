"""Where a docstring sits inside a source excerpt, so it can be cut out of it.

A Python excerpt holds the symbol's docstring in its body. Prompts show a docstring once, in its
own fence, so they cut it out of the excerpt; an evaluation hides it from the model entirely.
Both find it the same way: by the text of its first and last lines, with any line that holds
only its quotes.
"""

from __future__ import annotations

_QUOTES_ONLY = frozenset({'"""', "'''", 'r"""', "r'''", 'u"""', "u'''", '"', "'"})


def docstring_span(lines: list[str], docstring: str) -> tuple[int, int] | None:
    """The first and last of `lines` that hold `docstring`, quote-only lines included.

    An excerpt that stops inside the docstring gives a span to its last line. None when the
    docstring's first line is not there, or its last line is not where the first says it is.
    """
    wanted = docstring.split("\n")
    first = wanted[0].strip()
    start = next((i for i, line in enumerate(lines) if first and first in line), None)
    if start is None:
        return None
    end = start + len(wanted) - 1
    if end >= len(lines):
        end = len(lines) - 1  # the excerpt stops inside the docstring
    elif wanted[-1].strip() not in lines[end]:
        return None
    if start > 0 and lines[start - 1].strip() in _QUOTES_ONLY:
        start -= 1
    if end + 1 < len(lines) and lines[end + 1].strip() in _QUOTES_ONLY:
        end += 1
    return start, end


def cut(lines: list[str], span: tuple[int, int]) -> str:
    """`lines` without the lines of `span`, joined, trailing blank space removed."""
    start, end = span
    return "\n".join(lines[:start] + lines[end + 1 :]).rstrip()

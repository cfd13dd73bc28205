"""Form: does a summary read like an API reference line?

One or two sentences, no code, no filler opening ("This function..."), within a length bound.
Names in backticks are not code: the prompt asks for them.
"""

from __future__ import annotations

import re

MAX_SENTENCES = 2
MIN_WORDS = 3
MAX_CHARS = 300

ISSUES = ("sentences", "code", "filler", "length")

_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf)\.", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?:\s+|$)")
_IDENTIFIER = re.compile(r"`[A-Za-z_][\w.]*(?:\(\))?`")
_CODE = re.compile(
    r"```"  # a fenced block
    r"|`[^`]*[\s=;{}()\[\]][^`]*`"  # an inline span holding an expression, not a name
    r"|^\s*(?:def|class|function|return|import|from|const|let|var)\s"  # a statement
    r"|=>|[{}]|;\s*$|\w\s*==?\s*[\w'\"]",
    re.MULTILINE,
)
_FILLER = re.compile(
    r"^(?:this|the)\s+(?:\S+\s+){0,2}?"
    r"(?:function|method|class|module|code|symbol|snippet|constructor|file|program)\b"
    r"|^(?:it|this)\s+(?:is|does|will)\b"
    r"|^(?:here is|in this|as the name)\b",
    re.IGNORECASE,
)


def sentences(summary: str) -> int:
    """How many sentences `summary` has (abbreviations and dotted names do not end one)."""
    text = _ABBREVIATIONS.sub("abbreviation", _IDENTIFIER.sub("name", summary.strip()))
    return len([part for part in _SENTENCE_END.split(text) if part.strip()])


def form_issues(summary: str) -> list[str]:
    """The form rules `summary` breaks, by name (see ISSUES); empty when it has good form."""
    text = summary.strip()
    issues = []
    if not 1 <= sentences(text) <= MAX_SENTENCES:
        issues.append("sentences")
    if _CODE.search(_IDENTIFIER.sub("name", text)):
        issues.append("code")
    if _FILLER.search(text):
        issues.append("filler")
    if len(text) > MAX_CHARS or len(text.split()) < MIN_WORDS:
        issues.append("length")
    return issues

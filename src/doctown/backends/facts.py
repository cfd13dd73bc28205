"""Summaries written from the analysis alone: no model, no cost, nothing invented.

A sentence built from the facts the analysis computed (kind, name, file, parameters, return
type, calls, callers) is never fluent and never says why, but every word of it is true and
names only things that exist. It is the keyless choice for packs that must be right, and the
reference point a model has to beat.
"""

from __future__ import annotations

import re

from doctown.backends.base import Completion
from doctown.errors import InvalidOutputError
from doctown.overviews.facts import facts_overview
from doctown.overviews.schemas import OverviewContext
from doctown.pricing import FREE
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput, SymbolContext
from doctown.usage import Usage

MODEL_NAME = "analysis-facts"
MAX_LISTED = 3
MAX_SUMMARY_CHARS = 400
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*")
_SKIPPED_PARAMETERS = frozenset({"self", "cls", "this"})
# Languages whose parameters are `name type` (the name first) or `type name` (last).
_TYPED_PARAMETERS = {"go": 0, "java": -1}
_GO_RECEIVER = re.compile(r"\s*[A-Za-z_]\w*\s*\(")


def _split_top_level(text: str) -> list[str]:
    """`text` split at commas outside brackets: one item per parameter."""
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([{<":
            depth += 1
        elif char in ")]}>":
            depth -= 1
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _parenthesised(text: str, start: int) -> tuple[int, int] | None:
    """The positions of the bracket at `start` and of the one that closes it."""
    if start < 0:
        return None
    depth = 0
    for end in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            return start, end
    return None


def parameters(signature: str, language: str = "python") -> list[str]:
    """The parameter names of a signature, as far as they can be told apart.

    Python, JavaScript, TypeScript and Rust write `name: type = default`; Go writes
    `name type` and Java `type name`. A parameter that is not clearly one name is left out
    rather than guessed.
    """
    group = _parenthesised(signature, signature.find("("))
    if group is None:
        return []
    start, end = group
    if _GO_RECEIVER.match(signature[end + 1 :]):  # `func (c *Client) Do(...)`: skip the receiver
        group = _parenthesised(signature, signature.find("(", end + 1))
        if group is None:
            return []
        start, end = group
    names = []
    for item in _split_top_level(signature[start + 1 : end]):
        head = item.split("=", 1)[0].split(":", 1)[0].strip().lstrip("*&.").strip()
        words = _IDENTIFIER.findall(head)
        if len(words) > 1 and language in _TYPED_PARAMETERS:
            words = [words[_TYPED_PARAMETERS[language]]]
        if len(words) == 1 and words[0] not in _SKIPPED_PARAMETERS:
            names.append(words[0])
    return names


def returns(signature: str) -> str | None:
    """The declared return type, for signatures that write it as `-> T` (Python, Rust)."""
    if "->" not in signature:
        return None
    declared = signature.rsplit("->", 1)[1].strip().rstrip(":{").strip()
    return declared if declared and declared != "None" and len(declared) <= 60 else None


def _listed(names: list[str]) -> str:
    shown = [f"`{name.rsplit('.', 1)[-1]}`" for name in names[:MAX_LISTED]]
    more = len(names) - len(shown)
    text = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]
    return text + (f" and {more} more" if more > 0 else "")


def facts_summary(ctx: SymbolContext) -> str:
    """One true sentence about `ctx` from its facts: what it is, takes, returns and calls.

    The file is left out: a path reads as an identifier nobody defined, and where the symbol
    lives is shown next to its summary anyway.
    """
    kind = ctx.kind.replace("_", " ")
    parts = [f"{kind.capitalize()} `{ctx.name}`"]
    if ctx.kind != "class":
        taken = parameters(ctx.signature, ctx.language)
        if taken:
            parts.append(f"taking {_listed(taken)}")
        given = returns(ctx.signature)
        if given:
            parts.append(f"returning `{given}`")
    relations = []
    if ctx.calls:
        relations.append(f"calls {_listed(ctx.calls)}")
    if ctx.called_by:
        relations.append(f"is called by {_listed(ctx.called_by)}")
    sentence = ", ".join(parts)
    if relations:
        sentence += "; it " + " and ".join(relations)
    sentence = " ".join(sentence.split()) + "."
    return (
        sentence if len(sentence) <= MAX_SUMMARY_CHARS else sentence[: MAX_SUMMARY_CHARS - 2] + "…."
    )


class FactsBackend:
    """Writes each summary from the symbol's analysed facts; never calls a model."""

    name = "facts"
    model = MODEL_NAME
    price = FREE
    few_shot = False
    preview = False
    supports_groups = False
    max_completion_tokens = 0

    async def complete(self, prompt: Prompt) -> Completion:
        if prompt.context is None:
            raise InvalidOutputError("no analysed facts came with this prompt", usage=Usage())
        if isinstance(prompt.context, OverviewContext):
            return Completion(output=facts_overview(prompt.context), usage=Usage(), attempts=1)
        summary = facts_summary(prompt.context)
        return Completion(output=DocumentationOutput(summary=summary), usage=Usage(), attempts=1)

    async def readiness(self) -> str | None:
        return None

    async def aclose(self) -> None:
        return None

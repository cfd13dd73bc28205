"""Grounding: does a summary name only identifiers that exist?

A summary that mentions `parse_config` when no such thing exists is worse than no summary.
The check is pure text work, no model call: it extracts what looks like an identifier (names in
backticks, CamelCase, snake_case, dotted paths, calls like `f()`) and accepts it when it is the
symbol's own context (its name, signature, callers, callees, imports, related symbols,
docstring) or a known symbol of the repository (any part of a qualified name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from doctown.schemas import SymbolContext

_BACKTICKED = re.compile(r"`([^`\n]{1,200})`")
_DOTTED = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?:\(\))?")
_SNAKE = re.compile(r"\b[a-z0-9]*_[a-z0-9_]*[a-z0-9]\b|\b_[A-Za-z0-9_]+\b")
_CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b|\b[a-z]+[A-Z][A-Za-z0-9]*\b")
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\(\)")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words that look like identifiers in ordinary English or are universal in code.
_COMMON = frozenset(
    {
        "e.g",
        "i.e",
        "JavaScript",
        "TypeScript",
        "GitHub",
        "OpenAI",
        "PyPI",
        "JSON",
        "YAML",
        "macOS",
        "iOS",
        "PostgreSQL",
        "MySQL",
        "SQLite",
        "README",
    }
)


def mentioned_identifiers(summary: str) -> list[str]:
    """Identifiers a summary mentions, in order of appearance, without repeats."""
    found: list[str] = []
    for match in _BACKTICKED.finditer(summary):
        found.extend(
            _WORD.findall(match.group(1))[:1] if " " in match.group(1) else [match.group(1)]
        )
    text = _BACKTICKED.sub(" ", summary)
    for pattern in (_DOTTED, _CALL, _SNAKE, _CAMEL):
        for match in pattern.finditer(text):
            found.append(match.group(1) if pattern is _CALL else match.group(0))
        # A dotted path's parts are not mentioned again on their own.
        text = pattern.sub(" ", text)
    seen: set[str] = set()
    result = []
    for name in found:
        name = name.removesuffix("()").strip(".")
        if name and name not in seen and name not in _COMMON:
            seen.add(name)
            result.append(name)
    return result


def context_vocabulary(context: SymbolContext) -> set[str]:
    """Every identifier-like word the model was shown about this symbol."""
    texts = [
        context.name,
        context.signature,
        context.file_path,
        context.cluster_label or "",
        context.docstring or "",
        context.source_excerpt or "",
        *context.calls,
        *context.called_by,
        *context.imports,
        *context.related_symbols,
    ]
    words: set[str] = set()
    for text in texts:
        words.update(_WORD.findall(text))
        words.update(match.group(0) for match in _DOTTED.finditer(text))
    return words


@dataclass(frozen=True)
class SymbolTable:
    """The repository's known names: every qualified name and each of its parts."""

    names: frozenset[str]

    @classmethod
    def of(cls, qualified_names: Iterable[str]) -> SymbolTable:
        names: set[str] = set()
        for qualified in qualified_names:
            names.add(qualified)
            parts = [part for part in re.split(r"[.:/]+", qualified) if part]
            names.update(parts)
            names.update(".".join(parts[i:]) for i in range(len(parts)))
        return cls(frozenset(names))


def ungrounded(summary: str, context: SymbolContext, table: SymbolTable | None = None) -> list[str]:
    """The identifiers in `summary` found neither in its context nor in the symbol table."""
    vocabulary = context_vocabulary(context)
    known = table.names if table is not None else frozenset()
    missing = []
    for name in mentioned_identifiers(summary):
        parts = name.split(".")
        if name in vocabulary or name in known:
            continue
        # `Cart.checkout` is grounded when each part is (the path as written, or its last part).
        if all(part in vocabulary or part in known for part in parts):
            continue
        missing.append(name)
    return missing

"""Grounding: does a summary name only identifiers that exist?

A summary that mentions `parse_config` when no such thing exists is worse than no summary.
The check is pure text work, no model call: it extracts what looks like an identifier (names in
backticks, CamelCase, snake_case, dotted paths, calls like `f()`) and accepts it when it is the
symbol's own context (its name, signature, callers, callees, imports, related symbols,
docstring) or a known symbol of the repository (any part of a qualified name).
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass, replace

from doctown.backends.base import Backend, Completion
from doctown.errors import SymbolFailure, UngroundedError
from doctown.generation.wrapper import WrapperBackend
from doctown.overviews.schemas import ClusterOverviewOutput, OverviewContext, referenced
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput, SymbolContext
from doctown.usage import Usage

_BACKTICKED = re.compile(r"`([^`\n]{1,200})`")
_DOTTED = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?:\(\))?")
_SNAKE = re.compile(r"\b[a-z0-9]*_[a-z0-9_]*[a-z0-9]\b|\b_[A-Za-z0-9_]+\b")
_CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b|\b[a-z]+[A-Z][A-Za-z0-9]*\b")
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\(\)")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words that look like identifiers in ordinary English or are universal in code; Python's
# builtins (`open`, `len`, `ValueError`) exist everywhere without being in any context.
_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
_COMMON = _BUILTINS | frozenset(
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
class KnownNames:
    """The repository's known names: every qualified name and each of its parts; and the
    references an overview may make (symbol ids, `module:PATH`, `cluster:ID`)."""

    names: frozenset[str]
    refs: frozenset[str] = frozenset()

    @classmethod
    def of(cls, qualified_names: Iterable[str], refs: Iterable[str] = ()) -> KnownNames:
        names: set[str] = set()
        for qualified in qualified_names:
            names.add(qualified)
            parts = [part for part in re.split(r"[.:/]+", qualified) if part]
            names.update(parts)
            names.update(".".join(parts[i:]) for i in range(len(parts)))
        return cls(frozenset(names), frozenset(refs))


def ungrounded(summary: str, context: SymbolContext, table: KnownNames | None = None) -> list[str]:
    """The identifiers in `summary` found neither in its context nor in the symbol table."""
    known = table.names if table is not None else frozenset()
    # Most names a summary mentions are known symbols: the context's vocabulary, which costs
    # more to gather than the whole check, is built only for the others.
    unknown = [name for name in mentioned_identifiers(summary) if not _grounded(name, known)]
    if not unknown:
        return []
    vocabulary = context_vocabulary(context)
    return [name for name in unknown if not _grounded(name, vocabulary, known)]


def overview_vocabulary(context: OverviewContext) -> set[str]:
    """Every identifier-like word an overview prompt showed."""
    texts = [context.title, context.subject, context.readme or "", *context.entry_points]
    texts += [*context.depends_on, *context.used_by]
    for item in (*context.items, *context.neighbours):
        texts += [item.ref, item.name, item.detail, item.summary or ""]
    words: set[str] = set()
    for text in texts:
        words.update(_WORD.findall(text))
        words.update(match.group(0) for match in _DOTTED.finditer(text))
    return words


def overview_ungrounded(
    output: DocumentationOutput, context: OverviewContext, table: KnownNames | None = None
) -> list[str]:
    """The references an overview makes that the pack does not hold, then the identifiers its
    prose names that exist nowhere."""
    known_refs = (table.refs if table is not None else frozenset()) | context.refs()
    missing = [ref for ref in dict.fromkeys(referenced(output)) if ref not in known_refs]
    prose = [output.summary]
    if isinstance(output, ClusterOverviewOutput):
        prose += [output.title, *(relation.description for relation in output.relations)]
    names = [name for text in prose for name in mentioned_identifiers(text)]
    known = table.names if table is not None else frozenset()
    unknown = [name for name in dict.fromkeys(names) if not _grounded(name, known)]
    if unknown:
        vocabulary = overview_vocabulary(context) | known_refs
        missing += [name for name in unknown if not _grounded(name, vocabulary, known)]
    return missing


def answer_ungrounded(
    output: DocumentationOutput,
    context: SymbolContext | OverviewContext,
    table: KnownNames | None = None,
) -> list[str]:
    """What an answer names that does not exist, whatever kind of answer it is."""
    if isinstance(context, OverviewContext):
        return overview_ungrounded(output, context, table)
    return ungrounded(output.summary, context, table)


def _grounded(name: str, *vocabularies: Set[str]) -> bool:
    def known(word: str) -> bool:
        return any(word in words for words in vocabularies)

    # `Cart.checkout` is grounded when each part is (the path as written, or its last part).
    return known(name) or all(known(part) for part in name.split("."))


def correction(prompt: Prompt, answer: DocumentationOutput, names: list[str]) -> Prompt:
    """The same conversation, the answer, and a request to rewrite it without `names`."""
    listed = ", ".join(f"`{name}`" for name in names)
    if prompt.output is DocumentationOutput:
        follow_up = (
            f"Your summary mentions {listed}, which do not exist in this codebase or in the "
            "facts above. Rewrite the summary using only names given above; answer with the "
            "same JSON."
        )
    else:
        follow_up = (
            f"Your answer names {listed}, which do not exist in this codebase or in the facts "
            "above. Rewrite it using only the references and names given above; answer with "
            "the same JSON."
        )
    messages = [
        *prompt.messages,
        {"role": "assistant", "content": json.dumps(answer.model_dump())},
        {"role": "user", "content": follow_up},
    ]
    return Prompt(
        messages=messages,
        prompt_tokens=prompt.prompt_tokens,  # a lower bound; callers with a counter recount
        truncated=prompt.truncated,
        context=prompt.context,
        version=prompt.version,
        output=prompt.output,
    )


@dataclass(frozen=True)
class GroundingPolicy:
    """How a job checks its summaries: against which symbol table, and how strictly."""

    table: KnownNames | None = None
    strict: bool = False


class GroundingBackend(WrapperBackend):
    """Checks each summary's identifiers; an ungrounded one is asked again once.

    A summary still ungrounded after the re-ask is kept and marked (`Completion.ungrounded`),
    or refused with UngroundedError when `strict`. Sits outside the cache, so a rerun replays
    both the check and the re-ask from the cache without a call.
    """

    def __init__(
        self,
        wrapped: Backend,
        *,
        table: KnownNames | None,
        strict: bool = False,
        count_tokens: Callable[[list[dict[str, str]]], int] | None = None,
    ) -> None:
        super().__init__(wrapped)
        self.table = table
        self.strict = strict
        self._count_tokens = count_tokens

    async def complete(self, prompt: Prompt) -> Completion:
        first = await self.wrapped.complete(prompt)
        if prompt.context is None:
            return first
        missing = answer_ungrounded(first.single_output, prompt.context, self.table)
        if not missing:
            return first
        again = correction(prompt, first.single_output, missing)
        if self._count_tokens is not None:
            again = replace(again, prompt_tokens=self._count_tokens(again.messages))
        try:
            second = await self.wrapped.complete(again)
        except SymbolFailure as failure:
            # The re-ask failed: keep the first answer, marked, with everything it cost.
            return self._settle(
                first, first.usage + failure.usage, first.cost_to_make + failure.usage, missing
            )
        still = answer_ungrounded(second.single_output, prompt.context, self.table)
        return self._settle(
            second, first.usage + second.usage, first.cost_to_make + second.cost_to_make, still
        )

    def _settle(
        self, completion: Completion, usage: Usage, original: Usage, missing: list[str]
    ) -> Completion:
        if missing and self.strict:
            raise UngroundedError(
                f"the summary names {', '.join(missing)}, which exist nowhere in the repository",
                usage=usage,
            )
        return replace(
            completion,
            usage=usage,
            original_usage=original if original != usage else None,
            reasked=True,
            ungrounded=tuple(missing),
        )

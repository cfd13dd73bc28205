"""Overviews written from the analysis alone, for the keyless `facts` backend.

Like its symbol summaries, every sentence is built from what the context lists (kinds,
names, dependencies, neighbours, sizes) and references only what it shows: never fluent,
never wrong.
"""

from __future__ import annotations

import re
from collections import Counter

from doctown.overviews.schemas import (
    CLUSTER_PREFIX,
    ClusterOverviewOutput,
    ClusterRelation,
    GroupOverviewOutput,
    ModuleOverviewOutput,
    OverviewContext,
    OverviewItem,
    RepositoryOverviewOutput,
)
from doctown.schemas import DocumentationOutput

MAX_NAMED = 3
MAX_LISTED_REFS = 8


def _names(values: list[str]) -> str:
    shown = [f"`{value}`" for value in values[:MAX_NAMED]]
    if not shown:
        return "nothing"
    more = len(values) - len(shown)
    text = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]
    return text + (f" and {more} more" if more > 0 else "")


def _short(item: OverviewItem) -> str:
    return (
        item.name.rsplit(".", 1)[-1]
        if item.kind not in ("module", "cluster", "group")
        else item.name
    )


def _kinds(items: list[OverviewItem]) -> str:
    counts = Counter(item.kind for item in items)
    parts = [
        f"{count} {kind}{'es' if kind.endswith('s') and count > 1 else 's' if count > 1 else ''}"
        for kind, count in sorted(counts.items(), key=lambda kc: (-kc[1], kc[0]))
    ]
    return ", ".join(parts) or "no documented symbols"


def _symbols(items: list[OverviewItem]) -> list[OverviewItem]:
    return [item for item in items if item.kind not in ("module", "cluster", "group")]


def facts_overview(context: OverviewContext) -> DocumentationOutput:
    """The overview `context` asks for, from its facts alone."""
    items = context.items
    symbols = _symbols(items)
    refs = [item.ref for item in symbols][:MAX_LISTED_REFS]
    named = _names([_short(item) for item in symbols])
    if context.level == "group":
        listed = _names([_short(item) for item in items])
        return GroupOverviewOutput(
            summary=f"{context.part.capitalize()}: {_kinds(items)}, among them {listed}.",
            key_symbols=[item.ref for item in items if item.kind != "group"][:MAX_LISTED_REFS],
        )
    if context.level == "module":
        summary = f"Module `{context.title}` holds {_kinds(symbols)}, among them {named}."
        if context.depends_on:
            summary += f" It depends on {_names(context.depends_on)}."
        if context.used_by:
            summary += f" It is used by {_names(context.used_by)}."
        return ModuleOverviewOutput(summary=summary, public_api=refs)
    if context.level == "cluster":
        modules = _names([item.name for item in items if item.kind == "module"])
        relations = [
            ClusterRelation(cluster=n.ref, description=f"It {n.detail} ({n.name}).")
            for n in context.neighbours
            if n.ref.startswith(CLUSTER_PREFIX) and n.detail
        ]
        return ClusterOverviewOutput(
            title=context.title,
            summary=f"A part of the code spanning {modules}; its key symbols are {named}.",
            relations=relations,
        )
    # The repository: its parts are clusters, or groups of them on a large repository.
    parts = [item.ref for item in items if item.ref.startswith(CLUSTER_PREFIX)]
    parts += [ref for item in items if item.kind == "group" for ref in _bracketed(item.detail)]
    largest = _names([item.name for item in items if item.ref.startswith(CLUSTER_PREFIX)])
    summary = f"`{context.title}` is made of {len(parts)} main parts"
    summary += f"; the largest are {largest}." if largest != "nothing" else "."
    if context.entry_points:
        summary += f" It has {len(context.entry_points)} entry points."
    start = [ref for entry in context.entry_points for ref in _bracketed(entry)]
    return RepositoryOverviewOutput(
        summary=summary,
        main_parts=[ref for ref in parts if ref.startswith(CLUSTER_PREFIX)][:MAX_LISTED_REFS],
        start_reading=start[:MAX_LISTED_REFS],
    )


def _bracketed(text: str) -> list[str]:
    """The references written in square brackets in `text`."""
    return re.findall(r"\[([^\]\s]+)\]", text)

"""The contexts of each level, built from the level below, and the grouping of large ones.

Modules are written from their symbols' summaries, clusters from the overviews of the modules
they span and their key symbols' summaries, the repository from the cluster overviews, its
README and its entry points. Children are listed in a fixed order (source order for a
module's symbols, size for the rest), so the same repository gives the same prompts. A
context too large for one prompt is cut into consecutive groups, each summarised first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from doctown.analysis import Symbol
from doctown.overviews.prompts import OverviewPromptBuilder
from doctown.overviews.schemas import (
    GROUP_PREFIX,
    ClusterOverviewOutput,
    OverviewContext,
    OverviewItem,
    cluster_ref,
    module_ref,
)
from doctown.overviews.structure import (
    ClusterFacts,
    ModuleFacts,
    Structure,
    cluster_title,
    describe_neighbour,
)
from doctown.schemas import DocumentationOutput

MAX_CLUSTER_SYMBOLS = 8
KEY_SYMBOLS = 5  # a cluster's most central members: its key symbols in the pack, not asked
MAX_CLUSTER_MODULES = 8  # the modules a cluster spans most, shown with their overviews
GROUP_MAX_ITEMS = 60


@dataclass(frozen=True)
class Written:
    """What the levels below wrote: symbol summaries, and overviews by reference."""

    summaries: Mapping[str, str]
    overviews: Mapping[str, DocumentationOutput]


def _name(symbol: Symbol | None, fallback: str) -> str:
    return symbol.qualified_name if symbol is not None else fallback


def _symbol_item(
    symbol_id: str, symbols: Mapping[str, Symbol], written: Written, detail: str = ""
) -> OverviewItem:
    symbol = symbols.get(symbol_id)
    return OverviewItem(
        ref=symbol_id,
        name=_name(symbol, symbol_id),
        kind=symbol.kind if symbol is not None else "symbol",
        summary=written.summaries.get(symbol_id),
        detail=detail,
    )


def module_context(
    facts: ModuleFacts, symbols: Mapping[str, Symbol], written: Written
) -> OverviewContext:
    """A module's overview context: its top-level symbols, each written by its name in the
    file (`Cart` for `core.py::Cart`) rather than its whole id, which repeats the path."""
    items = []
    own = written.summaries.get(facts.path)  # the module's own summary, when it has one
    if own:
        items.append(
            OverviewItem(ref=module_ref(facts.path), name=facts.path, kind="module", summary=own)
        )
    prefix = f"{facts.path}::"
    for symbol_id in facts.members:
        item = _symbol_item(symbol_id, symbols, written)
        local = symbol_id.removeprefix(prefix)
        if local != symbol_id and local and " " not in local and "]" not in local:
            item = item.model_copy(update={"alias": local})
        items.append(item)
    return OverviewContext(
        level="module",
        subject=module_ref(facts.path),
        title=facts.path,
        language=facts.language,
        items=items,
        depends_on=facts.depends_on,
        used_by=facts.used_by,
    )


def cluster_context(
    facts: ClusterFacts,
    structure: Structure,
    symbols: Mapping[str, Symbol],
    written: Written,
) -> OverviewContext:
    """A cluster's context: the modules it spans (their overviews), its key symbols, its
    neighbouring clusters and how many calls go each way."""
    items = []
    for path in facts.modules[:MAX_CLUSTER_MODULES]:
        overview = written.overviews.get(module_ref(path))
        if path in structure.modules or overview is not None:
            items.append(
                OverviewItem(
                    ref=module_ref(path),
                    name=path,
                    kind="module",
                    summary=overview.summary if overview is not None else None,
                )
            )
    items += [_symbol_item(m, symbols, written) for m in facts.members[:MAX_CLUSTER_SYMBOLS]]
    neighbours = [
        OverviewItem(
            ref=cluster_ref(neighbour.cluster_id),
            name=cluster_title(structure.clusters[neighbour.cluster_id])
            if neighbour.cluster_id in structure.clusters
            else f"cluster {neighbour.cluster_id}",
            kind="cluster",
            detail=describe_neighbour(neighbour),
        )
        for neighbour in facts.neighbours
    ]
    return OverviewContext(
        level="cluster",
        subject=cluster_ref(facts.cluster_id),
        title=cluster_title(facts),
        items=items,
        neighbours=neighbours,
    )


def repository_context(structure: Structure, written: Written) -> OverviewContext:
    """The repository's context: its clusters (their overviews), README and entry points."""
    ranked = sorted(
        structure.clusters.values(),
        key=lambda c: (-c.size, int(c.cluster_id) if c.cluster_id.isdigit() else 0, c.cluster_id),
    )
    items = []
    for facts in ranked:
        overview = written.overviews.get(cluster_ref(facts.cluster_id))
        title = (
            overview.title
            if isinstance(overview, ClusterOverviewOutput) and overview.title.strip()
            else cluster_title(facts)
        )
        modules = ", ".join(facts.modules[:3])
        items.append(
            OverviewItem(
                ref=cluster_ref(facts.cluster_id),
                name=title,
                kind="cluster",
                summary=overview.summary if overview is not None else None,
                detail=f"{facts.size} symbols in {modules}",
            )
        )
    entries = [
        f"{entry.kind.replace('_', ' ')} {entry.name}" + (f" [{entry.ref}]" if entry.ref else "")
        for entry in structure.entry_points
    ]
    return OverviewContext(
        level="repository",
        subject="repository",
        title=structure.name,
        items=items,
        entry_points=entries,
        readme=structure.readme,
    )


def split(context: OverviewContext, builder: OverviewPromptBuilder) -> list[OverviewContext]:
    """`context`'s items cut into consecutive groups whose prompts fit the budget.

    Deterministic: the same items in the same order give the same groups.
    """
    empty = builder.build(
        context.model_copy(update={"items": [], "readme": None, "neighbours": []})
    )
    room = max(builder.max_prompt_tokens - empty.prompt_tokens - 50, 1)
    chunks: list[list[OverviewItem]] = [[]]
    used = 0
    for item in context.items:
        cost = builder.item_tokens(item)
        if chunks[-1] and (used + cost > room or len(chunks[-1]) >= GROUP_MAX_ITEMS):
            chunks.append([])
            used = 0
        chunks[-1].append(item)
        used += cost
    count = len(chunks)
    return [
        OverviewContext(
            level="group",
            subject=f"{GROUP_PREFIX}{context.subject}#{index}",
            title=context.title,
            language=context.language,
            items=chunk,
            part=f"part {index} of {count}",
        )
        for index, chunk in enumerate(chunks, start=1)
    ]


def with_groups(
    context: OverviewContext,
    groups: list[OverviewContext],
    answers: Mapping[str, DocumentationOutput],
) -> OverviewContext:
    """`context` with its items replaced by its groups' summaries (a failed group's items
    are named, without a summary)."""
    items = []
    for group in groups:
        answer = answers.get(group.subject)
        if answer is not None:
            named = _keys(answer)
            keys = [item for item in group.items if {item.ref, item.alias} & named][:6]
            detail = "key: " + ", ".join(f"[{item.ref}] {item.name}" for item in keys)
            summary: str | None = answer.summary
        else:
            detail = "items: " + ", ".join(item.name for item in group.items[:8])
            summary = None
        items.append(
            OverviewItem(
                ref=group.subject, name=group.part, kind="group", summary=summary, detail=detail
            )
        )
    return context.model_copy(update={"items": items})


def _keys(answer: DocumentationOutput) -> set[str]:
    return set(getattr(answer, "key_symbols", []))

"""What a coding agent is told: compact text over a pack, with ids it can pass back.

Each function answers one question about a `Catalog` (the same indexes `doctown query` and
`doctown search` use) in a few lines an agent can quote. Every symbol is named with its id,
kind and `file:line`, so the next question can be exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from doctown.docpack import Symbol
from doctown.site.catalog import Catalog
from doctown.site.search import location

MAX_DEPTH = 3
MAX_LISTED = 100
SUMMARY_CHARS = 160


def _one_line(value: str, limit: int = SUMMARY_CHARS) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def summary(symbol: Symbol) -> str:
    """The summary, or why there is none: never invented text."""
    doc = symbol.documentation
    if doc.summary:
        return _one_line(doc.summary)
    if doc.status == "failed":
        return f"(not documented: {doc.reason})"
    return f"(not documented: {doc.reason or doc.status})"


def line(symbol: Symbol) -> str:
    """`qualified.name [kind] file:line id=<id>`."""
    return (
        f"{symbol.qualified_name or symbol.name} [{symbol.kind}] {location(symbol)} id={symbol.id}"
    )


def search(catalog: Catalog, query: str, limit: int) -> str:
    """Ranked matches for `query`, best first."""
    hits = catalog.search_index.search(query, limit=limit)
    if not hits:
        return f"No symbol matches {query!r}. Try fewer or other words."
    rows = [f"{rank}. {line(h.symbol)}\n   {summary(h.symbol)}" for rank, h in enumerate(hits, 1)]
    return "\n".join(rows)


def find(catalog: Catalog, name_or_id: str) -> Symbol | str:
    """The one symbol `name_or_id` names, or the text explaining why there is not one."""
    lookup = catalog.index.lookup(name_or_id)
    if lookup.found is not None:
        return lookup.found
    if lookup.ambiguous:
        listed = "\n".join(f"- {line(s)}" for s in lookup.symbols[:MAX_LISTED])
        return f"{len(lookup.symbols)} symbols match {name_or_id!r}; pass one id:\n{listed}"
    return f"No symbol matches {name_or_id!r}. Find it with the search tool."


def symbol(catalog: Catalog, found: Symbol) -> str:
    """Everything `doctown query` shows about one symbol."""
    doc = found.documentation
    cluster = catalog.cluster_of(found)
    lines = [
        line(found),
        f"language: {found.language}" + ("; test code" if found.test else ""),
    ]
    if found.signature:
        lines.append(f"signature: {_one_line(found.signature, 400)}")
    lines.append(f"status: {doc.status}" + (f" ({doc.reason})" if doc.reason else ""))
    lines.append(f"summary: {summary(found)}")
    if doc.message and not doc.summary:
        lines.append(f"reason: {_one_line(doc.message)}")
    if doc.provenance is not None:
        p = doc.provenance
        marks = ["asked twice"] if p.reasked else []
        if p.ungrounded:
            marks.append(f"names unknown identifiers: {', '.join(p.ungrounded)}")
        lines.append(
            f"written by: {p.backend} {p.model}".rstrip()
            + (f" ({'; '.join(marks)})" if marks else "")
        )
    if cluster is not None:
        lines.append(f"cluster: {cluster.label} (id={cluster.cluster_id})")
    lines.append(f"centrality: {found.centrality:.3f}")
    if found.docstring:
        lines.append(f"docstring: {_one_line(found.docstring, 600)}")
    for title, ids in (
        ("calls", found.calls),
        ("called by", found.called_by),
        ("tested by", found.tested_by),
    ):
        lines.append(f"{title} ({len(ids)}):")
        lines.extend(_related(catalog, ids) or ["  none"])
    members = catalog.children.get(found.id, [])
    if members:
        lines.append(f"members ({len(members)}):")
        lines.extend(f"  {line(m)}" for m in members[:MAX_LISTED])
    return "\n".join(lines)


def _related(catalog: Catalog, ids: Iterable[str]) -> list[str]:
    rows = []
    for symbol_id in list(ids)[:MAX_LISTED]:
        other = catalog.index.get(symbol_id)
        rows.append(f"  {line(other)}" if other else f"  {symbol_id} (not in this pack)")
    return rows


def neighbours(catalog: Catalog, found: Symbol, *, callers: bool, depth: int) -> str:
    """Callers (or callees) of `found`, level by level, up to `depth` calls away."""
    depth = max(1, min(depth, MAX_DEPTH))
    step: Callable[[Symbol], list[str]] = (
        (lambda s: s.called_by) if callers else (lambda s: s.calls)
    )
    what = "callers" if callers else "callees"
    seen = {found.id}
    level = [found]
    lines = [f"{what} of {line(found)}, up to {depth} call{'s' if depth > 1 else ''} away"]
    listed = 0
    for distance in range(1, depth + 1):
        ids = sorted({i for s in level for i in step(s)} - seen)
        if not ids:
            break
        seen.update(ids)
        lines.append(f"distance {distance} ({len(ids)}):")
        for symbol_id in ids[: MAX_LISTED - listed]:
            other = catalog.index.get(symbol_id)
            lines.append(f"  {line(other)}" if other else f"  {symbol_id} (not in this pack)")
        listed += min(len(ids), MAX_LISTED - listed)
        if listed >= MAX_LISTED:
            lines.append(f"  (stopped at {MAX_LISTED} symbols)")
            break
        level = [s for i in ids if (s := catalog.index.get(i)) is not None]
    if len(lines) == 1:
        lines.append("  none in this pack")
    return "\n".join(lines)


def file_outline(catalog: Catalog, path: str) -> str:
    """A file's symbols in source order, indented under their parents."""
    symbols = catalog.by_file.get(path.strip().lstrip("./"))
    if not symbols:
        near = [f for f in catalog.file_by_path if f.endswith(path.strip().lstrip("./"))][:20]
        hint = ("\nDid you mean:\n" + "\n".join(f"- {f}" for f in near)) if near else ""
        return f"No file {path!r} in this pack.{hint}"
    depth: dict[str, int] = {}
    lines = [f"{symbols[0].file_path}: {len(symbols)} symbols"]
    for s in symbols:
        level = depth.get(s.parent, -1) + 1 if s.parent else 0
        depth[s.id] = level
        first = s.line_range[0] if s.line_range else "?"
        lines.append(f"{'  ' * level}{first}: {s.kind} {s.name} id={s.id} - {summary(s)}")
    return "\n".join(lines)


def cluster(catalog: Catalog, name_or_id: str, limit: int) -> str:
    """A cluster's members, most central first; by id or label."""
    wanted = name_or_id.strip()
    found = catalog.cluster_by_id.get(wanted) or next(
        (c for c in catalog.clusters if c.label == wanted), None
    )
    if found is None:
        listed = "\n".join(
            f"- {c.label} (id={c.cluster_id}, {c.member_count} symbols)"
            for c in catalog.clusters[:MAX_LISTED]
        )
        return f"No cluster {name_or_id!r}. The clusters, largest first:\n{listed}"
    members = catalog.members.get(found.cluster_id, [])
    lines = [f"cluster {found.label} (id={found.cluster_id}): {found.member_count} symbols"]
    lines.extend(f"- {line(s)}\n  {summary(s)}" for s in members[:limit])
    if len(members) > limit:
        lines.append(f"({len(members) - limit} more)")
    return "\n".join(lines)


def overview_of(catalog: Catalog, ref: str) -> str:
    """One module's or cluster's overview (`module:PATH`, `cluster:ID`), as text."""
    index = catalog.overviews
    if not index.present:
        return "This pack has no overviews (it was built with --no-overviews, or before them)."
    found = index.text(ref)
    if found is not None:
        return found
    modules = ", ".join(f"module:{path}" for path in sorted(index.modules)[:MAX_LISTED])
    clusters = ", ".join(f"cluster:{cluster}" for cluster in sorted(index.clusters)[:MAX_LISTED])
    return (
        f"No overview {ref!r}. Pass module:PATH or cluster:ID; modules: {modules or 'none'}; "
        f"clusters: {clusters or 'none'}."
    )


def overview(catalog: Catalog) -> str:
    """What the project is (its overview and architecture, when the pack has them), where
    the pack came from, what it holds, its largest clusters and central symbols."""
    about = catalog.overviews.text("overview")
    diagram = catalog.diagram if catalog.overviews.present else ""
    head = []
    if about is not None:
        head.append(about)
    if diagram:
        head.append("architecture (Mermaid; call sites on the arrows):\n" + diagram.rstrip())
    facts = _facts(catalog)
    return "\n\n".join([*head, facts]) if head else facts


def _facts(catalog: Catalog) -> str:
    manifest = catalog.manifest
    source = manifest.source
    stats = catalog.statistics
    lines = [
        f"pack {catalog.name}: {source.repo_url or source.path}"
        + (f" @ {source.git_ref}" if source.git_ref else "")
        + (f" ({source.commit_hash[:12]})" if source.commit_hash else ""),
        f"created {manifest.created_at.isoformat()} by {manifest.generator.name} "
        f"{manifest.generator.version}; summaries by {catalog.authorship.label}"
        + ("; an offline preview, often vague or wrong" if catalog.preview else ""),
        f"{stats.symbols} symbols in {len(catalog.files)} files: {stats.documented} documented, "
        f"{stats.reused} from docstrings, {stats.failed} failed, {stats.skipped} skipped, "
        f"{stats.tests} in test code",
        "languages: "
        + ", ".join(f"{lang} ({files} files)" for lang, files, _ in catalog.languages),
        "largest clusters:",
        *(
            f"- {c.label} (id={c.cluster_id}, {c.member_count} symbols)"
            for c in catalog.clusters[:10]
        ),
        "most central symbols:",
        *(f"- {line(s)}" for s in catalog.central[:10]),
    ]
    return "\n".join(lines)

"""Assembling what the model is told about each symbol: a `SymbolContext` per symbol.

Only confident call edges appear in `calls` and `called_by`: a wrong fact in a prompt becomes
a wrong sentence in the documentation. Names there are qualified names, which read well in a
prompt; the ids stay in the analysis result for the docpack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from doctown.analysis.model import CONFIDENT, Cluster, Edge, Symbol
from doctown.schemas import MAX_LIST_ITEMS, SymbolContext

RELATED_LIMIT = 5
EXCERPT_LINES = 40
EXCERPT_CHARS = 4_000
MAX_SIGNATURE_CHARS = 2_000
# How many neighbours a context lists at most; the graph keeps them all.
MAX_NEIGHBOURS = 50
# Two-hop neighbours come through the strongest few edges only: hubs would make it quadratic.
HOP_LIMIT = 10


def excerpt(content: bytes, symbol: Symbol) -> str | None:
    """The first lines of a symbol's source, bounded in lines and characters."""
    if symbol.kind == "module" or symbol.end_byte <= symbol.start_byte:
        return None
    end = min(symbol.end_byte, symbol.start_byte + EXCERPT_CHARS * 4)
    text = content[symbol.start_byte : end].decode("utf-8", "replace")
    lines = text.splitlines()[:EXCERPT_LINES]
    return "\n".join(lines)[:EXCERPT_CHARS] or None


def build_contexts(
    symbols: Sequence[Symbol],
    edges: Sequence[Edge],
    *,
    centrality: Mapping[str, float],
    clusters: Sequence[Cluster],
    imports: Mapping[str, list[str]],
    contents: Mapping[str, bytes],
) -> list[SymbolContext]:
    """One context per symbol, in symbol order."""
    by_id = {symbol.id: symbol for symbol in symbols}
    calls: dict[str, list[tuple[float, str]]] = {}
    called_by: dict[str, list[tuple[float, str]]] = {}
    for edge in edges:
        if edge.kind != "calls" or edge.confidence < CONFIDENT or edge.source == edge.target:
            continue
        strength = edge.weight * edge.confidence
        calls.setdefault(edge.source, []).append((strength, edge.target))
        called_by.setdefault(edge.target, []).append((strength, edge.source))
    cluster_of: dict[str, Cluster] = {}
    for cluster in clusters:
        for member in cluster.members:
            cluster_of[member] = cluster
    leaders = {
        cluster.id: sorted(cluster.members, key=lambda m: -centrality.get(m, 0.0))[
            : RELATED_LIMIT * 2
        ]
        for cluster in clusters
    }

    # Strongest first, so every slice below keeps the closest neighbours.
    for adjacency in (calls, called_by):
        for pairs in adjacency.values():
            pairs.sort(key=lambda pair: (-pair[0], pair[1]))

    def names(pairs: list[tuple[float, str]]) -> list[str]:
        return [by_id[target].qualified_name for _strength, target in pairs[:MAX_NEIGHBOURS]]

    contexts = []
    for symbol in symbols:
        outgoing = calls.get(symbol.id, [])
        incoming = called_by.get(symbol.id, [])
        group = cluster_of.get(symbol.id)
        related = _related(symbol, outgoing, incoming, calls, called_by, group, leaders)
        module = symbol.file_path
        contexts.append(
            # Every value is built here and bounded, so validation would only repeat the work.
            SymbolContext.model_construct(
                symbol_id=symbol.id,
                name=symbol.name,
                kind=symbol.kind,
                language=symbol.language,
                file_path=symbol.file_path,
                signature=symbol.signature[:MAX_SIGNATURE_CHARS],
                calls=names(outgoing),
                called_by=names(incoming),
                imports=imports.get(module, [])[:MAX_LIST_ITEMS] if symbol.kind == "module" else [],
                related_symbols=[by_id[r].qualified_name for r in related],
                cluster_label=group.label if group and group.size > 1 else None,
                centrality=float(centrality.get(symbol.id, 0.0)),
                docstring=symbol.docstring,
                source_excerpt=excerpt(contents.get(symbol.file_path, b""), symbol),
            )
        )
    return contexts


def _related(
    symbol: Symbol,
    outgoing: list[tuple[float, str]],
    incoming: list[tuple[float, str]],
    calls: Mapping[str, list[tuple[float, str]]],
    called_by: Mapping[str, list[tuple[float, str]]],
    cluster: Cluster | None,
    leaders: Mapping[int, list[str]],
) -> list[str]:
    """Symbols that share callers or callees with this one, then its cluster's leaders.

    Direct callers and callees are already listed, so they are not repeated here.
    """
    direct = {target for _s, target in outgoing} | {source for _s, source in incoming}
    direct.add(symbol.id)
    scores: dict[str, float] = {}
    for strength, caller in incoming[:HOP_LIMIT]:
        for other_strength, sibling in calls.get(caller, [])[:HOP_LIMIT]:
            if sibling not in direct:
                scores[sibling] = scores.get(sibling, 0.0) + min(strength, other_strength)
    for strength, callee in outgoing[:HOP_LIMIT]:
        for other_strength, peer in called_by.get(callee, [])[:HOP_LIMIT]:
            if peer not in direct:
                scores[peer] = scores.get(peer, 0.0) + min(strength, other_strength)
    related = sorted(scores, key=lambda other: (-scores[other], other))[:RELATED_LIMIT]
    if cluster is not None and len(related) < RELATED_LIMIT:
        for leader in leaders[cluster.id]:
            if leader not in direct and leader not in related:
                related.append(leader)
            if len(related) == RELATED_LIMIT:
                break
    return related

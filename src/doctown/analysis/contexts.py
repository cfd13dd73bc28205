"""Assembling what the model is told about each symbol: the fields of a `SymbolContext`.

Only confident call edges appear in `calls` and `called_by`: a wrong fact in a prompt becomes
a wrong sentence in the documentation. Calls from test code to code that is not a test are
listed as `tested_by` instead of `called_by` (see `testcode.py`). Names there are qualified
names, which read well in a prompt; the ids stay in the analysis result for the docpack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from doctown.analysis.records import CONFIDENT, Cluster, Edge, Symbol
from doctown.analysis.testcode import is_test_path
from doctown.schemas import MAX_LIST_ITEMS

RELATED_LIMIT = 5
EXCERPT_LINES = 40
EXCERPT_CHARS = 4_000
# A type's excerpt is its outline, read from at most this much of its source.
OUTLINE_SCAN_CHARS = 64_000
TYPE_KINDS = frozenset({"class", "struct", "interface", "trait", "enum"})
MAX_SIGNATURE_CHARS = 2_000
# How many neighbours a context lists at most; the graph keeps them all.
MAX_NEIGHBOURS = 50
# Two-hop neighbours come through the strongest few edges only: hubs would make it quadratic.
HOP_LIMIT = 5


def outline(text: str) -> str:
    """A type's source without what its members' bodies say: the header, then only the lines
    indented no deeper than its first member (fields, signatures, its docstring, closing
    braces). Blank lines go too. Language-agnostic: it reads indentation only."""
    lines = text.split("\n")
    body = next((line for line in lines[1:] if line.strip()), None)
    if body is None:
        return text
    depth = len(body) - len(body.lstrip())
    kept = [lines[0]]
    kept += [line for line in lines[1:] if line.strip() and len(line) - len(line.lstrip()) <= depth]
    return "\n".join(kept)


def excerpt(content: bytes, symbol: Symbol) -> str | None:
    """The first lines of a symbol's source, bounded in lines and characters; for a type, the
    first lines of its outline, which name its members instead of repeating their bodies."""
    if symbol.kind == "module" or symbol.end_byte <= symbol.start_byte:
        return None
    scan = OUTLINE_SCAN_CHARS if symbol.kind in TYPE_KINDS else EXCERPT_CHARS
    end = min(symbol.end_byte, symbol.start_byte + scan)
    text = content[symbol.start_byte : end].decode("utf-8", "replace")
    if symbol.kind in TYPE_KINDS:
        text = outline(text)[:EXCERPT_CHARS]
    return "\n".join(text.split("\n", EXCERPT_LINES)[:EXCERPT_LINES]).rstrip() or None


def build_contexts(
    symbols: Sequence[Symbol],
    edges: Sequence[Edge],
    *,
    centrality: Sequence[float],
    clusters: Sequence[Cluster],
    imports: Mapping[str, list[str]],
    contents: Mapping[str, bytes],
) -> list[dict[str, Any]]:
    """One context per symbol, in symbol order, as `SymbolContext` fields.

    `centrality` is indexed like `symbols`. Plain dictionaries are what the contexts file
    holds; `AnalysisResult.contexts` turns them into `SymbolContext` objects when asked.
    """
    position = {symbol.id: index for index, symbol in enumerate(symbols)}
    calls: list[list[tuple[float, int]]] = [[] for _ in symbols]
    called_by: list[list[tuple[float, int]]] = [[] for _ in symbols]
    tested_by: list[list[tuple[float, int]]] = [[] for _ in symbols]
    test = [is_test_path(symbol.file_path) for symbol in symbols]
    for edge in edges:
        if edge.kind != "calls" or edge.confidence < CONFIDENT or edge.source == edge.target:
            continue
        source, target = position[edge.source], position[edge.target]
        strength = edge.weight * edge.confidence
        calls[source].append((strength, target))
        callers = tested_by if test[source] and not test[target] else called_by
        callers[target].append((strength, source))
    # Strongest first, so every slice below keeps the closest neighbours.
    for adjacency in (calls, called_by, tested_by):
        for pairs in adjacency:
            if len(pairs) > 1:
                pairs.sort(key=lambda pair: (-pair[0], pair[1]))
    cluster_of: list[Cluster | None] = [None] * len(symbols)
    leaders: dict[int, list[int]] = {}
    for cluster in clusters:
        members = [position[member] for member in cluster.members]
        for member in members:
            cluster_of[member] = cluster
        # A cluster's tests are not what a reader of its code is pointed to.
        ranked = sorted((m for m in members if not test[m]), key=lambda m: -centrality[m])
        leaders[cluster.id] = ranked[: RELATED_LIMIT * 2]
    names = [symbol.qualified_name for symbol in symbols]

    contexts = []
    for index, symbol in enumerate(symbols):
        outgoing = calls[index]
        incoming = called_by[index]
        group = cluster_of[index]
        related = _related(index, outgoing, incoming, calls, called_by, group, leaders)
        contexts.append(
            {
                "symbol_id": symbol.id,
                "name": symbol.name,
                "kind": symbol.kind,
                "language": symbol.language,
                "file_path": symbol.file_path,
                "signature": symbol.signature[:MAX_SIGNATURE_CHARS],
                "calls": [names[t] for _s, t in outgoing[:MAX_NEIGHBOURS]],
                "called_by": [names[t] for _s, t in incoming[:MAX_NEIGHBOURS]],
                "tested_by": [names[t] for _s, t in tested_by[index][:MAX_NEIGHBOURS]],
                "imports": (
                    imports.get(symbol.file_path, [])[:MAX_LIST_ITEMS]
                    if symbol.kind == "module"
                    else []
                ),
                "related_symbols": [names[r] for r in related],
                "cluster_label": group.label if group is not None and group.size > 1 else None,
                "centrality": centrality[index],
                "docstring": symbol.docstring,
                "source_excerpt": excerpt(contents.get(symbol.file_path, b""), symbol),
            }
        )
    return contexts


def _related(
    index: int,
    outgoing: list[tuple[float, int]],
    incoming: list[tuple[float, int]],
    calls: list[list[tuple[float, int]]],
    called_by: list[list[tuple[float, int]]],
    cluster: Cluster | None,
    leaders: Mapping[int, list[int]],
) -> list[int]:
    """Symbols that share callers or callees with this one, then its cluster's leaders.

    The callers and callees a context lists are not repeated here.
    """
    direct = {target for _s, target in outgoing[:MAX_NEIGHBOURS]}
    direct.update(source for _s, source in incoming[:MAX_NEIGHBOURS])
    direct.add(index)
    scores: dict[int, float] = {}
    for strength, caller in incoming[:HOP_LIMIT]:
        for other_strength, sibling in calls[caller][:HOP_LIMIT]:
            if sibling not in direct:
                scores[sibling] = scores.get(sibling, 0.0) + min(strength, other_strength)
    for strength, callee in outgoing[:HOP_LIMIT]:
        for other_strength, peer in called_by[callee][:HOP_LIMIT]:
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

"""Dependency order for generation: callees first, so callers can be told what their callees do.

Cycles are broken by putting a strongly connected group in one wave (its members are not told
about each other); every other symbol comes one wave after the last of its callees.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from doctown.analysis import CONFIDENT, AnalysisResult
from doctown.generation.engine import DependencyOrder


def dependency_order(result: AnalysisResult, selected: list[str]) -> DependencyOrder:
    """Waves over the confident call edges between `selected` symbol ids."""
    index = {symbol_id: i for i, symbol_id in enumerate(selected)}
    names = {symbol.id: symbol.qualified_name for symbol in result.symbols}
    callees: dict[str, list[tuple[str, str]]] = defaultdict(list)
    sources: list[int] = []
    targets: list[int] = []
    for edge in result.edges:
        if edge.kind != "calls" or edge.confidence < CONFIDENT or edge.source == edge.target:
            continue
        if edge.source in index and edge.target in index:
            callees[edge.source].append((names[edge.target], edge.target))
            sources.append(index[edge.source])
            targets.append(index[edge.target])
    count = len(selected)
    graph = csr_matrix((np.ones(len(sources)), (sources, targets)), shape=(count, count))
    _, component = connected_components(graph, directed=True, connection="strong")
    # Edges between components, caller component -> callee component.
    depends: dict[int, set[int]] = defaultdict(set)
    for source, target in zip(sources, targets, strict=True):
        if component[source] != component[target]:
            depends[int(component[source])].add(int(component[target]))
    level: dict[int, int] = {}
    for start in {int(c) for c in component}:
        # Iterative depth-first walk: a component's level is one more than its deepest callee's.
        stack = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if node in level:
                continue
            if expanded:
                level[node] = 1 + max((level[c] for c in depends[node]), default=-1)
                continue
            stack.append((node, True))
            stack.extend((c, False) for c in depends[node] if c not in level)
    waves: dict[int, list[str]] = defaultdict(list)
    for symbol_id, i in index.items():
        waves[level[int(component[i])]].append(symbol_id)
    return DependencyOrder(
        waves=[waves[k] for k in sorted(waves)],
        callees={k: sorted(set(v)) for k, v in callees.items()},
    )

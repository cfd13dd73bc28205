"""The architecture diagram: a Mermaid graph of the clusters and the calls between them.

Computed from the call graph alone, no model call, so the same pack always draws the same
diagram. It stays readable: the largest clusters get a node each, up to `MAX_NODES` in all,
and the rest are folded into one "other" node. Labels keep only plain characters, so nothing
from the repository can inject Mermaid syntax.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from doctown.analysis.records import CONFIDENT

MAX_NODES = 25
MAX_EDGES = 60
MAX_LABEL_CHARS = 40
OTHER = "other"
NODE_PREFIX = "cluster_"
_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,/+-]+")


def node_id(cluster_id: str) -> str:
    """The Mermaid node of a cluster (the viewer links it to the cluster's page)."""
    return NODE_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", cluster_id)


def _label(text: str) -> str:
    flat = " ".join(_UNSAFE.sub(" ", text).split())
    return (flat[: MAX_LABEL_CHARS - 1] + "…") if len(flat) > MAX_LABEL_CHARS else flat or "?"


@dataclass(frozen=True, slots=True)
class DiagramCluster:
    cluster_id: str
    label: str
    size: int


def _order(cluster: DiagramCluster) -> tuple[int, int, str]:
    numeric = int(cluster.cluster_id) if cluster.cluster_id.isdigit() else 1 << 62
    return (-cluster.size, numeric, cluster.cluster_id)


def architecture_diagram(
    clusters: Iterable[DiagramCluster], edges: Mapping[tuple[str, str], int]
) -> str:
    """`flowchart LR` of the largest clusters and the calls between them (call sites as edge
    labels); `edges` maps (from cluster, to cluster) to a weight."""
    ranked = sorted(clusters, key=_order)
    if not ranked:
        return ""
    folded = len(ranked) > MAX_NODES
    shown = ranked[: MAX_NODES - 1] if folded else ranked
    node_of = {c.cluster_id: node_id(c.cluster_id) for c in shown}
    known = {c.cluster_id for c in ranked}
    lines = ["flowchart LR"]
    for cluster in shown:
        label = _label(cluster.label or f"cluster {cluster.cluster_id}")
        lines.append(f'  {node_of[cluster.cluster_id]}["{label} ({cluster.size})"]')
    if folded:
        rest = ranked[MAX_NODES - 1 :]
        lines.append(f'  {OTHER}["{len(rest)} other clusters ({sum(c.size for c in rest)})"]')
    weights: Counter[tuple[str, str]] = Counter()
    for (source, target), weight in edges.items():
        if source not in known or target not in known:
            continue
        edge = (node_of.get(source, OTHER), node_of.get(target, OTHER))
        if edge[0] != edge[1]:
            weights[edge] += weight
    heaviest = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:MAX_EDGES]
    for (source, target), weight in sorted(heaviest):
        lines.append(f"  {source} -->|{weight}| {target}")
    return "\n".join(lines) + "\n"


def cluster_edges(
    cluster_of: Mapping[str, str], calls: Iterable[tuple[str, str, float | None, int | None]]
) -> dict[tuple[str, str], int]:
    """Confident call edges between clusters, weighted by call sites: (from, to) -> count.

    `calls` holds (caller id, callee id, confidence, weight); a missing confidence or weight
    counts as certain and as one site.
    """
    counts: Counter[tuple[str, str]] = Counter()
    for source, target, confidence, weight in calls:
        if confidence is not None and confidence < CONFIDENT:
            continue
        pair = (cluster_of.get(source), cluster_of.get(target))
        if pair[0] is None or pair[1] is None or pair[0] == pair[1]:
            continue
        counts[(pair[0], pair[1])] += weight or 1
    return dict(counts)

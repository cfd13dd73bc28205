"""The architecture diagram: a Mermaid graph of the clusters and the calls between them.

Computed from the call graph alone, no model call, so the same pack always draws the same
diagram. It stays readable: the largest clusters get a node each, up to `MAX_NODES` in all,
and the rest are folded into one "other" node. Labels keep only plain characters, so nothing
from the repository can inject Mermaid syntax.
"""

from __future__ import annotations

import re
from collections import Counter

from doctown.overviews.structure import Structure, cluster_title

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


def architecture_diagram(structure: Structure) -> str:
    """`flowchart LR` of the largest clusters and their call edges (weights as labels)."""
    clusters = sorted(
        structure.clusters.values(),
        key=lambda c: (
            -c.size,
            int(c.cluster_id) if c.cluster_id.isdigit() else 1 << 62,
            c.cluster_id,
        ),
    )
    if not clusters:
        return ""
    folded = len(clusters) > MAX_NODES
    shown = clusters[: MAX_NODES - 1] if folded else clusters
    node_of = {c.cluster_id: node_id(c.cluster_id) for c in shown}
    lines = ["flowchart LR"]
    for facts in shown:
        label = _label(cluster_title(facts))
        lines.append(f'  {node_of[facts.cluster_id]}["{label} ({facts.size})"]')
    if folded:
        rest = clusters[MAX_NODES - 1 :]
        lines.append(f'  {OTHER}["{len(rest)} other clusters ({sum(c.size for c in rest)})"]')
    weights: Counter[tuple[str, str]] = Counter()
    for (source, target), weight in structure.cluster_edges.items():
        if source not in structure.clusters or target not in structure.clusters:
            continue
        edge = (node_of.get(source, OTHER), node_of.get(target, OTHER))
        if edge[0] != edge[1]:
            weights[edge] += weight
    ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:MAX_EDGES]
    for (source, target), weight in sorted(ranked, key=lambda item: item[0]):
        lines.append(f"  {source} -->|{weight}| {target}")
    return "\n".join(lines) + "\n"

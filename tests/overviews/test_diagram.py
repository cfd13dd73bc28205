"""The architecture diagram: computed, deterministic, bounded, and safe to draw."""

from __future__ import annotations

import random
import re

from doctown.overviews.diagram import (
    MAX_NODES,
    DiagramCluster,
    architecture_diagram,
    cluster_edges,
)


def _clusters(count: int) -> list[DiagramCluster]:
    return [DiagramCluster(str(i), f"part {i}", 100 - i) for i in range(count)]


def test_the_same_graph_draws_the_same_diagram_whatever_the_order() -> None:
    clusters = _clusters(12)
    edges = {(str(i), str((i * 5) % 12)): i + 1 for i in range(12) if i != (i * 5) % 12}
    drawn = architecture_diagram(clusters, edges)
    shuffled = clusters[:]
    random.Random(7).shuffle(shuffled)
    reversed_edges = dict(reversed(list(edges.items())))
    assert architecture_diagram(shuffled, reversed_edges) == drawn
    assert drawn.splitlines()[0] == "flowchart LR"
    assert '  cluster_0["part 0 (100)"]' in drawn and "  cluster_1 -->|2| cluster_5" in drawn


def test_large_graphs_fold_the_smallest_clusters_into_other() -> None:
    clusters = _clusters(40)
    edges = {("0", "30"): 3, ("31", "0"): 2, ("30", "31"): 9, ("1", "2"): 1}
    drawn = architecture_diagram(clusters, edges)
    nodes = [line for line in drawn.splitlines() if line.strip().endswith(')"]')]
    assert len(nodes) == MAX_NODES
    assert '  other["16 other clusters (' in drawn
    assert "  cluster_0 -->|3| other" in drawn and "  other -->|2| cluster_0" in drawn
    assert "other -->|9| other" not in drawn  # calls inside the folded clusters are not drawn
    assert "cluster_30" not in drawn


def test_labels_cannot_inject_mermaid_or_markup() -> None:
    hostile = DiagramCluster('x"]; click x href "javascript:alert(1)"; y["<img src=x>', "", 3)
    drawn = architecture_diagram([hostile, DiagramCluster("ok", "fine", 1)], {})
    # One node per line, a plain identifier and a quoted label with nothing that ends it.
    node = re.compile(r'^  cluster_\w+\["[A-Za-z0-9 _.,/+…()-]*"\]$')
    assert all(node.match(line) for line in drawn.splitlines()[1:])
    assert "<" not in drawn and "javascript:" not in drawn
    assert architecture_diagram([], {}) == ""


def test_only_confident_calls_between_clusters_count() -> None:
    cluster_of = {"a": "1", "b": "2", "c": "2"}
    calls = [("a", "b", 1.0, 3), ("a", "c", 0.3, 5), ("b", "c", 1.0, 1), ("a", "b", None, None)]
    assert cluster_edges(cluster_of, calls) == {("1", "2"): 4}

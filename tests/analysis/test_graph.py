"""Graph metrics: normalized PageRank, deterministic clusters, distinctive labels."""

from __future__ import annotations

import random

import numpy as np
import pytest

from doctown.analysis.graph import (
    communities,
    normalized_centrality,
    pagerank,
    subwords,
)
from tests.analysis.conftest import analysed


def test_pagerank_matches_the_closed_form_of_a_small_graph() -> None:
    # 0 -> 1 -> 2 -> 0 is symmetric: every node has 1/3.
    scores = pagerank(3, [(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0)])
    assert scores == pytest.approx([1 / 3] * 3, abs=1e-9)


def test_pagerank_against_dense_power_iteration() -> None:
    rng = np.random.default_rng(7)
    count = 30
    edges = [
        (int(a), int(b), float(w))
        for a, b, w in zip(
            rng.integers(0, count, 120), rng.integers(0, count, 120), rng.random(120), strict=True
        )
        if a != b
    ]
    matrix = np.zeros((count, count))
    for a, b, w in edges:
        matrix[a, b] += w
    out = matrix.sum(axis=1)
    transition = np.where(out[:, None] > 0, matrix / np.where(out == 0, 1, out)[:, None], 1 / count)
    google = 0.85 * transition + 0.15 / count
    expected = np.full(count, 1 / count)
    for _ in range(500):
        expected = expected @ google
    assert pagerank(count, edges) == pytest.approx(expected, abs=1e-8)


def test_centrality_is_normalized_to_the_most_central() -> None:
    # A star: everything calls 0.
    scores = normalized_centrality(pagerank(5, [(i, 0, 1.0) for i in range(1, 5)]), True)
    assert scores[0] == 1.0
    assert all(0.0 <= s < 1.0 for s in scores[1:])
    assert list(normalized_centrality(pagerank(3, []), False)) == [0.0, 0.0, 0.0]


def test_fixture_centrality_is_within_bounds_and_peaks_at_one() -> None:
    values = list(analysed("python").centrality.values())
    assert max(values) == 1.0
    assert min(values) >= 0.0


def test_communities_are_deterministic_whatever_the_global_random_state() -> None:
    edges = [(a, b, 1.0) for a in range(6) for b in range(6) if a < b]
    edges += [(a, b, 1.0) for a in range(6, 12) for b in range(6, 12) if a < b]
    edges.append((0, 6, 0.1))
    random.seed(1)
    first = communities(12, edges)
    random.seed(99)
    second = communities(12, edges)
    assert first == second
    assert len(set(first[:6])) == 1 and len(set(first[6:])) == 1 and first[0] != first[6]


def test_fixture_clusters_are_deterministic_and_cover_every_symbol() -> None:
    from doctown.analysis import analyze_repository
    from tests.analysis.conftest import FIXTURES

    again = analyze_repository(FIXTURES / "go", use_cache=False)
    first = analysed("go")
    assert again.clusters == first.clusters
    assert sum(c.size for c in first.clusters) == len(first.symbols)
    for cluster in first.clusters:
        assert cluster.representative in cluster.members
        assert cluster.label


def test_subwords_split_identifiers() -> None:
    assert subwords("parseHTTPResponse") == ["parse", "http", "response"]
    assert subwords("read_regex") == ["read", "regex"]
    assert subwords("Item2Name") == ["item", "2", "name"]

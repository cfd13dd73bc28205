from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from doctown.docpack import (
    Documentation,
    Edge,
    GraphMetrics,
    Manifest,
    PackUsage,
    Source,
    Symbol,
)
from doctown.docpack.format import CONTENT_ENTRIES, content_digest, statistics_of
from tests.docpack.factory import CART, sample_content, symbol


def test_a_documented_symbol_needs_a_summary() -> None:
    with pytest.raises(ValidationError, match="needs a summary"):
        Documentation(status="documented")


def test_a_failed_symbol_carries_a_reason_and_no_invented_text() -> None:
    with pytest.raises(ValidationError, match="needs a reason"):
        Documentation(status="failed")
    with pytest.raises(ValidationError, match="never invented"):
        Documentation(status="failed", reason="refusal", summary="Probably parses things.")
    assert Documentation(status="failed", reason="refusal").summary is None


def test_documentation_without_status_reads_as_documented() -> None:
    # Packs written before statuses existed carry only a summary.
    assert Documentation.model_validate({"summary": "Adds two numbers."}).status == "documented"


def test_byte_ranges_must_be_ordered_and_non_negative() -> None:
    good = symbol("a.f", file_path=CART, lines=(1, 2)).model_dump(by_alias=True)
    for bad in ([10, 5], [-1, 5]):
        with pytest.raises(ValidationError, match="byte_range"):
            Symbol.model_validate({**good, "byte_range": bad})


def test_a_source_names_a_repository_or_a_path() -> None:
    with pytest.raises(ValidationError, match="repo_url or a path"):
        Source(git_ref="main")
    assert Source(path="/src/shop").path == "/src/shop"


def test_edges_use_the_json_key_from() -> None:
    edge = Edge(from_="py:a", to="py:b", kind="calls")
    assert json.loads(edge.model_dump_json(by_alias=True)) == {
        "from": "py:a",
        "to": "py:b",
        "kind": "calls",
        "confidence": None,
        "weight": None,
    }
    assert Edge.model_validate({"from": "py:a", "to": "py:b", "kind": "calls"}) == edge
    weighed = Edge(from_="py:a", to="py:b", kind="calls", confidence=0.95, weight=3)
    assert Edge.model_validate_json(weighed.model_dump_json(by_alias=True)) == weighed
    with pytest.raises(ValidationError, match="confidence"):
        Edge(from_="py:a", to="py:b", kind="calls", confidence=1.5)


def test_graph_metrics_of_a_directed_graph() -> None:
    metrics = GraphMetrics.of(node_count=4, edge_count=6)
    assert metrics.density == pytest.approx(6 / 12)
    assert metrics.avg_degree == pytest.approx(3.0)
    assert GraphMetrics.of(0, 0) == GraphMetrics(density=0.0, avg_degree=0.0)


def test_manifest_refuses_other_schema_versions_and_naive_times() -> None:
    manifest = {
        "schema_version": "docpack/1.0",
        "docpack_id": "sha256:" + "0" * 64,
        "created_at": "2025-01-01T00:00:00Z",
        "generator": {"name": "doctown", "version": "0.1.0"},
        "source": {"path": "."},
        "statistics": {
            "file_count": 0,
            "symbol_count": 0,
            "documented_count": 0,
            "failed_count": 0,
            "cluster_count": 0,
        },
        "checksum": {"algorithm": "sha256", "value": "0" * 64},
    }
    assert Manifest.model_validate(manifest).optional.has_symbol_contexts is False
    with pytest.raises(ValidationError, match="schema_version"):
        Manifest.model_validate({**manifest, "schema_version": "docpack/2.0"})
    with pytest.raises(ValidationError, match="created_at"):
        Manifest.model_validate({**manifest, "created_at": "2025-01-01T00:00:00"})


def test_the_digest_frames_each_entry_so_bytes_cannot_move_between_entries() -> None:
    entries = {"nodes.json": b'{"symbols":[]}', "graph.json": b'{"nodes":[]}'}
    moved = {"nodes.json": b'{"symbols":[]}{', "graph.json": b'"nodes":[]}'}
    assert b"".join(entries.values()) == b"".join(moved.values())
    assert content_digest(entries) != content_digest(moved)


def test_the_digest_follows_the_entry_order_not_the_mapping_order() -> None:
    entries = {name: name.encode() for name in CONTENT_ENTRIES}
    assert content_digest(entries) == content_digest(dict(reversed(entries.items())))


def test_statistics_count_the_content() -> None:
    stats = statistics_of(sample_content())
    assert (stats.file_count, stats.symbol_count, stats.cluster_count) == (2, 9, 2)
    # documented counts every symbol with a summary: 6 written by a model, 1 reused.
    assert (stats.documented_count, stats.failed_count) == (7, 1)


def test_usage_totals_input_and_output_tokens() -> None:
    assert PackUsage(input_tokens=900, cached_tokens=100, output_tokens=120).total_tokens == 1020

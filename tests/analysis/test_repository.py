"""The whole analysis: caching by content, snapshots, ids, events, and the result's shape."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from doctown.analysis import analyze_repository
from doctown.analysis.cache import FactsCache
from doctown.events import Event, EventEmitter
from tests.analysis.conftest import FIXTURES


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "python", tmp_path / "shop"))


def comparable(result):  # type: ignore[no-untyped-def]
    return (result.symbols, sorted(result.edges), result.unresolved, result.context_fields)


def test_one_changed_file_is_the_only_one_parsed_again(shop: Path, tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "cache")
    first = analyze_repository(shop, cache=cache, workers=1)
    assert first.parsed_files == len(first.files) == 4
    pricing = shop / "shop" / "pricing.py"
    pricing.write_text(
        pricing.read_text()
        + "\n\ndef surcharge(amount: float) -> float:\n    return total([amount])\n"
    )
    second = analyze_repository(shop, cache=cache, workers=1)
    assert second.parsed_files == 1
    assert ("shop/pricing.py::surcharge", "shop/pricing.py::total") in {
        (e.source, e.target) for e in second.edges if e.kind == "calls"
    }
    uncached = analyze_repository(shop, use_cache=False, workers=1)
    assert comparable(second) == comparable(uncached)


def test_an_unchanged_tree_is_read_back_from_its_snapshot(shop: Path, tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "cache")
    first = analyze_repository(shop, cache=cache, workers=1)
    again = analyze_repository(shop, cache=cache, workers=1)
    assert "resolve" in first.timings
    assert "resolve" not in again.timings and again.parsed_files == 0
    assert comparable(again) == comparable(first)
    assert again.centrality == first.centrality and again.clusters == first.clusters


def test_moving_a_file_reuses_its_facts_but_not_the_snapshot(shop: Path, tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "cache")
    analyze_repository(shop, cache=cache, workers=1)
    (shop / "shop" / "service.py").rename(shop / "shop" / "api.py")
    moved = analyze_repository(shop, cache=cache, workers=1)
    assert moved.parsed_files == 0
    assert "shop/api.py::run" in {s.id for s in moved.symbols}


def test_a_damaged_cache_entry_is_parsed_again(shop: Path, tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "cache")
    analyze_repository(shop, cache=cache, workers=1)
    with cache._db:
        cache._db.execute("UPDATE facts SET data = x'00'")
        shutil.rmtree(cache.snapshots)
    again = analyze_repository(shop, cache=cache, workers=1)
    assert again.parsed_files == 4


def test_parsing_in_worker_processes_gives_the_same_result(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("doctown.analysis.repository.PARALLEL_MIN_BYTES", 0)
    parallel = analyze_repository(shop, use_cache=False, workers=2)
    serial = analyze_repository(shop, use_cache=False, workers=1)
    assert comparable(parallel) == comparable(serial)


def test_ids_are_stable_and_repeated_names_numbered(tmp_path: Path) -> None:
    (tmp_path / "twice.py").write_text("def f():\n    pass\n\n\ndef f():\n    pass\n")
    ids = [s.id for s in analyze_repository(tmp_path, use_cache=False).symbols]
    assert ids == ["twice.py", "twice.py::f", "twice.py::f#2"]
    assert ids == [s.id for s in analyze_repository(tmp_path, use_cache=False).symbols]


def test_contains_edges_follow_parents(shop: Path) -> None:
    result = analyze_repository(shop, use_cache=False)
    contains = {(e.source, e.target) for e in result.edges if e.kind == "contains"}
    assert ("shop/models.py", "shop/models.py::Cart") in contains
    assert ("shop/models.py::Cart", "shop/models.py::Cart.add") in contains
    assert all(s.parent_id is None or (s.parent_id, s.id) in contains for s in result.symbols)


def test_imports_per_file(shop: Path) -> None:
    result = analyze_repository(shop, use_cache=False)
    assert "shop.pricing as prices" in result.imports["shop/service.py"]
    imports = {(e.source, e.target) for e in result.edges if e.kind == "imports"}
    assert ("shop/service.py", "shop/models.py") in imports
    assert ("shop/service.py", "shop/pricing.py::discount") in imports


def test_assembly_events(shop: Path) -> None:
    seen: list[Event] = []
    emitter = EventEmitter("job", source="doctown.analysis", subscribers=[seen.append])
    result = analyze_repository(shop, use_cache=False, emitter=emitter)
    types = [event.type for event in seen]
    assert types.index("ingest.completed.v1") < types.index("assembly.started.v1")
    assert types.count("assembly.cluster_created.v1") == len(result.clusters)
    assert types[-2:] == ["assembly.graph_completed.v1", "assembly.completed.v1"]
    graph = seen[-2].payload
    assert graph["calls_unresolved"] == len(result.unresolved)
    assert seen[-1].status == "success"
    assert [event.sequence for event in seen] == list(range(1, len(seen) + 1))


def test_resolving_in_two_processes_gives_the_same_result(
    shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = analyze_repository(shop, use_cache=False, workers=1)
    monkeypatch.setattr("doctown.analysis.resolve.PARALLEL_MIN_CALLS", 0)
    parallel = analyze_repository(shop, use_cache=False, workers=2)
    assert comparable(parallel) == comparable(serial)
    assert parallel.edges == serial.edges


def test_facts_from_other_analysis_code_are_dropped(shop: Path, tmp_path: Path) -> None:
    cache = FactsCache(tmp_path / "cache")
    analyze_repository(shop, cache=cache, workers=1)
    with cache._db:
        cache._db.execute("UPDATE facts SET key = key || '-old'")
    cache.close()
    reopened = FactsCache(tmp_path / "cache")
    assert reopened._db.execute("SELECT COUNT(*) FROM facts").fetchone()[0] == 0


def test_cycles_in_the_code_do_not_hang_the_analysis(tmp_path: Path) -> None:
    package = tmp_path / "loop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(
        "from loop.b import thing\n\n\nclass A(B):\n    def m(self):\n        return self.m()\n\n\n"
        "class B(A):\n    pass\n\n\nx = y\ny = x\n\n\ndef f():\n    return f()\n\n\n"
        "def g():\n    v = f()\n    v.m()\n    x.go()\n    thing()\n"
    )
    (package / "b.py").write_text("from loop.a import thing\n")
    result = analyze_repository(tmp_path, use_cache=False, workers=1)
    edges = {(e.source, e.target) for e in result.edges if e.kind == "calls"}
    assert ("loop/a.py::A.m", "loop/a.py::A.m") in edges
    assert ("loop/a.py::g", "loop/a.py::f") in edges


def test_deeply_nested_and_odd_sources_are_analysed(tmp_path: Path) -> None:
    (tmp_path / "deep.py").write_text("x = " + "[\n" * 500 + "]\n" * 500)
    (tmp_path / "latin1.py").write_bytes(b"# caf\xe9\ndef ok():\n    return 1\n")
    (tmp_path / "empty.js").write_text("")
    result = analyze_repository(tmp_path, use_cache=False, workers=1)
    assert "latin1.py::ok" in {s.id for s in result.symbols}
    assert {f.path for f in result.files} == {"deep.py", "latin1.py", "empty.js"}

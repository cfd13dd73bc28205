"""`doctown analyze` end to end, through a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from doctown.contexts_file import read_request
from doctown.events import read_events
from tests.analysis.conftest import FIXTURES


def doctown(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCTOWN_CACHE_DIR": str(cache)}
    env.pop("DOCTOWN_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "doctown", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_analyze_writes_contexts_generate_accepts(tmp_path: Path) -> None:
    output = tmp_path / "contexts.json"
    events = tmp_path / "events.jsonl"
    done = doctown(
        "analyze",
        str(FIXTURES / "go"),
        "-o",
        str(output),
        "--json",
        "--events",
        str(events),
        cache=tmp_path / "cache",
    )
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["files_by_language"] == {"go": 3}
    assert stats["symbols_by_kind"]["struct"] == 3
    assert stats["calls_resolved"] > 0 and stats["calls_unresolved"] > 0
    assert stats["skipped_by_reason"] == {"unsupported": 1}  # go.mod
    request = read_request(output, default_job_id="x")
    assert request.job_id == "go"
    assert len(request.symbols) == stats["symbols"]
    types = {event["type"] for event in read_events(events)}
    assert {"ingest.started.v1", "assembly.completed.v1"} <= types


def test_analyze_prints_a_table_and_reuses_the_cache(tmp_path: Path) -> None:
    output = tmp_path / "contexts.json"
    first = doctown("analyze", str(FIXTURES / "rust"), "-o", str(output), cache=tmp_path / "c")
    assert first.returncode == 0, first.stderr
    assert "symbols" in first.stderr and "clusters" in first.stderr
    second = doctown(
        "analyze", str(FIXTURES / "rust"), "-o", str(output), "--json", cache=tmp_path / "c"
    )
    assert json.loads(second.stdout)["parsed_files"] == 0


def test_analyze_a_missing_directory_says_how_to_fix_it(tmp_path: Path) -> None:
    done = doctown(
        "analyze", str(tmp_path / "nope"), "-o", str(tmp_path / "o.json"), cache=tmp_path
    )
    assert done.returncode == 1
    assert "not a directory. Pass the root of a source tree." in done.stderr
    assert "Traceback" not in done.stderr


def test_analyze_leaves_test_code_out_unless_asked(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "cart.py").write_text("def total(items):\n    return sum(items)\n")
    (repo / "tests" / "test_cart.py").write_text(
        "from cart import total\n\n\ndef test_total():\n    assert total([1]) == 1\n"
    )
    written = {}
    for flags in ((), ("--include-tests",)):
        output = tmp_path / "contexts.json"
        done = doctown("analyze", str(repo), "-o", str(output), *flags, cache=tmp_path / "c")
        assert done.returncode == 0, done.stderr
        written[flags] = {
            s.symbol_id: s.context for s in read_request(output, default_job_id="x").symbols
        }
    default, everything = written[()], written[("--include-tests",)]
    assert set(default) == {"cart.py", "cart.py::total"}
    assert default["cart.py::total"].tested_by == ["test_cart.test_total"]
    assert default["cart.py::total"].called_by == []
    assert "tests/test_cart.py::test_total" in everything

"""The overview stage of `doctown build`: planned, priced, capped, cached and resumable."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from doctown.docpack import read_docpack
from doctown.testing import FakeOpenAIServer, ok
from tests.cli.test_generate import openai_env
from tests.overviews.conftest import build_in_process, overview_requests
from tests.pipeline.test_build import build


def _subjects(requests: list[dict[str, object]]) -> list[str]:
    found = []
    for request in requests:
        body = request["body"]
        assert isinstance(body, dict)
        first = str(body["messages"][1]["content"]).splitlines()[0]
        found.append(first.removeprefix("Overview of: ").rsplit(" [", 1)[0])
    return sorted(found)


def test_the_plan_prices_the_overviews_and_a_warm_plan_asks_for_none(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    dry = build(shop_repo, tmp_path / "x.docpack", fake_openai, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert fake_openai.requests == []
    plan = json.loads(dry.stdout)["plan"]
    planned = plan["overviews"]
    # Of the three modules, two hold one documented symbol: written without a call.
    assert planned["levels"]["module"]["calls"] == 1
    assert planned["levels"]["repository"]["calls"] == 1
    assert planned["to_send"] == sum(level["calls"] for level in planned["levels"].values())
    real = build(shop_repo, tmp_path / "x.docpack", fake_openai, "--json")
    assert real.returncode == 0, real.stderr
    result = json.loads(real.stdout)["result"]
    spent = result["overviews"]
    assert spent["calls"] == planned["to_send"]
    assert spent["derived"] == spent["levels"]["module"]["derived"] == 2
    # Summaries not written yet are estimated: the estimate is near what was really sent.
    sent = sum(level["prompt_tokens"] for level in spent["levels"].values())
    assert 0.5 * sent <= planned["prompt_tokens"] <= 2 * sent
    total = result["usage"]["cost"] + spent["usage"]["cost"]
    assert plan["cost_min"] <= total <= plan["cost_max"]
    warm = build(shop_repo, tmp_path / "y.docpack", fake_openai, "--dry-run", "--json")
    warm_plan = json.loads(warm.stdout)["plan"]
    assert warm_plan["to_send"] == 0 and warm_plan["overviews"]["to_send"] == 0
    assert warm_plan["overviews"]["cached"] == spent["overviews"] - spent["derived"]


def test_a_changed_module_re_asks_its_overview_and_the_levels_above_it_only(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    cache = tmp_path / "cache.sqlite3"
    first = build_in_process(shop_repo, tmp_path / "a.docpack", fake_openai, cache=cache)
    pricing = shop_repo / "shop" / "pricing.py"
    pricing.write_text(pricing.read_text().replace("return sum(items)", "return float(sum(items))"))
    # The changed function gets a new summary, so do the levels above it (an answer that came
    # out the same would leave the level above it unchanged, and not asked again).
    fake_openai.on("Symbol: total\n", ok("Adds up the prices of the items."))
    fake_openai.on("Adds up the prices", ok("Prices, totals and discounts for the cart."))
    second = build_in_process(shop_repo, tmp_path / "b.docpack", fake_openai, cache=cache)
    asked = _subjects(second.overview_requests)
    assert "Module shop/pricing.py" in asked and "Repository shop-repo" in asked
    assert "Module shop/cart.py" not in asked and "Module shop/receipt.py" not in asked
    # The clusters asked again are exactly those whose prompt holds the pricing module.
    clusters = [s for s in _subjects(first.overview_requests) if s.startswith("Cluster")]
    spanning = {
        s
        for r in first.overview_requests
        if "[module:shop/pricing.py]" in str(r["body"]["messages"][1]["content"])  # type: ignore[index]
        for s in _subjects([r])
        if s.startswith("Cluster")
    }
    assert {s for s in asked if s.startswith("Cluster")} == spanning and len(clusters) > len(
        spanning
    )


def _overviews_cached(cache: Path) -> int:
    try:
        with sqlite3.connect(cache) as db:
            return int(
                db.execute("SELECT COUNT(*) FROM summaries WHERE summary LIKE '{%'").fetchone()[0]
            )
    except sqlite3.OperationalError:  # the build has created the file but not the table yet
        return 0


def test_resume_after_sigkill_during_the_overview_stage(shop_repo: Path, tmp_path: Path) -> None:
    for i in range(6):
        (shop_repo / "shop" / f"extra_{i}.py").write_text(
            f"def extra_{i}(x: int) -> int:\n    return x + {i}\n"
        )
    cache, out = tmp_path / "cache.sqlite3", tmp_path / "r.docpack"
    args = [sys.executable, "-m", "doctown", "build", str(shop_repo), "-o", str(out)]
    args += ["--cache", str(cache), "--yes", "--quiet", "--concurrency", "1"]
    with FakeOpenAIServer(latency=0.3) as server:
        env = {**os.environ, **openai_env(server)}
        process = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while _overviews_cached(cache) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        paid = _overviews_cached(cache)
        first = overview_requests(server)
        assert paid >= 2 and not out.exists()
        symbols_first = len(server.chat_requests()) - len(first)
        resumed = subprocess.run([*args, "--json"], env=env, capture_output=True, text=True)
        assert resumed.returncode == 0, resumed.stderr
        second = overview_requests(server)[len(first) :]
        symbols_second = len(server.chat_requests()) - len(first) - len(second) - symbols_first
    report = json.loads(resumed.stdout)["result"]
    assert symbols_second == 0  # every summary came from the cache
    assert report["overviews"]["cached"] >= paid
    packed = read_docpack(out).content.overviews
    assert packed is not None
    written = len(packed.modules) + len(packed.clusters) + 1
    # At most the one request in flight at the kill was paid twice.
    assert len(first) + len(second) <= written + 1


def test_no_overviews_skips_the_stage(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    result = build(shop_repo, tmp_path / "n.docpack", fake_openai, "--no-overviews", "--json")
    assert result.returncode == 0, result.stderr
    assert overview_requests(fake_openai) == []
    pack = read_docpack(tmp_path / "n.docpack")
    assert pack.content.overviews is None and not pack.manifest.optional.has_overviews
    assert json.loads(result.stdout)["plan"]["overviews"] is None


def test_the_cost_cap_covers_the_overviews_and_a_rerun_finishes_them(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    probe = build(shop_repo, tmp_path / "p.docpack", fake_openai, "--no-overviews", "--json")
    symbols_cost = Decimal(str(json.loads(probe.stdout)["result"]["usage"]["cost"]))
    fake_openai.reset()
    # Room for the symbols (now cached: free) and not for one overview's worst case.
    cap = str(Decimal("0.0001"))
    capped = build(shop_repo, tmp_path / "c.docpack", fake_openai, "--max-cost", cap, "--json")
    assert capped.returncode == 3, capped.stderr
    assert symbols_cost > 0 and overview_requests(fake_openai) == []
    packed = read_docpack(tmp_path / "c.docpack").content.overviews
    assert packed is not None and packed.modules
    # Only the modules a model must write wait; those of one symbol cost nothing.
    asked = [m for m in packed.modules if m.provenance is None or m.provenance.backend != "facts"]
    assert asked and {m.status for m in asked} == {"skipped"}
    assert {m.reason for m in asked} <= {"not_attempted", "budget_exhausted"}
    assert {m.status for m in packed.modules if m not in asked} == {"documented"}
    finished = build(shop_repo, tmp_path / "c.docpack", fake_openai, "--json")
    assert finished.returncode == 0, finished.stderr
    packed = read_docpack(tmp_path / "c.docpack").content.overviews
    assert packed is not None and {m.status for m in packed.modules} == {"documented"}

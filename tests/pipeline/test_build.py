"""`doctown build` as a user runs it: real subprocesses, real git, the fake server over HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from doctown import events
from doctown.docpack import SearchIndex, SymbolIndex, read_docpack
from doctown.testing import FakeOpenAIServer, ok, refusal
from tests.cli.process import invoke
from tests.cli.test_generate import doctown, openai_env
from tests.overviews.conftest import overview_requests
from tests.pipeline.conftest import FILES, git, write_repo


def build(
    repo: Path, out: Path, server: FakeOpenAIServer, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    cache = out.parent / "cache.sqlite3"
    return doctown(
        "build",
        str(repo),
        "-o",
        str(out),
        "--cache",
        str(cache),
        "--yes",
        "--quiet",
        *args,
        env=openai_env(server, **env),
    )


def statuses(pack: Path) -> dict[str, str]:
    return {s.qualified_name or s.id: s.documentation.status for s in read_docpack(pack).symbols}


def test_build_packs_every_symbol_and_the_pack_reads_back(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    out, log = tmp_path / "shop.docpack", tmp_path / "events.jsonl"
    result = build(shop_repo, out, fake_openai, "--events", str(log), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["result"]["backend"], report["result"]["model"]) == ("openai", "gpt-5-nano")
    overviews = overview_requests(fake_openai)
    sent = fake_openai.summary_requests()
    assert report["plan"]["to_send"] == len(fake_openai.symbols_asked())
    assert report["plan"]["to_send"] == report["result"]["documented"]
    # The symbols of a file share a request: as many as the plan said, fewer than symbols.
    assert report["plan"]["requests"] == len(sent) < report["plan"]["to_send"]
    assert (
        report["plan"]["overviews"]["to_send"]
        == len(overviews)
        == report["result"]["overviews"]["calls"]
    )
    pack = read_docpack(out)
    by_name = {s.qualified_name: s for s in pack.symbols}
    checkout = by_name["shop.cart.Cart.checkout"]
    assert checkout.documentation.status == "documented"
    assert checkout.documentation.summary == "Documents the method checkout."
    provenance = checkout.documentation.provenance
    assert provenance is not None and provenance.cost > 0
    assert provenance.output_format == "json_schema" and not provenance.batch
    assert by_name["shop.pricing._round_cents"].documentation.status == "skipped"
    assert by_name["shop.pricing.apply_discount"].id in checkout.calls
    assert pack.manifest.source.commit_hash == git(shop_repo, "rev-parse", "HEAD")
    assert pack.manifest.created_at.isoformat() == "2025-06-01T12:00:00+00:00"
    assert pack.content.symbol_contexts is not None
    # What the run spent is in its report; the pack keeps what each summary cost to make.
    assert pack.manifest.usage is None and report["result"]["usage"]["cost"] > 0
    assert SymbolIndex(pack.symbols).lookup("checkout").found is not None
    assert SearchIndex(pack.symbols).search("discount")[0].symbol.name == "apply_discount"
    types = [e["type"] for e in events.read_events(log)]
    for stage in (
        "ingest.started.v1",
        "assembly.completed.v1",
        "generation.completed.v1",
        "pack.completed.v1",
    ):
        assert stage in types
    assert types[-1] == "job.completed.v1"
    for command in (
        ["inspect", str(out)],
        ["query", str(out), "Cart"],
        ["search", str(out), "receipt"],
    ):
        assert doctown(*command).returncode == 0


def test_dry_run_counts_exactly_and_spends_nothing(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    # The symbols' prompts are counted exactly; overviews are estimated (their own test).
    args = ("--no-overviews", "--json")
    dry = build(shop_repo, tmp_path / "x.docpack", fake_openai, "--dry-run", *args)
    assert dry.returncode == 0, dry.stderr
    assert fake_openai.requests == [] and not (tmp_path / "x.docpack").exists()
    plan = json.loads(dry.stdout)["plan"]
    real = json.loads(build(shop_repo, tmp_path / "x.docpack", fake_openai, *args).stdout)
    assert plan["prompt_tokens"] == real["result"]["usage"]["input_tokens"]  # counted exactly
    assert plan["cost_min"] <= real["result"]["usage"]["cost"] <= plan["cost_max"]


def test_a_warm_rebuild_makes_no_call_and_writes_the_cold_build_s_bytes(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    cold = build(shop_repo, tmp_path / "cold.docpack", fake_openai, "--json")
    assert cold.returncode == 0, cold.stderr
    first_calls = len(fake_openai.chat_requests())
    warm = build(shop_repo, tmp_path / "warm.docpack", fake_openai, "--json")
    assert warm.returncode == 0, warm.stderr
    assert len(fake_openai.chat_requests()) == first_calls > 0
    assert (tmp_path / "cold.docpack").read_bytes() == (tmp_path / "warm.docpack").read_bytes()
    # The runs differ only in their reports: the cold one paid, the warm one hit the cache.
    paid, free = json.loads(cold.stdout)["result"], json.loads(warm.stdout)["result"]
    assert paid["cached"] == 0 and paid["usage"]["cost"] > 0
    assert free["cached"] == paid["documented"] and free["usage"]["cost"] == 0
    # Each summary still says what it cost to make.
    documented = [
        s for s in read_docpack(tmp_path / "warm.docpack").symbols if s.documentation.provenance
    ]
    assert documented and all(
        s.documentation.provenance and s.documentation.provenance.cost > 0 for s in documented
    )


def test_a_folder_without_git_is_dated_by_its_files_or_source_date_epoch(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    folder = tmp_path / "plain"
    for name, text in FILES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (1_700_000_000, 1_700_000_000))
    os.utime(folder / "shop" / "cart.py", (1_700_000_500, 1_700_000_500))  # the newest
    (folder / "notes.bin").write_bytes(b"\0")  # not analysed: its time does not count
    assert build(folder, tmp_path / "cold.docpack", fake_openai).returncode == 0
    assert build(folder, tmp_path / "warm.docpack", fake_openai).returncode == 0
    assert (tmp_path / "cold.docpack").read_bytes() == (tmp_path / "warm.docpack").read_bytes()
    manifest = read_docpack(tmp_path / "warm.docpack").manifest
    assert manifest.source.commit_hash is None
    assert manifest.created_at.timestamp() == 1_700_000_500
    dated = build(folder, tmp_path / "epoch.docpack", fake_openai, SOURCE_DATE_EPOCH="1600000000")
    assert dated.returncode == 0, dated.stderr
    assert read_docpack(tmp_path / "epoch.docpack").manifest.created_at.timestamp() == 1.6e9


def test_changing_one_function_re_asks_only_what_changed(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    assert build(shop_repo, tmp_path / "a.docpack", fake_openai).returncode == 0
    fake_openai.reset()
    pricing = shop_repo / "shop" / "pricing.py"
    pricing.write_text(pricing.read_text().replace("return sum(items)", "return float(sum(items))"))
    assert build(shop_repo, tmp_path / "b.docpack", fake_openai).returncode == 0
    asked = [
        name
        for request in fake_openai.chat_requests()
        for name in re.findall(r"^Symbol: (.+)$", request["body"]["messages"][-1]["content"], re.M)
    ]
    assert "total" in asked  # its source excerpt changed
    assert "Cart" not in asked and "print_receipt" not in asked
    assert len(asked) <= 3


def test_failures_are_packed_with_their_reason(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.on("Symbol: total\n", refusal())
    result = build(shop_repo, tmp_path / "f.docpack", fake_openai)
    assert result.returncode == 3
    symbol = next(s for s in read_docpack(tmp_path / "f.docpack").symbols if s.name == "total")
    assert symbol.documentation.status == "failed" and symbol.documentation.reason == "refusal"
    assert symbol.documentation.summary is None


def test_max_cost_stops_cleanly_and_packs_what_it_has(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    out = tmp_path / "capped.docpack"
    result = build(
        shop_repo,
        out,
        fake_openai,
        "--events",
        str(tmp_path / "events.jsonl"),
        "--max-cost",
        "0.0002",
        "--concurrency",
        "1",
        INPUT_TOKEN_PRICE="0.5",
        OUTPUT_TOKEN_PRICE="0.5",
        MAX_COMPLETION_TOKENS="100",
    )
    assert result.returncode == 3, result.stderr
    assert "remain undocumented" in result.stderr
    counts = statuses(out)
    documented = sum(v == "documented" for v in counts.values())
    assert documented == len(fake_openai.chat_requests()) > 0
    finished = events.read_events(tmp_path / "events.jsonl")[-1]
    assert finished["type"] == "job.completed.v1" and finished["payload"]["usage"]["cost"] <= 0.0002
    skipped = [s for s in read_docpack(out).symbols if s.documentation.reason == "not_attempted"]
    assert skipped, "the symbols left over are packed as skipped, not invented"


def test_large_paid_runs_need_consent_when_nobody_can_be_asked(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    cache = tmp_path / "cache.sqlite3"
    args = [
        "build",
        str(shop_repo),
        "-o",
        str(tmp_path / "p.docpack"),
        "--cache",
        str(cache),
        "--confirm-above",
        "0",
        "--quiet",
    ]
    refused = doctown(*args, env=openai_env(fake_openai))
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert fake_openai.chat_requests() == []
    assert doctown(*args, "--yes", env=openai_env(fake_openai)).returncode == 0


def cached_keys(path: Path) -> set[str]:
    try:
        with sqlite3.connect(path) as db:
            return {row[0] for row in db.execute("SELECT key FROM summaries")}
    except sqlite3.OperationalError:  # the build has created the file but not the table yet
        return set()


def test_resume_after_sigkill_pays_for_nothing_twice(shop_repo: Path, tmp_path: Path) -> None:
    # More symbols, a slow server, one request at a time: the kill lands mid-generation.
    for i in range(12):
        (shop_repo / "shop" / f"extra_{i}.py").write_text(
            f"def extra_{i}(x: int) -> int:\n    return x + {i}\n"
        )
    log = tmp_path / "requests.jsonl"
    cache = tmp_path / "cache.sqlite3"
    with FakeOpenAIServer(latency=0.3, request_log=log) as server:
        args = [
            "-m",
            "doctown",
            "build",
            str(shop_repo),
            "-o",
            str(tmp_path / "r.docpack"),
            "--cache",
            str(cache),
            "--yes",
            "--quiet",
            "--concurrency",
            "1",
            "--no-overviews",  # the overview stage has its own resume test
        ]
        env = {**os.environ, **openai_env(server)}
        process = subprocess.Popen([sys.executable, *args], env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while (not cache.exists() or len(cached_keys(cache)) < 4) and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        paid_before_kill = cached_keys(cache)
        first_run_requests = len(server.chat_requests())
        assert len(paid_before_kill) >= 4 and not (tmp_path / "r.docpack").exists()

        resumed = subprocess.run(
            [sys.executable, *args, "--json"], env=env, capture_output=True, text=True
        )
        assert resumed.returncode == 0, resumed.stderr
        second_run: list[dict[str, Any]] = server.chat_requests()[first_run_requests:]
    pack = read_docpack(tmp_path / "r.docpack")
    documented = [s for s in pack.symbols if s.documentation.status == "documented"]
    cached = json.loads(resumed.stdout)["result"]["cached"]
    assert cached >= len(paid_before_kill)  # everything paid before the kill came from the cache
    # The request log counts every call across both runs: at most the one in flight at the kill
    # was paid twice; every answer that had arrived was never asked again.
    assert first_run_requests + len(second_run) <= len(documented) + 1
    assert len(log.read_text().splitlines()) == first_run_requests + len(second_run)


def test_ungrounded_summaries_are_marked_in_the_pack_or_failed_when_strict(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.on(
        lambda text: "Symbol: total\n" in text or "`GhostHelper`" in text, ok("Uses `GhostHelper`.")
    )
    marked = tmp_path / "marked.docpack"
    assert build(shop_repo, marked, fake_openai, "--callee-summaries").returncode == 0
    pack = read_docpack(marked)
    total = next(s for s in pack.symbols if s.name == "total")
    assert total.documentation.provenance is not None
    assert total.documentation.provenance.reasked and total.documentation.provenance.ungrounded == [
        "GhostHelper"
    ]
    assert pack.manifest.statistics.ungrounded_count == 1
    strict = build(shop_repo, tmp_path / "strict.docpack", fake_openai, "--strict-grounding")
    assert strict.returncode == 3
    total = next(s for s in read_docpack(tmp_path / "strict.docpack").symbols if s.name == "total")
    assert total.documentation.status == "failed" and total.documentation.reason == "ungrounded"


def test_tests_are_packed_as_tested_by_and_left_undocumented(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    repo = write_repo(
        tmp_path / "repo",
        {
            **FILES,
            "tests/__init__.py": "",
            "tests/test_pricing.py": (
                "from shop.pricing import total\n\n\n"
                "def test_total() -> None:\n    assert total([1.0]) == 1.0\n"
            ),
        },
    )
    out = tmp_path / "t.docpack"
    assert build(repo, out, fake_openai).returncode == 0
    by_name = {s.qualified_name: s for s in read_docpack(out).symbols}
    total, test = by_name["shop.pricing.total"], by_name["tests.test_pricing.test_total"]
    assert total.tested_by == [test.id] and test.id not in total.called_by
    assert test.test and not total.test
    assert (test.documentation.status, test.documentation.reason) == ("skipped", "test_code")
    asked = "".join(str(r["body"]["messages"]) for r in fake_openai.chat_requests())
    assert "test_total" not in asked
    shown = doctown("query", str(out), "shop.pricing.total", env={"COLUMNS": "200"})
    assert "tested by (1)" in shown.stdout and "tests.test_pricing.test_total" in shown.stdout
    testers = json.loads(doctown("query", str(out), "shop.pricing.total", "--json").stdout)
    assert [t["id"] for t in testers["testers"]] == [test.id]

    fake_openai.reset()
    assert build(repo, tmp_path / "all.docpack", fake_openai, "--include-tests").returncode == 0
    included = {s.qualified_name: s for s in read_docpack(tmp_path / "all.docpack").symbols}
    assert included["tests.test_pricing.test_total"].documentation.status == "documented"


def test_a_path_too_long_for_a_symbol_id_is_left_out_not_a_crash(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    root = tmp_path / "repo"
    long = root.joinpath(*(letter * 250 for letter in "abcd"))
    long.mkdir(parents=True)
    (long / "mod.py").write_text("def f():\n    return 1\n")
    (root / "short.py").write_text("def g():\n    return 2\n")
    result = build(root, tmp_path / "out.docpack", fake_openai, "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["plan"]["files"] == 1


def build_with_file_size_limit(
    limit: int, repo: Path, out: Path, cache: Path, server: FakeOpenAIServer
) -> subprocess.CompletedProcess[str]:
    """`doctown build` in a process whose files cannot grow past `limit` bytes: the kernel
    refuses the write, as it does on a full disk (EFBIG instead of ENOSPC)."""
    script = (
        "import resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
        "from doctown.cli import main; main()"
    )
    args = ["build", str(repo), "-o", str(out), "--cache", str(cache), "--yes", "--quiet"]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/"),
        # The token encoding where the warm run (`doctown`) found it: writing it would
        # pass the limit before the summary cache is even opened.
        **{k: v for k, v in os.environ.items() if k == "TIKTOKEN_CACHE_DIR"},
        **openai_env(server, DOCTOWN_CACHE_DIR=str(out.parent / "analysis")),
    }
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env
    )


def test_a_cache_that_cannot_be_written_is_refused_before_paying_or_loses_nothing(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    out, cache = tmp_path / "shop.docpack", tmp_path / "summaries.sqlite3"
    warm = doctown(
        "build",
        str(shop_repo),
        "-o",
        str(out),
        "--cache",
        str(cache),
        "--dry-run",
        env=openai_env(fake_openai, DOCTOWN_CACHE_DIR=str(tmp_path / "analysis")),
    )  # the analysis is cached: below, only the summary cache has to grow
    assert warm.returncode == 0, warm.stderr

    # Full from the start: refused before the first paid request.
    full = build_with_file_size_limit(16_384, shop_repo, out, cache, fake_openai)
    assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
    assert f"The summary cache {cache} cannot be written" in full.stderr
    assert fake_openai.chat_requests() == [] and not out.exists()

    # Full a few writes in: every paid answer still reaches the pack, with a warning.
    late = build_with_file_size_limit(36_864, shop_repo, out, cache, fake_openai)
    assert late.returncode == 0, late.stderr
    assert "cannot be written" in late.stderr and "kept for this run only" in late.stderr
    paid = len(fake_openai.symbols_asked())  # a file's symbols share a request
    assert paid > 0 and set(statuses(out).values()) <= {"documented", "skipped"}
    assert sum(status == "documented" for status in statuses(out).values()) == paid


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    """The environment of an in-process `doctown` run against the fake server."""
    for name, value in openai_env(fake_openai, DOCTOWN_CACHE_DIR=str(tmp_path / "a")).items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("cli_env")
def test_an_unwritable_output_or_events_file_is_refused_before_anything_is_spent(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    cases = [
        (["-o", str(tmp_path / "missing" / "shop.docpack")], "does not exist"),
        (["-o", str(tmp_path)], "it is a folder"),
        (
            ["-o", str(tmp_path / "ok.docpack"), "--events", str(tmp_path / "no" / "e.jsonl")],
            "Cannot write events to",
        ),
    ]
    for args, message in cases:
        result = invoke("build", str(shop_repo), *args, "--yes", "--quiet")
        assert result.returncode == 1 and message in result.stderr, result.stderr
    assert fake_openai.chat_requests() == []


@pytest.mark.usefixtures("cli_env")
def test_a_corrupt_summary_or_analysis_cache_is_named_with_what_to_do(
    shop_repo: Path, tmp_path: Path
) -> None:
    corrupt = tmp_path / "summaries.sqlite3"
    corrupt.write_bytes(b"this is not a database" * 100)
    out = str(tmp_path / "shop.docpack")
    built = invoke("build", str(shop_repo), "-o", out, "--cache", str(corrupt))
    stats = invoke("cache", "stats", "--cache", str(corrupt))
    for result in (built, stats):
        assert result.returncode == 1, result.stderr
        assert f"The summary cache {corrupt} is corrupt; move it aside" in result.stderr

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "analysis.sqlite").write_bytes(b"garbage" * 1000)
    analysed = invoke("build", str(shop_repo), "-o", out, "--dry-run")
    assert analysed.returncode == 1
    assert (
        "The analysis cache in" in analysed.stderr and "delete analysis.sqlite" in analysed.stderr
    )


def test_simultaneous_builds_on_one_cache_ask_each_prompt_once(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.latency = 1.0  # generation lasts long enough for the three to overlap
    cache = tmp_path / "cache.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME")},
        **openai_env(fake_openai, DOCTOWN_CACHE_DIR=str(tmp_path / "analysis")),
    }
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "doctown",
                "build",
                str(shop_repo),
                "-o",
                str(tmp_path / f"shop{i}.docpack"),
                "--cache",
                str(cache),
                "--yes",
                "--quiet",
                "--json",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    reports = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        reports.append(json.loads(stdout))
    prompts = reports[0]["plan"]["unique_prompts"]
    # Every symbol asked by one build only (a file's symbols share a request).
    assert len(fake_openai.symbols_asked()) == prompts > len(fake_openai.summary_requests())
    # The overviews above them too: each asked by one build, the others served from the cache.
    overviews = [str(r["body"]["messages"]) for r in fake_openai.overview_requests()]
    assert overviews and len(set(overviews)) == len(overviews)
    assert sum(report["result"]["documented"] for report in reports) == 3 * prompts


def test_with_callee_summaries_the_plan_counts_what_will_be_sent(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    out = tmp_path / "shop.docpack"
    assert build(shop_repo, out, fake_openai, "--callee-summaries").returncode == 0
    # Callers were asked with their callees' summaries: the cache answers those prompts.
    again = build(shop_repo, out, fake_openai, "--callee-summaries", "--dry-run", "--json")
    plan = json.loads(again.stdout)["plan"]
    assert plan["to_send"] == 0 and plan["cached"] == plan["unique_prompts"] > 0
    # A callee changes: it and the callers told about it are asked. Whether a caller's caller
    # is asked depends on whether the caller's new summary differs: the plan counts it.
    pricing = shop_repo / "shop" / "pricing.py"
    pricing.write_text(pricing.read_text().replace("return sum(items)", "return sum(items) + 0"))
    planned = build(shop_repo, out, fake_openai, "--callee-summaries", "--dry-run", "--json")
    to_send = json.loads(planned.stdout)["plan"]["to_send"]
    fake_openai.reset()
    fake_openai.on("Symbol: total\n", ok("Adds up the prices and returns the total."))
    done = build(shop_repo, out, fake_openai, "--callee-summaries", "--json")
    assert done.returncode == 0, done.stderr
    assert 2 <= len(fake_openai.summary_requests()) <= to_send

"""`doctown build --batch` as a user runs it: real subprocesses, a real SIGKILL, the fake's
Files and Batches routes over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from doctown import events
from doctown.docpack import read_docpack
from doctown.docpack.authorship import authorship
from doctown.testing import FakeOpenAIServer
from tests.cli.test_generate import openai_env
from tests.conftest import TEST_KEY
from tests.pipeline.test_build import build

FAST_POLL = {"BATCH_POLL_SECONDS": "0.05"}


def batch_server(**options: float) -> FakeOpenAIServer:
    return FakeOpenAIServer(api_key=TEST_KEY, batch_seconds=options.get("seconds", 0.2))


def test_dry_run_shows_both_prices_and_writes_the_request_files(
    shop_repo: Path, tmp_path: Path
) -> None:
    with batch_server() as server:
        result = build(shop_repo, tmp_path / "x.docpack", server, "--batch", "--dry-run", "--json")
        assert server.requests == []  # nothing uploaded, nothing asked
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)["plan"]
    assert plan["batch_cost_max"] * 2 == plan["cost_max"] > 0
    assert plan["batch_cost_min"] * 2 == plan["cost_min"]
    assert "through the Batch API" in result.stderr
    assert "vllm run-batch -i" in result.stderr
    files = list((tmp_path / "batches").glob("requests-*.jsonl"))
    assert len(files) == 1
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert len(lines) == plan["requests"] < plan["to_send"]  # the symbols of a file share one
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}


def test_a_batch_build_documents_everything_at_half_the_price(
    shop_repo: Path, tmp_path: Path
) -> None:
    log = tmp_path / "events.jsonl"
    with batch_server() as server:
        batched = build(
            shop_repo, tmp_path / "b.docpack", server, "--batch", "--events", str(log), **FAST_POLL
        )
        assert batched.returncode == 0, batched.stderr
        assert server.chat_requests() == []
        # The symbols in one batch, then each overview level in one of its own.
        assert len(server.requests_to("/v1/batches")) == 4
        (tmp_path / "sync").mkdir()
        synchronous = build(shop_repo, tmp_path / "sync" / "s.docpack", server)
        assert synchronous.returncode == 0, synchronous.stderr
    pack, sync_pack = (
        read_docpack(tmp_path / "b.docpack"),
        read_docpack(tmp_path / "sync/s.docpack"),
    )
    documented = [s for s in pack.symbols if s.documentation.status == "documented"]
    assert documented and all(
        s.documentation.provenance and s.documentation.provenance.batch for s in documented
    )
    overviews = pack.content.overviews
    assert overviews is not None and overviews.repository is not None
    every = [*overviews.modules, *overviews.clusters, overviews.repository]
    # Module overviews of one symbol are put together without a call: not batched, not billed.
    written = [o for o in every if o.provenance is None or o.provenance.backend != "facts"]
    assert written and all(o.provenance is not None and o.provenance.batch for o in written)
    # Each summary's provenance says what making it cost: at the batch price, half.
    made, sync_made = authorship(pack.symbols), authorship(sync_pack.symbols)
    assert made.input_tokens == sync_made.input_tokens > 0
    assert round(made.cost * 2, 10) == round(sync_made.cost, 10) > 0
    types = [e["type"] for e in events.read_events(log)]
    for kind in (
        events.GENERATION_BATCH_SUBMITTED,
        events.GENERATION_BATCH_PROGRESS,
        events.GENERATION_BATCH_COMPLETED,
    ):
        assert kind in types
    assert types.index(events.GENERATION_BATCH_COMPLETED) < types.index(events.GENERATION_STARTED)


def test_a_build_killed_while_polling_resumes_without_paying_again(
    shop_repo: Path, tmp_path: Path
) -> None:
    log, out = tmp_path / "events.jsonl", tmp_path / "k.docpack"
    cache = tmp_path / "cache.sqlite3"
    args = [
        sys.executable, "-m", "doctown", "build", str(shop_repo), "-o", str(out),
        "--cache", str(cache), "--yes", "--quiet", "--batch", "--events", str(log),
        "--no-overviews",  # one batch to kill and resume: the symbols'
    ]  # fmt: skip
    with batch_server() as server:
        server.batches.hold = True  # the batch stays in progress until released
        env = {**os.environ, **openai_env(server), **FAST_POLL}
        process = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            log.exists() and events.GENERATION_BATCH_PROGRESS in log.read_text()
        ):
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL
        assert not out.exists() and len(server.batches.batches) == 1
        polled_before = len(
            server.requests_to("/v1/batches/" + next(iter(server.batches.batches)), "GET")
        )

        server.batches.hold = False
        resumed = subprocess.run(args, env=env, capture_output=True, text=True)
        assert resumed.returncode == 0, resumed.stderr
        assert len(server.requests_to("/v1/batches")) == 1  # created once, by the first run
        assert len(server.requests_to("/v1/files")) == 1
        batch_id = next(iter(server.batches.batches))
        assert len(server.requests_to(f"/v1/batches/{batch_id}", "GET")) > polled_before
        assert server.chat_requests() == []
    pack = read_docpack(out)
    documented = [s for s in pack.symbols if s.documentation.status == "documented"]
    assert documented and all(s.documentation.provenance.batch for s in documented)  # type: ignore[union-attr]
    submitted = [
        e for e in events.read_events(log) if e["type"] == events.GENERATION_BATCH_SUBMITTED
    ]
    assert len(submitted) == 1  # the second run resumed it: nothing submitted again


def test_batch_needs_the_cache(shop_repo: Path, tmp_path: Path) -> None:
    with batch_server() as server:
        result = build(shop_repo, tmp_path / "n.docpack", server, "--batch", "--no-cache")
    assert result.returncode == 2 and "--no-cache" in result.stderr


def test_a_warm_rebuild_of_a_batch_build_writes_the_same_bytes(
    shop_repo: Path, tmp_path: Path
) -> None:
    with batch_server() as server:
        cold = build(shop_repo, tmp_path / "cold.docpack", server, "--batch", **FAST_POLL)
        assert cold.returncode == 0, cold.stderr
        # Later, synchronously, with the same cache: every summary is found there.
        warm = build(shop_repo, tmp_path / "warm.docpack", server)
        assert warm.returncode == 0, warm.stderr
        assert server.chat_requests() == []
    pack = read_docpack(tmp_path / "warm.docpack")
    documented = [s for s in pack.symbols if s.documentation.status == "documented"]
    assert documented and all(
        s.documentation.provenance and s.documentation.provenance.batch for s in documented
    )
    assert (tmp_path / "cold.docpack").read_bytes() == (tmp_path / "warm.docpack").read_bytes()

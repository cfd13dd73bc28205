"""`doctown build --distributed` with a real Redis and three real `doctown worker` processes."""

from __future__ import annotations

import json
import signal
import subprocess
from collections import Counter
from pathlib import Path

from doctown.docpack import read_docpack
from doctown.testing import FakeOpenAIServer
from doctown.testing.replies import vllm_refusal
from tests.cli.process import invoke
from tests.conftest import TEST_KEY
from tests.distributed.conftest import WORKER_ENV
from tests.distributed.processes import (
    Cluster,
    build,
    build_command,
    many_functions,
    running_redis,
    wait_for,
)
from tests.pipeline.conftest import write_repo

SHARD_SIZE = int(WORKER_ENV["DOCTOWN_SHARD_SIZE"])


def asked(server: FakeOpenAIServer, *, summaries_only: bool = False) -> Counter[str]:
    """How many times each prompt (its last user message) reached the server; with
    `summaries_only`, the symbol summaries' prompts alone (not the overviews above them)."""
    requests = server.summary_requests() if summaries_only else server.chat_requests()
    return Counter(
        next(m["content"] for m in reversed(r["body"]["messages"]) if m["role"] == "user")
        for r in requests
    )


def statuses(pack: Path) -> Counter[str]:
    return Counter(s.documentation.status for s in read_docpack(pack).symbols)


def test_three_workers_document_every_symbol_once(three: Cluster, tmp_path: Path) -> None:
    repo = many_functions(tmp_path / "repo")
    out = tmp_path / "many.docpack"
    result = build(three, repo, out)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    selected = report["plan"]["selected"]
    assert report["result"]["documented"] == selected == 56
    assert statuses(out)["documented"] == selected
    prompts = asked(three.server)
    # The overviews went through the workers too, each asked once.
    overviews = report["result"]["overviews"]
    assert overviews["calls"] > 0 and overviews["failed"] == 0
    assert len(prompts) == selected + overviews["calls"] and set(prompts.values()) == {1}
    assert report["result"]["usage"]["requests"] == selected  # what this run paid for
    assert read_docpack(out).content.overviews is not None
    busy = [w for w in three.alive() if w.shards_done()]
    assert len(busy) >= 2, [w.text() for w in three.alive()]
    assert "distributed: 3 workers" in result.stderr


def test_group_requests_travel_whole_and_each_symbol_is_documented_once(
    three: Cluster, tmp_path: Path
) -> None:
    repo = many_functions(tmp_path / "repo")
    out = tmp_path / "many.docpack"
    result = subprocess.run(
        build_command(three, repo, out),
        env=three.environment(DOCTOWN_GROUP_SIZE="3"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # Each file: its module and six functions, asked three, three and one at a time.
    assert report["plan"]["requests"] == 8 * 3 and report["result"]["documented"] == 56
    assert statuses(out)["documented"] == 56
    prompts = asked(three.server, summaries_only=True)
    assert len(prompts) == 24 and set(prompts.values()) == {1}
    assert sorted(prompt.count("\nSymbol: ") for prompt in prompts) == [1] * 8 + [3] * 16
    assert Counter(three.server.symbols_asked()) == Counter(
        [f"part_{m}" for m in range(8)] + [f"task_{m}_{f}" for m in range(8) for f in range(6)]
    )
    usage = report["result"]["usage"]
    # The plan's prompt tokens add the overviews' estimate to the summaries' exact count.
    summaries_tokens = (
        report["plan"]["prompt_tokens"] - report["plan"]["overviews"]["prompt_tokens"]
    )
    assert usage["requests"] == 24 and usage["input_tokens"] == summaries_tokens
    pack = read_docpack(out)
    assert {s.documentation.summary for s in pack.symbols if s.name == "task_2_4"} == {
        "Documents the function task_2_4."
    }


def test_kill_9_of_a_worker_mid_shard_loses_nothing(three: Cluster, tmp_path: Path) -> None:
    three.server.latency = 0.3  # a shard of 6 at 2 in flight takes about 0.9 s
    repo = many_functions(tmp_path / "repo")
    out = tmp_path / "many.docpack"
    coordinator = subprocess.Popen(
        build_command(three, repo, out),
        env=three.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    victim = three.alive()[0]
    before = victim.shards_done()
    wait_for(
        lambda: victim.shards_done() > before and victim.shards_started() > victim.shards_done()
    )
    victim.kill()
    stdout, stderr = coordinator.communicate(timeout=60)
    assert coordinator.returncode == 0, stderr
    assert statuses(out) == Counter(documented=56)
    assert json.loads(stdout)["result"]["documented"] == 56
    # Answers the dead worker had received were in the shared cache: only requests still in
    # flight when it died were sent again, and never more than one shard's worth.
    repeated = sum(count - 1 for count in asked(three.server).values())
    assert repeated <= SHARD_SIZE
    survivors = [w for w in three.alive() if "redelivered" in w.text()]
    assert len(survivors) == 1, [w.text() for w in three.alive()]


def test_callee_waves_reach_the_workers_in_order(three: Cluster, tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "shop-repo")
    out = tmp_path / "shop.docpack"
    result = build(three, repo, out, "--callee-summaries")
    assert result.returncode == 0, result.stderr
    requests = three.server.chat_requests()

    def arrival(name: str) -> float:
        return next(
            float(r["time"])
            for r in requests
            if f"Symbol: {name}\n" in r["body"]["messages"][-1]["content"]
        )

    checkout = next(
        r["body"]["messages"][-1]["content"]
        for r in requests
        if "Symbol: checkout\n" in r["body"]["messages"][-1]["content"]
    )
    # Callees were answered (latency 0.05 s) before their caller was even sent.
    for callee in ("apply_discount", "total"):
        assert arrival(callee) + 0.05 <= arrival("checkout")
        assert f"- shop.pricing.{callee}: Documents the function {callee}." in checkout
    assert arrival("checkout") < arrival("print_receipt")


def test_workers_on_another_model_are_refused_before_any_spending(
    three: Cluster, tmp_path: Path
) -> None:
    repo = write_repo(tmp_path / "shop-repo")
    out = tmp_path / "shop.docpack"
    env = three.environment(MODEL_NAME="gpt-5-mini")
    result = invoke("build", str(repo), "-o", str(out), "--distributed", "--yes", env=env)
    assert result.returncode == 1
    assert "This build uses openai (gpt-5-mini) but w" in result.stderr
    assert "MODEL_NAME" in result.stderr
    assert three.server.chat_requests() == [] and not out.exists()


def test_without_redis_or_workers_the_build_says_what_to_start(
    cluster: Cluster, tmp_path: Path
) -> None:
    repo = write_repo(tmp_path / "shop-repo")
    out = tmp_path / "shop.docpack"
    args = ("build", str(repo), "-o", str(out), "--distributed", "--yes", "--quiet")
    missing = invoke(*args)
    assert missing.returncode == 1 and "set DOCTOWN_REDIS_URL" in missing.stderr
    with running_redis(tmp_path) as empty:
        idle = invoke(*args, env={"DOCTOWN_REDIS_URL": empty})
        planned = invoke(*args, "--dry-run", env={"DOCTOWN_REDIS_URL": empty})
    assert idle.returncode == 1 and "No doctown worker is running" in idle.stderr
    assert "doctown worker" in idle.stderr
    assert planned.returncode == 0 and "11 to document" in planned.stderr
    assert not out.exists()


def test_ctrl_c_on_the_coordinator_calls_off_its_queued_shards(
    three: Cluster, tmp_path: Path
) -> None:
    three.server.latency = 0.3
    coordinator = subprocess.Popen(
        build_command(three, many_functions(tmp_path / "repo"), tmp_path / "many.docpack"),
        env=three.environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    before = sum(w.shards_done() for w in three.alive())
    wait_for(lambda: sum(w.shards_done() for w in three.alive()) > before)
    coordinator.send_signal(signal.SIGINT)
    _, stderr = coordinator.communicate(timeout=30)
    assert coordinator.returncode == 130, stderr
    assert "run the same command again" in stderr
    # The shards it had queued are skipped: workers go idle and nothing more is sent.
    wait_for(lambda: all(w.shards_started() == w.shards_done() for w in three.alive()))
    sent = len(three.server.chat_requests())
    assert sent < 56
    skipped = sum(
        w.text().count("not_attempted") + w.text().count(" failed") for w in three.alive()
    )
    assert skipped >= 1, [w.text() for w in three.alive()]


def test_a_distributed_pack_records_what_a_one_process_build_records(tmp_path: Path) -> None:
    repo = many_functions(tmp_path / "repo", modules=2, functions=3)
    outs = {name: tmp_path / name / "x.docpack" for name in ("cold", "warm", "local")}
    for out in outs.values():
        out.parent.mkdir()
    # A server without json_schema, so answers are read a rung lower: their provenance says so.
    # Its own Redis and worker: the session's workers keep the rung they found for theirs.
    with (
        running_redis(tmp_path) as url,
        FakeOpenAIServer(api_key=TEST_KEY, refused_formats={"json_schema": vllm_refusal()}) as fake,
    ):
        cluster = Cluster(
            url, fake, tmp_path, env={**WORKER_ENV, "DOCTOWN_CACHE_DIR": str(tmp_path)}
        )
        try:
            cluster.start_workers(1)
            cold = build(cluster, repo, outs["cold"])
            assert cold.returncode == 0, cold.stderr
            # Another build (its own SQLite cache) finds every answer in the workers' cache.
            warm = build(cluster, repo, outs["warm"])
            assert warm.returncode == 0, warm.stderr
            assert json.loads(warm.stdout)["result"]["usage"]["requests"] == 0
        finally:
            cluster.stop()
        # And the same build in one process, paying for every answer again.
        command = build_command(cluster, repo, outs["local"])
        command.remove("--distributed")
        local = subprocess.run(
            command, env=cluster.environment(), capture_output=True, text=True, timeout=120
        )
        assert local.returncode == 0, local.stderr
    documented = [s for s in read_docpack(outs["cold"]).symbols if s.documentation.provenance]
    assert documented and all(
        s.documentation.provenance.output_format == "json_object"  # type: ignore[union-attr]
        and s.documentation.provenance.cost > 0  # type: ignore[union-attr]
        for s in documented
    )
    assert outs["cold"].read_bytes() == outs["warm"].read_bytes() == outs["local"].read_bytes()

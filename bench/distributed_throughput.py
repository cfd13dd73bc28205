"""Distributed builds on this machine: symbols/s with 1, 2 and 3 `doctown worker` processes,
requests sent twice after a kill -9, and how long a 429 pause takes to reach every worker.

A redis-server on loopback, the fake OpenAI server in its own process, and a synthetic
repository of small public functions. Each worker sends up to --concurrency requests at once;
the coordinator cuts shards of --concurrency prompts. Caches are fresh for every run.

    .venv/bin/python bench/distributed_throughput.py [--symbols 3000] [--latency 0.2]

Prints tables and writes bench/results/distributed_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from redis import Redis

from doctown.testing import FakeOpenAIServer, RedisServer, rate_limited
from worker_throughput import cpu_seconds, print_table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "distributed_throughput.json"
KEY = "sk-bench-0123456789"
FUNCTIONS_PER_MODULE = 50
# Short enough that a dead worker's shard returns within the run (visibility: 1.5x this).
SHARD_TIMEOUT = "10"
PAUSE_SECONDS = 2.0
PARTS = ["throughput", "kill", "pause"]


def make_corpus(root: Path, symbols: int) -> Path:
    modules = max(1, symbols // (FUNCTIONS_PER_MODULE + 1))
    for m in range(modules):
        lines = [f'"""Part {m} of the benchmark corpus."""', ""]
        for f in range(FUNCTIONS_PER_MODULE):
            lines += ["", f"def step_{m}_{f}(value: int) -> int:", f"    return value * {f}", ""]
        path = root / "corpus" / f"part_{m}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines))
    return root


def start_fake(latency: float, log: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "doctown.testing",
            "--latency",
            str(latency),
            "--request-log",
            str(log),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


class Workers:
    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, count: int) -> None:
        for _ in range(count):
            name = f"w{len(self.processes) + 1}"
            log = self.folder / f"{name}-{time.time_ns()}.log"
            with log.open("w") as stream:
                process = subprocess.Popen(
                    [sys.executable, "-m", "doctown", "worker", "--name", name],
                    env=self.env,
                    stdout=stream,
                    stderr=subprocess.STDOUT,
                )
            self.processes.append((process, log))
        deadline = time.monotonic() + 60
        while not all("ready" in log.read_text() for _, log in self.processes):
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start")
            time.sleep(0.1)

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p, _ in self.processes if p.poll() is None)

    def logs(self) -> list[str]:
        return [log.read_text() for _, log in self.processes]

    def stop(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def forget_summaries(url: str) -> None:
    client = Redis.from_url(url)
    keys = list(client.scan_iter(match="doctown:summary:*", count=10_000))
    for start in range(0, len(keys), 10_000):
        client.delete(*keys[start : start + 10_000])
    client.close()


def build_command(corpus: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "doctown",
        "build",
        str(corpus),
        "-o",
        str(out),
        "--distributed",
        "--cache",
        str(out.with_suffix(".sqlite3")),
        "--yes",
        "--quiet",
        "--json",
    ]


def chat_prompts(log: Path, skip: int) -> list[str]:
    prompts = []
    with log.open() as stream:
        for number, line in enumerate(stream):
            entry = json.loads(line)
            if number >= skip and entry["path"].endswith("/chat/completions"):
                prompts.append(entry["body"]["messages"][-1]["content"])
    return prompts


def line_count(path: Path) -> int:
    return sum(1 for _ in path.open()) if path.exists() else 0


def median_shard_seconds(logs: list[str]) -> float:
    durations = sorted(float(s) for log in logs for s in re.findall(r"done in ([0-9.]+) s", log))
    return durations[len(durations) // 2] if durations else 1.0


def measure_throughput(
    count: int, corpus: Path, folder: Path, url: str, env: dict[str, str]
) -> dict[str, Any]:
    workers = Workers(folder, env)
    workers.start(count)
    forget_summaries(url)
    try:
        cpu_before = workers.cpu()
        out = folder / f"throughput-{count}.docpack"
        started = time.perf_counter()
        done = subprocess.run(build_command(corpus, out), env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        result = json.loads(done.stdout)["result"]
        generation = result["seconds"]["generation"]
        documented = result["documented"]
        return {
            "workers": count,
            "shard_s": median_shard_seconds(workers.logs()),
            "symbols": documented,
            "generation_s": round(generation, 1),
            "symbols_per_s": round(documented / generation, 1),
            "worker_cpu_ms_per_symbol": round((workers.cpu() - cpu_before) * 1000 / documented, 2),
            "wall_s": round(wall, 1),
        }
    finally:
        workers.stop()


def measure_kill(
    corpus: Path,
    folder: Path,
    url: str,
    env: dict[str, str],
    request_log: Path,
    shard: int,
    shard_seconds: float,
) -> dict[str, Any]:
    workers = Workers(folder, env)
    workers.start(3)
    forget_summaries(url)
    skip = line_count(request_log)
    try:
        out = folder / "kill.docpack"
        started = time.perf_counter()
        build = subprocess.Popen(
            build_command(corpus, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        victim, log = workers.processes[0]
        while True:
            text = log.read_text()
            begun, finished = text.count(" prompts"), text.count(" done in ")
            if finished >= 1 and begun > finished:
                break
            time.sleep(0.01)
        time.sleep(shard_seconds / 2)  # halfway through its shard, as a crash would find it
        victim.send_signal(signal.SIGKILL)
        killed_at = time.perf_counter() - started
        stdout, stderr = build.communicate(timeout=600)
        if build.returncode != 0:
            raise RuntimeError(stderr.decode())
        result = json.loads(stdout)["result"]
        prompts = chat_prompts(request_log, skip)
        repeated = sum(n - 1 for n in Counter(prompts).values())
        return {
            "symbols": result["documented"],
            "requests": len(prompts),
            "repeated": repeated,
            "shard_size": shard,
            "killed_at_s": round(killed_at, 1),
            "shard_s": round(shard_seconds, 2),
            "wall_s": round(time.perf_counter() - started, 1),
        }
    finally:
        workers.stop()


class NthAnswer:
    def __init__(self, n: int) -> None:
        self.n, self.count, self.first = n, 0, 0.0
        self._lock = threading.Lock()

    def __call__(self, _message: str) -> bool:
        with self._lock:
            self.count += 1
            if self.count == self.n:
                self.first = time.time()
            return self.count == self.n


def measure_pause(corpus: Path, folder: Path, url: str, env: dict[str, str]) -> dict[str, Any]:
    """A 429 with Retry-After 2 s on the 200th answer; workers log when the pause reached them."""
    trigger = NthAnswer(200)
    with FakeOpenAIServer(latency=0.05) as server:
        server.on(trigger, rate_limited(retry_after=PAUSE_SECONDS), times=1)
        env = {**env, "OPENAI_BASE_URL": server.base_url}
        workers = Workers(folder, env)
        workers.start(3)
        forget_summaries(url)
        try:
            out = folder / "pause.docpack"
            done = subprocess.run(build_command(corpus, out), env=env, capture_output=True)
            if done.returncode != 0:
                raise RuntimeError(done.stderr.decode())
            reached = [
                float(ms)
                for log in workers.logs()
                for ms in re.findall(r"reached this worker in ([0-9.]+) ms", log)
            ]
            offsets = sorted(r["time"] - trigger.first for r in server.chat_requests())
        finally:
            workers.stop()
    # Requests that had passed the pause check before the pause arrived still go out; under
    # load, writing a hundred of them takes a while.
    during = [t for t in offsets if max(reached, default=0) / 1000 < t < PAUSE_SECONDS - 0.1]
    return {
        "workers_reached": len(reached) + 1,  # the worker that got the 429 paused itself
        "reach_ms": sorted(reached),
        "sent_during_pause": len(during),
        "last_sent_during_pause_s": round(max(during), 3) if during else None,
        "resumed_after_s": round(min(t for t in offsets if t >= PAUSE_SECONDS - 0.1), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--symbols", type=int, default=3_000)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=100, help="requests per worker")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--parts", nargs="+", choices=["throughput", "kill", "pause"], default=PARTS
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    report: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    with tempfile.TemporaryDirectory(prefix="doctown-bench-") as temp:
        folder = Path(temp)
        corpus = make_corpus(folder, args.symbols)
        redis = RedisServer(folder).start()
        url = redis.url
        request_log = folder / "requests.jsonl"
        fake, base_url = start_fake(args.latency, request_log)
        env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME")},
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": base_url,
            "DOCTOWN_REDIS_URL": url,
            "MAX_CONCURRENT_REQUESTS": str(args.concurrency),
            "DOCTOWN_SHARD_SIZE": str(args.concurrency),
            "DOCTOWN_SHARD_TIMEOUT": SHARD_TIMEOUT,
        }
        try:
            if "throughput" in args.parts:
                report["throughput"] = [
                    measure_throughput(n, corpus, folder, url, env) for n in args.workers
                ]
                report.update(latency=args.latency, concurrency=args.concurrency)
            if "kill" in args.parts:
                report["kill"] = measure_kill(
                    corpus,
                    folder,
                    url,
                    env,
                    request_log,
                    args.concurrency,
                    report["throughput"][-1]["shard_s"],
                )
            if "pause" in args.parts:
                report["pause"] = measure_pause(
                    make_corpus(folder / "small", 600), folder, url, env
                )
        finally:
            fake.terminate()
            fake.wait()
            redis.stop()
    load_after = os.getloadavg()
    loads = report.get("load_average")
    loads = loads if isinstance(loads, dict) else {}
    loads[", ".join(args.parts)] = [round(load_before[0], 2), round(load_after[0], 2)]
    report["load_average"] = loads
    print_report(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


def print_report(report: dict[str, Any]) -> None:
    rows = report.get("throughput", [])
    print_table(
        ["workers", "symbols", "generation s", "symbols/s", "worker CPU ms/symbol"],
        [
            [
                r["workers"],
                r["symbols"],
                r["generation_s"],
                r["symbols_per_s"],
                r["worker_cpu_ms_per_symbol"],
            ]
            for r in rows
        ],
    )
    kill, pause = report.get("kill"), report.get("pause")
    if kill:
        print(
            f"\nkill -9 of one of 3 workers at {kill['killed_at_s']} s, halfway through a shard "
            f"(median shard {kill['shard_s']} s): {kill['symbols']} symbols documented, "
            f"{kill['requests']} requests, {kill['repeated']} sent twice (shards of "
            f"{kill['shard_size']}); the build took {kill['wall_s']} s"
        )
    if pause:
        print(
            f"429 pause: reached {pause['workers_reached']} of 3 workers (the others after "
            f"{pause['reach_ms']} ms); {pause['sent_during_pause']} requests already past the "
            f"check went out during it, the last {pause['last_sent_during_pause_s']} s in; "
            f"sending resumed {pause['resumed_after_s']} s after the 429"
        )
    print(f"load average (1 min, before and after): {report['load_average']}")


if __name__ == "__main__":
    main()

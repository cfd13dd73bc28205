"""How fast `GET /health` answers while a large `POST /estimate` is being counted.

A real `doctown serve` and the fake OpenAI server run in their own processes. One client
posts a ~9 MB estimate (32 symbols, each with 100,000-character docstring and excerpt, 5,000
callees and a 2,000-parameter signature: the largest the worker accepts); another asks
`/health` every 50 ms meanwhile and, for comparison, before it. Latencies are measured by the
client, on the same 2 cores as the worker.

    .venv/bin/python bench/health_latency.py [--rounds 3]

Prints a table and writes bench/results/health_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2

from worker_throughput import free_port, print_table, start_fake, wait_until_ready

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "health_latency.json"


def big_estimate() -> dict[str, Any]:
    text = "word " * 19_000
    context = {
        "name": "f",
        "kind": "function",
        "language": "python",
        "file_path": "src/f.py",
        "signature": "def f(" + "a: int, " * 2_000 + ")",
        "calls": [f"callee_{i}" for i in range(5_000)],
        "called_by": [],
        "imports": [],
        "docstring": text,
        "source_excerpt": text,
    }
    return {
        "job_id": "big",
        "symbols": [{"symbol_id": f"s{i}", "context": context} for i in range(32)],
    }


def health_latencies(url: str, stop: threading.Event) -> list[float]:
    found = []
    with httpx2.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            started = time.perf_counter()
            assert client.get("/health").status_code == 200
            found.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
    return found


def measure(url: str, body: dict[str, Any]) -> dict[str, Any]:
    idle_stop = threading.Event()
    idle: list[float] = []
    thread = threading.Thread(target=lambda: idle.extend(health_latencies(url, idle_stop)))
    thread.start()
    time.sleep(1.0)
    idle_stop.set()
    thread.join()

    during: list[float] = []
    busy_stop = threading.Event()
    poller = threading.Thread(target=lambda: during.extend(health_latencies(url, busy_stop)))
    with httpx2.Client(base_url=url, timeout=300) as client:
        poller.start()
        started = time.perf_counter()
        assert client.post("/estimate", json=body).status_code == 200
        estimate_s = time.perf_counter() - started
    busy_stop.set()
    poller.join()
    return {"estimate_s": estimate_s, "idle_ms": idle, "during_ms": during}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    body = big_estimate()
    size = len(json.dumps(body))
    fake_port, port = free_port(), free_port()
    fake = start_fake(fake_port, 0.0)
    with tempfile.TemporaryDirectory(prefix="doctown-bench-") as cache:
        env = {
            **os.environ,
            "OPENAI_API_KEY": "sk-bench-0123456789",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
            "PORT": str(port),
            "DOCTOWN_CACHE_DIR": cache,
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "doctown", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_ready(url + "/health", worker)
            load_before = os.getloadavg()[0]
            rounds = [measure(url, body) for _ in range(args.rounds)]
            load_after = os.getloadavg()[0]
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            fake.terminate()
            fake.wait(timeout=30)
    idle = [ms for r in rounds for ms in r["idle_ms"]]
    during = [ms for r in rounds for ms in r["during_ms"]]

    def row(name: str, values: list[float]) -> list[Any]:
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return [
            name,
            len(values),
            f"{statistics.median(values):.1f}",
            f"{p95:.1f}",
            f"{max(values):.1f}",
        ]

    print(f"estimate body {size:,} bytes; load average {load_before:.1f} -> {load_after:.1f}")
    print("estimate s: " + ", ".join(f"{r['estimate_s']:.1f}" for r in rounds))
    print_table(
        ["GET /health", "answers", "median ms", "p95 ms", "max ms"],
        [row("idle", idle), row("during the estimate", during)],
    )
    RESULTS.write_text(
        json.dumps(
            {
                "command": "python bench/health_latency.py " + " ".join(sys.argv[1:]),
                "body_bytes": size,
                "load_average": [round(load_before, 2), round(load_after, 2)],
                "estimate_s": [round(r["estimate_s"], 2) for r in rounds],
                "idle_ms": {"median": statistics.median(idle), "max": max(idle)},
                "during_ms": {
                    "median": statistics.median(during),
                    "p95": sorted(during)[int(0.95 * (len(during) - 1))],
                    "max": max(during),
                    "answers": len(during),
                },
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()

"""Throughput of the generation worker.

1. POST /generate on a real worker process against the fake OpenAI server (another process) at
   a fixed latency: symbols per second against the latency bound `concurrency / latency`, and
   the worker's CPU time per symbol, for each concurrency.
2. The embedded local model's symbols per second on this machine.

    .venv/bin/python bench/worker_throughput.py [--latency 0.2] [--concurrency 10 100 1000]

Prints a table and writes bench/results/worker_throughput.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "worker_throughput.json"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def start_fake(port: int, latency: float) -> subprocess.Popen[bytes]:
    """The fake OpenAI server in its own process, answering `latency` seconds after each request."""
    return subprocess.Popen(
        [sys.executable, "-m", "doctown.testing", "--port", str(port), "--latency", str(latency)],
        stdout=subprocess.DEVNULL,
    )


def wait_until_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if httpx2.get(url, timeout=2).status_code < 500:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


def symbols(count: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "symbol_id": f"{prefix}_{i}",
            "context": {
                "name": f"{prefix}_function_{i}",
                "kind": "function",
                "language": "python",
                "file_path": f"src/pkg/module_{i % 50}.py",
                "signature": f"def {prefix}_function_{i}(items: list[int], limit: int = 10) -> int",
                "calls": ["helper_a", "helper_b"],
                "called_by": ["main"],
                "imports": ["typing"],
                "related_symbols": ["helper_a"],
                "cluster_label": "benchmark",
                "centrality": 0.5,
            },
        }
        for i in range(count)
    ]


def measure_worker(
    latency: float, concurrency: int, rounds: int, worker_src: str | None = None
) -> dict[str, Any]:
    """One run; `worker_src` runs the worker from another checkout's src/ (a baseline)."""
    fake_port, worker_port = free_port(), free_port()
    python = sys.executable
    fake = start_fake(fake_port, latency)
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
        "MAX_CONCURRENT_REQUESTS": str(concurrency),
        "MAX_BATCH_SIZE": "100000",
        "MAX_REQUEST_BYTES": str(512 * 2**20),
        "PORT": str(worker_port),
        **({"PYTHONPATH": worker_src} if worker_src else {}),
    }
    worker = subprocess.Popen(
        [python, "-m", "doctown", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{worker_port}"
    try:
        wait_until_ready(f"http://127.0.0.1:{fake_port}/v1/models/x", fake)
        wait_until_ready(f"{url}/health", worker)
        with httpx2.Client(base_url=url, timeout=600) as client:
            client.post(
                "/generate",
                json={"job_id": "warm", "symbols": symbols(min(concurrency, 50), "warm")},
            )
            count = concurrency * rounds
            batch = {"job_id": f"bench_{concurrency}", "symbols": symbols(count, f"c{concurrency}")}
            cpu_before = cpu_seconds(worker.pid)
            started = time.perf_counter()
            response = client.post("/generate", json=batch)
            wall = time.perf_counter() - started
            cpu = cpu_seconds(worker.pid) - cpu_before
        body = response.json()
        documented = len(body["documented_symbols"])
        bound = concurrency / latency
        rate = documented / wall
        return {
            "worker": worker_src or "this checkout",
            "load_average": round(os.getloadavg()[0], 2),
            "concurrency": concurrency,
            "latency_s": latency,
            "symbols": count,
            "documented": documented,
            "failed": len(body["failed_symbols"]),
            "wall_s": round(wall, 3),
            "symbols_per_s": round(rate, 1),
            "latency_bound_per_s": round(bound, 1),
            "fraction_of_bound": round(rate / bound, 3),
            "worker_cpu_ms_per_symbol": round(1000 * cpu / count, 3),
        }
    finally:
        for process in (worker, fake):
            process.terminate()
            process.wait(timeout=30)


def measure_local(count: int, threads: int) -> dict[str, Any]:
    """The embedded model in-process, on `count` distinct symbols."""
    from doctown.config import load_settings
    from doctown.generation import build_engine
    from doctown.schemas import GenerateRequest

    engine = build_engine(load_settings(doctown_backend="local", local_threads=threads))
    request = GenerateRequest.model_validate(
        {"job_id": "local", "symbols": symbols(count + 1, "local")}
    )

    async def run() -> tuple[float, Any]:
        await engine.generate("warm", request.symbols[:1])  # load the model, fill the prompt cache
        started = time.perf_counter()
        result = await engine.generate("local", request.symbols[1:])
        return time.perf_counter() - started, result

    wall, result = asyncio.run(run())
    documented = len(result.documented_symbols)
    return {
        "threads": threads,
        "symbols": count,
        "documented": documented,
        "failed": len(result.failed_symbols),
        "wall_s": round(wall, 2),
        "symbols_per_s": round(count / wall, 3),
        "seconds_per_symbol": round(wall / count, 3),
        "input_tokens_per_symbol": round(result.usage.input_tokens / count, 1),
        "output_tokens_per_symbol": round(result.usage.output_tokens / count, 1),
    }


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """A Markdown table, ready to paste into the README."""
    print("\n| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument(
        "--rounds", type=int, default=10, help="symbols per run = concurrency x rounds"
    )
    parser.add_argument("--local-symbols", type=int, default=20, help="0 skips the local model")
    parser.add_argument(
        "--baseline-src",
        default=None,
        help="also run the worker from this src/ folder (e.g. an older checkout), side by side",
    )
    args = parser.parse_args()

    sources = [None, args.baseline_src] if args.baseline_src else [None]
    worker_rows = [
        measure_worker(args.latency, c, args.rounds, source)
        for c in args.concurrency
        for source in sources
    ]
    print_table(
        [
            "worker",
            "concurrency",
            "symbols",
            "symbols/s",
            "bound c/latency",
            "of bound",
            "worker CPU ms/symbol",
            "load",
        ],
        [
            [
                r["worker"],
                r["concurrency"],
                r["symbols"],
                r["symbols_per_s"],
                r["latency_bound_per_s"],
                f"{r['fraction_of_bound']:.0%}",
                r["worker_cpu_ms_per_symbol"],
                r["load_average"],
            ]
            for r in worker_rows
        ],
    )
    local_rows = []
    if args.local_symbols:
        local_rows = [measure_local(args.local_symbols, threads) for threads in (1, 2)]
        print_table(
            [
                "local threads",
                "symbols",
                "s/symbol",
                "symbols/s",
                "tokens in/out per symbol",
                "failed",
            ],
            [
                [
                    r["threads"],
                    r["symbols"],
                    r["seconds_per_symbol"],
                    r["symbols_per_s"],
                    f"{r['input_tokens_per_symbol']}/{r['output_tokens_per_symbol']}",
                    r["failed"],
                ]
                for r in local_rows
            ],
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "python bench/worker_throughput.py " + " ".join(sys.argv[1:]),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "worker": worker_rows,
                "local": local_rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()

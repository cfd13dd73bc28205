"""`doctown build` on a repository of about 10,000 symbols against the fake server.

The corpus is a copy of part of the running interpreter's standard library (real code, nothing
downloaded). The fake OpenAI server runs in its own process at a fixed latency. The build runs
twice with fresh caches: cold (every summary asked) and warm (every summary cached).

    .venv/bin/python bench/build_pipeline.py [--latency 0.1] [--concurrency 100] [--batch]

Prints a table and writes bench/results/build_pipeline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from worker_throughput import free_port, print_table, wait_until_ready

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "build_pipeline.json"
PACKAGES = ("email", "json", "http", "asyncio", "concurrent", "xml")

# Runs the CLI in this process and reports its peak resident memory on the way out.
RUNNER = """
import json, resource, sys
from doctown.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_mib": round(peak / 1024, 1), "exit": code}), file=sys.stderr)
"""


def make_corpus(target: Path) -> Path:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in stdlib.glob("*.py"):
        shutil.copy(path, target / path.name)
    for package in PACKAGES:
        shutil.copytree(stdlib / package, target / package, ignore=shutil.ignore_patterns("test*"))
    return target


def start_fake_server(latency: float, *options: str) -> tuple[subprocess.Popen[bytes], int]:
    """The fake OpenAI server in its own process at `latency` seconds per answer, and its port."""
    port = free_port()
    command = [sys.executable, "-m", "doctown.testing", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--latency", str(latency), *options], stdout=subprocess.DEVNULL
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/v1/models/x", server)
    except BaseException:
        server.terminate()
        raise
    return server, port


def run_build(
    corpus: Path, out: Path, env: dict[str, str], label: str, *options: str
) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER,
            "build",
            str(corpus),
            "-o",
            str(out),
            "--yes",
            "--quiet",
            "--json",
            *options,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    report = json.loads(done.stdout.strip().splitlines()[-1])
    peak = json.loads(done.stderr.strip().splitlines()[-1])
    result, plan = report["result"], report["plan"]
    generated = result["documented"] - result["cached"]
    generation_s = result["seconds"].get("generation", 0.0)
    return {
        "run": label,
        "exit": peak["exit"],
        "symbols": plan["symbols"],
        "selected": plan["selected"],
        "asked": generated,
        "cached": result["cached"],
        "failed": result["failed"],
        "wall_s": round(wall, 2),
        "seconds": {k: round(v, 2) for k, v in result["seconds"].items()},
        "symbols_per_s_generation": round(generated / generation_s, 1) if generated else None,
        "peak_mib": peak["peak_mib"],
        "cost": result["usage"]["cost"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--batch", action="store_true", help="also a cold build with --batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="doctown-bench-") as scratch:
        work = Path(scratch)
        (work / "corpus").mkdir()
        corpus = make_corpus(work / "corpus")
        fake, port = start_fake_server(args.latency)
        env = {
            **os.environ,
            "OPENAI_API_KEY": "sk-bench",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "MAX_CONCURRENT_REQUESTS": str(args.concurrency),
            "XDG_CACHE_HOME": str(work / "cache"),  # cold analysis and summary caches
        }
        try:
            rows = [
                run_build(corpus, work / "cold.docpack", env, "cold"),
                run_build(corpus, work / "warm.docpack", env, "warm (all cached)"),
            ]
            if args.batch:
                # The Batch API round trip: JSONL written, uploaded, polled, read back. The
                # fake completes a batch about a second after it is created.
                batch_env = {**env, "XDG_CACHE_HOME": str(work / "cache-batch")}
                batch_env["BATCH_POLL_SECONDS"] = "0.5"
                rows.append(
                    run_build(corpus, work / "batch.docpack", batch_env, "cold, --batch", "--batch")
                )
        finally:
            fake.terminate()
            fake.wait(timeout=30)
    print_table(
        [
            "run",
            "symbols",
            "selected",
            "asked",
            "cached",
            "source+analysis s",
            "plan s",
            "generation s",
            "pack s",
            "wall s",
            "asked/s",
            "of bound",
            "peak MiB",
            "cost",
        ],
        [
            [
                r["run"],
                r["symbols"],
                r["selected"],
                r["asked"],
                r["cached"],
                round(r["seconds"]["source"] + r["seconds"]["analysis"], 2),
                r["seconds"]["plan"],
                r["seconds"]["generation"],
                r["seconds"]["pack"],
                r["wall_s"],
                r["symbols_per_s_generation"],
                f"{r['symbols_per_s_generation'] / (args.concurrency / args.latency):.0%}"
                if r["symbols_per_s_generation"]
                else "-",
                r["peak_mib"],
                f"${r['cost']:.4f}",
            ]
            for r in rows
        ],
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "python bench/build_pipeline.py " + " ".join(sys.argv[1:]),
                "latency_s": args.latency,
                "concurrency": args.concurrency,
                "corpus": f"stdlib top-level modules + {', '.join(PACKAGES)}",
                "load_average": round(os.getloadavg()[0], 2),
                "runs": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()

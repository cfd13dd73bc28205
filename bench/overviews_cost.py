"""What overviews add to `doctown build` on about 10,000 symbols: cost and wall time.

The corpus is the one `build_pipeline.py` uses (the interpreter's standard library's top-level
modules plus a few packages; real code, nothing downloaded). The fake OpenAI server runs in
its own process at a fixed latency; the model is gpt-5-nano, priced as published. Two cold
builds run back to back with fresh caches: with overviews (the default) and with
`--no-overviews`. Reported: overview calls and prompt tokens per level (and the module
overviews put together without a call), what the overviews
cost next to the symbols, and the overview stage's time next to the build without it.

    .venv/bin/python bench/overviews_cost.py [--latency 0.2] [--concurrency 100]

Prints a table and writes bench/results/overviews_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from build_pipeline import RUNNER, make_corpus
from worker_throughput import free_port, print_table, start_fake, wait_until_ready

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "overviews_cost.json"


def build(corpus: Path, out: Path, env: dict[str, str], *extra: str) -> dict[str, Any]:
    argv = [sys.executable, "-c", RUNNER, "build", str(corpus), "-o", str(out), "--yes"]
    argv += ["--quiet", "--json", *extra]
    started = time.perf_counter()
    done = subprocess.run(
        argv,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    result: dict[str, Any] = report["result"]
    result["wall_s"] = round(time.perf_counter() - started, 2)
    result["plan"] = report["plan"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="doctown-bench-") as scratch:
        work = Path(scratch)
        (work / "corpus").mkdir()
        corpus = make_corpus(work / "corpus")
        port = free_port()
        fake = start_fake(port, args.latency)
        base = {
            **os.environ,
            "OPENAI_API_KEY": "sk-bench",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "MODEL_NAME": "gpt-5-nano",
            "MAX_CONCURRENT_REQUESTS": str(args.concurrency),
        }
        try:
            wait_until_ready(f"http://127.0.0.1:{port}/v1/models/x", fake)
            runs = {}
            for label, extra in (("with overviews", ()), ("without", ("--no-overviews",))):
                env = {**base, "XDG_CACHE_HOME": str(work / f"cache-{len(runs)}")}
                runs[label] = build(corpus, work / f"{len(runs)}.docpack", env, *extra)
        finally:
            fake.terminate()
            fake.wait(timeout=30)
    with_o, without = runs["with overviews"], runs["without"]
    overviews = with_o["overviews"]
    symbols_cost = with_o["usage"]["cost"]
    overview_cost = overviews["usage"]["cost"]
    overview_s = with_o["seconds"]["overviews"]
    levels = overviews["levels"]
    print_table(
        ["level", "calls", "without a call", "prompt tokens", "tokens/call", "cost $"],
        [
            [
                level,
                figures["calls"],
                figures.get("derived", 0),
                figures["prompt_tokens"],
                round(figures["prompt_tokens"] / figures["calls"]) if figures["calls"] else "-",
                f"{figures['cost']:.6f}",
            ]
            for level, figures in levels.items()
        ],
    )
    print_table(
        [
            *("run", "symbols asked", "overview calls", "symbols $", "overviews $", "wall s"),
            "generation s",
            "overviews s",
        ],
        [
            [
                label,
                run["documented"] - run["cached"],
                (run.get("overviews") or {}).get("calls", 0),
                f"{run['usage']['cost']:.4f}",
                f"{((run.get('overviews') or {}).get('usage') or {}).get('cost', 0.0):.4f}",
                run["wall_s"],
                round(run["seconds"]["generation"], 2),
                round(run["seconds"].get("overviews", 0.0), 2),
            ]
            for label, run in runs.items()
        ],
    )
    cost_share = overview_cost / symbols_cost if symbols_cost else 0.0
    time_share = overview_s / without["wall_s"]
    print(
        f"overviews add {cost_share:.1%} to the cost (target < 5%) and {time_share:.1%} to the "
        f"wall time of the build without them (target < 10%); load average "
        f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "python bench/overviews_cost.py " + " ".join(sys.argv[1:]),
                "latency_s": args.latency,
                "concurrency": args.concurrency,
                "model": "gpt-5-nano",
                "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "cost_share": round(cost_share, 4),
                "time_share": round(time_share, 4),
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()

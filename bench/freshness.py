"""Keeping documentation true on a repository of about 10,000 symbols.

The corpus is the one `build_pipeline.py` uses (part of the running interpreter's standard
library). A cold build documents it against the fake server, in its own process at a fixed
latency. Then three edits, as a day's work might bring: one function's body, another's
signature, and one module's imports. Then, as a CI job would run them with no cache:

- `doctown status` (fresh analysis cache, then warm): what is stale or new, and at what cost;
- `doctown build --update` with no summary cache: what it asks, against what status said;
- `doctown diff` between the two packs.

    .venv/bin/python bench/freshness.py [--latency 0.1] [--concurrency 100] [--results PATH]

Prints a table and writes bench/results/freshness.json (or PATH).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from build_pipeline import RUNNER, make_corpus, start_fake_server
from worker_throughput import print_table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "freshness.json"

BODY = ("colorsys.py", "rgb_to_yiq")  # a line added inside the body
SIGNATURE = ("colorsys.py", "yiq_to_rgb")  # a keyword parameter added
IMPORTS = "shlex.py"  # one more import


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def doctown(*args: str, env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    """Run the CLI in a fresh interpreter: wall seconds, CPU seconds (its processes and theirs)
    and its JSON output."""
    started, cpu = time.perf_counter(), cpu_of_children()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *args], env=env, capture_output=True, text=True, check=False
    )
    wall, cpu = time.perf_counter() - started, cpu_of_children() - cpu
    lines = done.stdout.strip()
    if not lines:
        raise SystemExit(f"doctown {args[0]} printed nothing: {done.stderr[-2000:]}")
    output = json.loads(lines if args[0] != "build" else lines.splitlines()[-1])
    return wall, cpu, output


def function_lines(path: Path, name: str) -> ast.FunctionDef:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise SystemExit(f"{path.name} has no function {name}")


def edit(corpus: Path) -> None:
    """The three edits. Each stays inside what the prompts show (the excerpt is a body's
    first lines), so each must make its symbol stale."""
    path = corpus / BODY[0]
    lines = path.read_text().splitlines(keepends=True)
    node = function_lines(path, BODY[1])
    last = node.body[-1].lineno - 1  # before the last statement
    indent = lines[last][: len(lines[last]) - len(lines[last].lstrip())]
    lines.insert(last, f"{indent}y = round(y, 12)  # changed\n")
    path.write_text("".join(lines))

    node = function_lines(path, SIGNATURE[1])
    lines = path.read_text().splitlines(keepends=True)
    header = node.lineno - 1
    assert "):" in lines[header], lines[header]
    lines[header] = lines[header].replace("):", ", scale=1.0):", 1)
    path.write_text("".join(lines))

    path = corpus / IMPORTS
    text = path.read_text()
    anchor = "\nimport "
    at = text.index(anchor)
    path.write_text(text[:at] + "\nimport zlib" + text[at:])


def requests_in(log: Path) -> int:
    return sum(1 for _ in log.open()) if log.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the figures")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="doctown-bench-") as scratch:
        work = Path(scratch)
        (work / "corpus").mkdir()
        corpus = make_corpus(work / "corpus")
        log = work / "requests.jsonl"
        fake, port = start_fake_server(args.latency, "--request-log", str(log))
        base = {
            **os.environ,
            "OPENAI_API_KEY": "sk-bench",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "MAX_CONCURRENT_REQUESTS": str(args.concurrency),
        }

        def fresh_caches(name: str) -> dict[str, str]:
            return {**base, "XDG_CACHE_HOME": str(work / name)}  # analysis and summary caches

        old, new = work / "old.docpack", work / "new.docpack"

        def run(*command: str, env: dict[str, str]) -> dict[str, Any]:
            wall, cpu, output = doctown(*command, env=env)
            return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "output": output}

        try:
            cold = run(
                "build", str(corpus), "-o", str(old), "--yes", "--quiet", "--json",
                env=fresh_caches("cold"),
            )  # fmt: skip
            cold_requests = requests_in(log)
            edit(corpus)
            status_cold = run("status", str(old), str(corpus), "--json", env=fresh_caches("s"))
            status_warm = run("status", str(old), str(corpus), "--json", env=fresh_caches("s"))
            update = run(
                "build", str(corpus), "--update", str(old), "-o", str(new), "--no-cache",
                "--yes", "--quiet", "--json", env=fresh_caches("update"),
            )  # fmt: skip
            update_requests = requests_in(log) - cold_requests
            changes = run("diff", str(old), str(new), "--json", env=base)
        finally:
            fake.terminate()
            fake.wait(timeout=30)
    load_after = os.getloadavg()
    status = status_warm["output"]
    counts = status["counts"]
    flagged = [s for s in status["symbols"] if s["state"] in ("stale", "new")]
    cold_result, update_result = cold["output"]["result"], update["output"]["result"]
    report = {
        "command": "python bench/freshness.py " + " ".join(sys.argv[1:]),
        "latency_s": args.latency,
        "concurrency": args.concurrency,
        "load_average": {"before": load_before, "after": load_after},
        "symbols": cold["output"]["plan"]["symbols"],
        "selected": cold["output"]["plan"]["selected"],
        "cold": {
            "wall_s": cold["wall_s"],
            "cpu_s": cold["cpu_s"],
            "requests": cold_requests,
            "cost": cold_result["usage"]["cost"],
            "seconds": cold_result["seconds"],
        },
        "status": {
            "fresh_analysis_cache": {
                "wall_s": status_cold["wall_s"],
                "cpu_s": status_cold["cpu_s"],
            },
            "warm_analysis_cache": {"wall_s": status_warm["wall_s"], "cpu_s": status_warm["cpu_s"]},
            "counts": counts,
            "stale_or_new": [
                {"name": s["name"], "state": s["state"], "changed": s["changed"]} for s in flagged
            ],
            "refresh": status["refresh"],
        },
        "update": {
            "wall_s": update["wall_s"],
            "cpu_s": update["cpu_s"],
            "requests": update_requests,
            "from_previous": update_result["from_previous"],
            "cost": update_result["usage"]["cost"],
            "seconds": update_result["seconds"],
        },
        "diff": {
            "wall_s": changes["wall_s"],
            "cpu_s": changes["cpu_s"],
            "totals": changes["output"]["totals"],
        },
    }

    def share(part: float, whole: float) -> str:
        return f"{part / whole:.1%}" if whole else "-"

    rows = [
        ("cold build", cold, cold_requests, cold_result["usage"]["cost"]),
        ("status, fresh analysis cache", status_cold, 0, 0.0),
        ("status, warm analysis cache", status_warm, 0, 0.0),
        ("build --update, no cache", update, update_requests, update_result["usage"]["cost"]),
        ("diff", changes, 0, 0.0),
    ]
    print_table(
        ["run", "wall s", "CPU s", "requests", "cost $", "wall/cold", "CPU/cold", "cost/cold"],
        [
            [label, r["wall_s"], r["cpu_s"], asked, f"{cost:.6f}",
             share(r["wall_s"], cold["wall_s"]), share(r["cpu_s"], cold["cpu_s"]),
             share(cost, cold_result["usage"]["cost"])]
            for label, r, asked, cost in rows
        ],
    )  # fmt: skip
    print(f"status: {counts}; stale or new: {len(flagged)}; --update asked {update_requests}")
    for item in flagged:
        print(f"  {item['state']:<6} {item['name']}  ({', '.join(item['changed'])})")
    print(f"load average before {load_before}, after {load_after}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

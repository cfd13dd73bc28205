"""Analyse the running interpreter's standard library: time per stage and peak memory.

    python bench/analysis_stdlib.py            # cold, warm, one file changed, growth
    python bench/analysis_stdlib.py --json     # machine-readable

The standard library (`sysconfig.get_paths()["stdlib"]`, without site-packages) is copied
to a temporary directory so that one file can be changed there. Every measurement runs in a
fresh process with its own cache directory state:

- cold: an empty cache; every file is parsed;
- warm: the same tree again; the snapshot of the whole result is reused;
  (with --repeat N, the fastest of N cold and N warm runs: the machine may be shared)
- one file changed: one module edited; only it is parsed, and only it and the files that
  read it are resolved again; the graph metrics and contexts are recomputed;
- growth: cold runs on every 8th, 4th and 2nd file, to show how time and memory scale.

Peak memory is the maximum resident set size of the analysing process and, separately, of
its largest parser process; their sum bounds what the machine needed at once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

WORKERS = 2
FRACTIONS = (8, 4, 2)
CHANGED_FILE = "json/decoder.py"


def measure(source: Path, cache: Path, workers: int) -> dict[str, Any]:
    """One analysis in this process; what the parent prints as JSON."""
    from doctown.analysis import CONFIDENT, analyze_repository
    from doctown.analysis.cache import FactsCache

    store = FactsCache(cache)
    started = time.perf_counter()
    result = analyze_repository(source, cache=store, workers=workers)
    total = time.perf_counter() - started
    store.close()
    calls = [edge for edge in result.edges if edge.kind == "calls"]
    return {
        "files": len(result.files),
        "bytes": sum(record.size for record in result.files),
        "lines": sum(record.lines for record in result.files),
        "parsed_files": result.parsed_files,
        "resolved_files": result.resolved_files,
        "symbols": len(result.symbols),
        "edges": len(result.edges),
        "calls_confident": sum(1 for edge in calls if edge.confidence >= CONFIDENT),
        "calls_low_confidence": sum(1 for edge in calls if edge.confidence < CONFIDENT),
        "calls_unresolved": len(result.unresolved),
        "clusters": len(result.clusters),
        "seconds": round(total, 2),
        "stages": result.timings,
        "cpu_seconds": round(sum(os.times()[:4]), 2),
        "load_average": round(os.getloadavg()[0], 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "worker_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


def run(source: Path, cache: Path, workers: int = WORKERS) -> dict[str, Any]:
    """`measure` in a fresh interpreter, so that peak memory is this run's alone."""
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            str(source),
            "--cache",
            str(cache),
            "--workers",
            str(workers),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(output))


def copy_stdlib(target: Path, every: int = 1) -> Path:
    """Every `every`-th Python file of the standard library, under `target`."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        path
        for path in stdlib.rglob("*.py")
        if "site-packages" not in path.parts and "__pycache__" not in path.parts
    )
    for path in files[::every]:
        destination = target / path.relative_to(stdlib)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=WORKERS, help="parser processes")
    parser.add_argument("--no-growth", action="store_true", help="skip the growth runs")
    parser.add_argument(
        "--repeat", type=int, default=1, help="cold and warm runs to take the best of"
    )
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.cache, args.workers)))
        return

    report: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="doctown-bench-") as scratch:
        root = Path(scratch)
        tree = copy_stdlib(root / "stdlib")
        cache = root / "cache"
        colds, warms = [], []
        for _attempt in range(args.repeat):
            shutil.rmtree(cache, ignore_errors=True)
            colds.append(run(tree, cache, args.workers))
            warms.append(run(tree, cache, args.workers))
        # Other processes share the machine: the fastest of several runs is the least disturbed.
        report["cold"] = min(colds, key=lambda r: r["seconds"])
        report["warm"] = min(warms, key=lambda r: r["seconds"])
        report["cold_seconds_all"] = [r["seconds"] for r in colds]
        report["warm_seconds_all"] = [r["seconds"] for r in warms]
        changed = tree / CHANGED_FILE
        changed.write_text(changed.read_text("utf-8") + "\n\ndef _bench_marker():\n    pass\n")
        report["one_file_changed"] = run(tree, cache, args.workers)
        if not args.no_growth:
            report["growth"] = [
                run(
                    copy_stdlib(root / f"part-{every}", every),
                    root / f"cache-{every}",
                    args.workers,
                )
                for every in FRACTIONS
            ] + [report["cold"]]
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(
        f"Python {report['python']} standard library, {report['cpus']} CPUs, {args.workers} workers"
    )
    cold = report["cold"]
    print(
        f"{cold['files']} files, {cold['bytes'] / 2**20:.1f} MiB, {cold['lines']} lines -> "
        f"{cold['symbols']} symbols, {cold['edges']} edges ({cold['calls_confident']} confident "
        f"calls, {cold['calls_low_confidence']} low confidence, {cold['calls_unresolved']} "
        f"unresolved), {cold['clusters']} clusters"
    )
    if args.repeat > 1:
        print(f"cold runs {report['cold_seconds_all']} s, warm runs {report['warm_seconds_all']} s")
    for name in ("cold", "warm", "one_file_changed"):
        run_report = report[name]
        stages = ", ".join(f"{k} {v:.2f}" for k, v in run_report["stages"].items())
        print(
            f"{name:17} {run_report['seconds']:6.2f} s ({run_report['cpu_seconds']:.1f} s CPU, "
            f"load {run_report['load_average']})  parsed {run_report['parsed_files']:5}  "
            f"resolved {run_report.get('resolved_files', '-'):>5}  "
            f"peak {run_report['peak_rss_mib']} MiB "
            f"(+ worker {run_report['worker_peak_rss_mib']} MiB)  [{stages}]"
        )
    for entry in report.get("growth", []):
        print(
            f"growth: {entry['files']:5} files {entry['bytes'] / 2**20:5.1f} MiB -> "
            f"{entry['seconds']:6.2f} s cold, peak {entry['peak_rss_mib']} MiB "
            f"(+ worker {entry['worker_peak_rss_mib']} MiB)"
        )


if __name__ == "__main__":
    main()

"""Pages at scale: export a 10,000-symbol pack and the standard library's pack, and time `view`.

The packs come from a real analysis of the running interpreter's standard library (the whole
of it, and the part `build_pipeline.py` documents), written through doctown's own packer and
pack writer. Only the summary text is generated here (a sentence naming each symbol's kind,
module and call counts, as long as a real one): a model call per symbol would measure the
model, not the pages.

    .venv/bin/python bench/site_export.py [--requests 200] [--workdir DIR]

For each pack: `doctown export --format html` and `--format markdown` (wall time, files,
bytes); then `doctown view` on it in its own process, and per page kind (overview, symbol
pages, search as typed) the median and 95th percentile of the time to answer over
`--requests` requests on one keep-alive connection; and the first page's weight (the
overview's HTML and everything it loads). Prints tables; writes bench/results/site.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2

from build_pipeline import make_corpus
from worker_throughput import free_port, print_table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "site.json"
CREATED_AT = datetime(2025, 1, 1, tzinfo=UTC)


def write_pack(source: Path, out: Path) -> dict[str, Any]:
    """Analyse `source`, select as `doctown build` does, write the pack with generated text."""
    from doctown.analysis import analyze_repository
    from doctown.docpack import Source, write_docpack
    from doctown.pipeline.packing import Outcomes, pack_content
    from doctown.pipeline.selection import select
    from doctown.schemas import DocumentedSymbol

    started = time.perf_counter()
    analysis = analyze_repository(source, use_cache=False)
    selection = select(analysis)
    documented = {}
    for index in selection.indices:
        symbol = analysis.symbols[index]
        fields = analysis.context_fields[index]
        summary = (
            f"The {symbol.kind} {symbol.name} of {symbol.file_path}: it calls "
            f"{len(fields['calls'])} symbols here and {len(fields['called_by'])} call it."
        )
        documented[symbol.id] = DocumentedSymbol(
            symbol_id=symbol.id, summary=summary, tokens_used=80, input_tokens=60, output_tokens=20
        )
    content = pack_content(
        analysis, Outcomes(documented=documented), backend="openai", model="gpt-5-nano"
    )
    manifest = write_docpack(
        out,
        content,
        source=Source(path=str(source)),
        created_at=CREATED_AT,
    )
    return {
        "symbols": manifest.statistics.symbol_count,
        "documented": manifest.statistics.documented_count,
        "files": manifest.statistics.file_count,
        "pack_bytes": out.stat().st_size,
        "seconds": round(time.perf_counter() - started, 1),
    }


def children_cpu() -> float:
    """User + system seconds of every finished child process (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def export(pack: Path, kind: str, out: Path) -> dict[str, Any]:
    """`doctown export` in its own process: wall time, and CPU time of it and its workers."""
    cpu = children_cpu()
    started = time.perf_counter()
    command = ["export", str(pack), "--json", "--format", kind, "-o", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "doctown", *command],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    report = json.loads(done.stdout)
    return {
        "format": kind,
        "wall_s": round(wall, 1),
        "cpu_s": round(children_cpu() - cpu, 1),
        "files": report["files"],
        "bytes": report["bytes"],
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def typed_queries(names: list[str], count: int, rng: random.Random) -> list[str]:
    """What a reader types: the first letters of real names, two to eight of them."""
    queries = []
    for name in rng.sample(names, count):
        queries.append(name[: rng.randint(2, max(2, min(8, len(name))))])
    return queries


def time_view(pack: Path, requests: int) -> dict[str, Any]:
    """`doctown view` in its own process; answer times per page kind, and first-page weight."""
    from doctown.docpack import read_docpack
    from doctown.site.links import ServerLinks

    symbols = read_docpack(pack, load_contexts=False).symbols
    rng = random.Random(7)
    links = ServerLinks()
    symbol_paths = [links.symbol(s.id) for s in rng.sample(symbols, min(requests, len(symbols)))]
    queries = typed_queries([s.name for s in symbols], requests, rng)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DOCTOWN_DEBUG"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "doctown", "view", str(pack), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            while True:
                try:
                    client.get("/")
                    break
                except httpx2.TransportError:
                    time.sleep(0.1)
            ready = time.perf_counter() - started
            # The search index is built on the first search; count that apart.
            first = time.perf_counter()
            client.get("/search.json", params={"q": "warm"})
            index_build = time.perf_counter() - first
            kinds: dict[str, list[str]] = {
                "overview": ["/"] * requests,
                "symbol page": symbol_paths,
                "search as typed": [f"/search.json?q={q}" for q in queries],
            }
            timings = {}
            for kind, paths in kinds.items():
                samples = []
                for path in paths:
                    begin = time.perf_counter()
                    response = client.get(path)
                    samples.append(time.perf_counter() - begin)
                    assert response.status_code == 200, (path, response.status_code)
                timings[kind] = {"requests": len(paths), **percentiles(samples)}
            overview = client.get("/")
            assets = ["/static/theme.css", "/static/layout.css", "/static/content.css"]
            assets += ["/static/search.js", "/static/icon.svg"]
            weight = len(overview.content) + sum(len(client.get(a).content) for a in assets)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "ready_s": round(ready, 1),
        "search_index_s": round(index_build, 2),
        "first_page_bytes": weight,
        "overview_html_bytes": len(overview.content),
        "timings": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workdir", type=Path, default=None, help="keep packs and exports here")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="doctown-site-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    corpus = work / "corpus-10k"
    if not corpus.exists():
        corpus.mkdir()
        make_corpus(corpus)
    results: dict[str, Any] = {"load_average": os.getloadavg(), "packs": {}}
    for name, source in (("10k", corpus), ("stdlib", stdlib)):
        pack = work / f"{name}.docpack"
        made = write_pack(source, pack)
        print(
            f"{name}: {made['symbols']:,} symbols, pack written in {made['seconds']}s", flush=True
        )
        exports = []
        for kind in ("html", "markdown"):
            out = work / f"{name}-{kind}"
            exports.append(export(pack, kind, out))
            shutil.rmtree(out)
        view = time_view(pack, args.requests)
        results["packs"][name] = {**made, "exports": exports, "view": view}
    results["load_average_after"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    rows = []
    for name, data in results["packs"].items():
        for item in data["exports"]:
            size = f"{item['bytes'] / 2**20:.1f} MiB"
            row = [name, f"{data['symbols']:,}", item["format"], item["wall_s"], item["cpu_s"]]
            rows.append([*row, f"{item['files']:,}", size])
    print_table(["pack", "symbols", "format", "wall s", "CPU s", "files", "size"], rows)
    rows = []
    for name, data in results["packs"].items():
        for kind, timing in data["view"]["timings"].items():
            rows.append([name, kind, timing["requests"], timing["median_ms"], timing["p95_ms"]])
    print_table(["pack", "page", "requests", "median ms", "p95 ms"], rows)
    for name, data in results["packs"].items():
        view = data["view"]
        print(
            f"{name}: first page {view['first_page_bytes']:,} bytes "
            f"(overview HTML {view['overview_html_bytes']:,}); view ready in {view['ready_s']}s, "
            f"search index built in {view['search_index_s']}s"
        )
    print(f"load average before {results['load_average']}, after {results['load_average_after']}")


if __name__ == "__main__":
    main()

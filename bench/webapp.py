"""The web app on `doctown serve`: the first page's weight, and how soon a build shows progress.

`doctown serve` and the fake OpenAI server (at `--latency`) run in their own processes;
Debian's Chromium, through Playwright, opens `/` and submits a small archive `--runs` times.
For each run it records, from the moment the form is submitted: when the build's page
starts loading (the upload accepted), when it is shown, when it shows its first progress
update (the first event drawn), and when it counts its first summary. The first page's
weight is `/` and everything it loads (HTML, styles, scripts and the modules they import,
the icon), uncompressed, as the worker sends them.

    .venv/bin/python bench/webapp.py [--runs 10] [--latency 0.2]

Prints tables and writes bench/results/webapp.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import httpx2

from worker_throughput import free_port, print_table, start_fake, wait_until_ready

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "webapp.json"
MARKS = {
    "accepted": "upload accepted",
    "shown": "page shown",
    "first_update": "first progress update",
    "first_summary": "first summary counted",
}
# Timestamps on one clock across the two pages (performance.timeOrigin + now()): the submit
# page keeps the moment of submission in sessionStorage, the build's page marks the rest.
RECORDER = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const submitted = () => sessionStorage.setItem("bench.t0", String(now()));
  document.addEventListener("submit", submitted, true);
  document.addEventListener("DOMContentLoaded", () => {
    const log = document.getElementById("log");
    const done = document.getElementById("done");
    if (!log) return;
    const marks = { accepted: performance.timeOrigin, shown: now() };
    window.benchMarks = marks;
    new MutationObserver(() => { marks.first_update = marks.first_update || now(); })
      .observe(log, { childList: true });
    new MutationObserver(() => {
      if (!marks.first_summary && Number(done.textContent) > 0) marks.first_summary = now();
    }).observe(done, { childList: true, characterData: true, subtree: true });
  });
})();
"""


def archive(name: str) -> bytes:
    """A small package, different for every run so that no summary comes from the cache."""
    files = {
        f"{name}/__init__.py": f'"""The {name} package."""\n',
        f"{name}/core.py": "".join(
            f"def {name}_{i}(value: int) -> int:\n    return value + {i}\n\n\n" for i in range(20)
        ),
    }
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as bundle:
        for path, text in files.items():
            bundle.writestr(path, text)
    return packed.getvalue()


def first_page_weight(url: str) -> dict[str, Any]:
    """`/` and everything it names, and the modules its scripts import, in bytes."""
    with httpx2.Client(base_url=url) as client:
        page = client.get("/")
        names = re.findall(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"', page.text)
        sizes = {"/": len(page.content)}
        while names:
            name = names.pop()
            if name in sizes:
                continue
            body = client.get(name)
            sizes[name] = len(body.content)
            if name.endswith(".js"):
                names += [f"/static/{m}" for m in re.findall(r'from "\./([^"]+)"', body.text)]
    return {"bytes": sum(sizes.values()), "files": sizes}


def time_submissions(url: str, runs: int) -> list[dict[str, float]]:
    """Milliseconds from submitting the form to each mark of the build's page, per run."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    measured = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.add_init_script(RECORDER)
        for run in range(runs + 1):  # the first run warms the browser's cache
            page.goto(url + "/")
            name = f"bench{os.getpid()}r{run}"
            page.set_input_files(
                "#archive",
                files=[
                    {"name": f"{name}.zip", "mimeType": "application/zip", "buffer": archive(name)}
                ],
            )
            page.click("#submit-button")
            page.wait_for_url("**/watch")
            # Polled from here: the page's policy forbids the eval wait_for_function uses.
            while not page.evaluate(
                "Boolean(window.benchMarks && window.benchMarks.first_summary)"
            ):
                page.wait_for_timeout(20)
            marks = page.evaluate("window.benchMarks")
            started = float(page.evaluate("sessionStorage.getItem('bench.t0')"))
            page.locator("#job-state").filter(has_text="succeeded").wait_for()
            if run:
                measured.append({mark: round(marks[mark] - started, 1) for mark in MARKS})
        browser.close()
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.2, help="the fake server's, seconds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="doctown-webapp-bench-"))
    fake_port, worker_port = free_port(), free_port()
    fake = start_fake(fake_port, args.latency)
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
        "PORT": str(worker_port),
        "JOBS_DIR": str(work / "jobs"),
        "DOCTOWN_CACHE_DIR": str(work / "cache"),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "doctown", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{worker_port}"
    load_before = os.getloadavg()
    try:
        wait_until_ready(f"http://127.0.0.1:{fake_port}/v1/models/x", fake)
        wait_until_ready(f"{url}/health", worker)
        weight = first_page_weight(url)
        runs = time_submissions(url, args.runs)
    finally:
        worker.terminate()
        fake.terminate()
        worker.wait(timeout=30)
        fake.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    results = {
        "load_average": load_before,
        "load_average_after": os.getloadavg(),
        "latency_s": args.latency,
        "first_page": weight,
        "runs": runs,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(
        ["loaded by `/`", "bytes"],
        [[name, f"{size:,}"] for name, size in weight["files"].items()]
        + [["total", f"{weight['bytes']:,}"]],
    )
    rows = []
    for mark, label in MARKS.items():
        values = [run[mark] for run in runs]
        rows.append(
            [
                label,
                round(statistics.median(values)),
                round(min(values)),
                round(max(values)),
            ]
        )
    print_table(["after submitting, ms", "median", "min", "max"], rows)
    print(
        f"{len(runs)} runs; load average before {load_before}, "
        f"after {results['load_average_after']}"
    )


if __name__ == "__main__":
    main()

"""Tokens and dollars per symbol of `doctown build`, counted on what reaches the server.

Builds a real repository (by default the sqlparse 0.6.1 source distribution pinned in
eval/corpora.toml, all of it, with the build's default options) against the fake OpenAI
server in its own process, which logs every request. For each setup it counts the prompt
tokens of every request sent (exactly, as the server and doctown count them), the requests,
and the symbols documented. Output tokens cannot be measured this way (the fake server's
answers are short), so they are priced from an assumed summary length (`--summary-tokens`,
the eval's measured output per summary is the reference) plus the JSON around each summary,
tokenized exactly for the shape each request asks for (`{"summary": ...}` alone, or one key
per symbol of a group). Prices: gpt-5-nano's, synchronous and Batch API (half).

    .venv/bin/python bench/prompt_tokens.py [--baseline-src OLD/src] [--summary-tokens 30]

Setups: the baseline checkout's build (when `--baseline-src` is given), this checkout with
one symbol per request (DOCTOWN_GROUP_SIZE=1), and this checkout as it ships (groups).
Prints a table and writes bench/results/prompt_tokens.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from distributed_throughput import start_fake
from doctown import pricing
from doctown.evaluation.corpora import load_corpora, materialise
from doctown.prompts import group_labels
from doctown.tokens import TokenCounter
from doctown.usage import Usage
from worker_throughput import print_table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "prompt_tokens.json"
MODEL = "gpt-5-nano"
COUNTER = TokenCounter(MODEL)


def sqlparse_sdist(workdir: Path) -> Path:
    """The whole sqlparse source distribution the eval pins (fetched once, sha256-checked)."""
    corpora = load_corpora(ROOT / "eval" / "corpora.toml")
    corpus = next(c for c in corpora.corpora if c.name == "sqlparse")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "doctown" / "eval"
    return materialise(
        dataclasses.replace(corpus, path=""), base=corpora.base, cache_dir=cache, workdir=workdir
    )


def answer_wrapper_tokens(symbols: int) -> int:
    """Tokens of the JSON around the summaries of an answer about `symbols` symbols."""
    if symbols == 1:
        return COUNTER.count(json.dumps({"summary": ""}))
    return COUNTER.count(json.dumps(dict.fromkeys(group_labels(symbols), "")))


def symbols_in(body: dict[str, Any]) -> int:
    """How many symbols a logged chat request asks about (its group schema, else one)."""
    response_format = body.get("response_format") or {}
    schema = (response_format.get("json_schema") or {}).get("schema") or response_format.get(
        "schema"
    )
    required = (schema or {}).get("required") or ["summary"]
    return 1 if required == ["summary"] else len(required)


def build(source: Path, env: dict[str, str], out: Path, extra: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "doctown", "build", str(source), "-o", str(out)),
            *("--no-cache", "--yes", "--quiet", "--json", *extra),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"build failed ({done.returncode}): {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def measure(
    label: str,
    source: Path,
    env: dict[str, str],
    log: Path,
    work: Path,
    args: argparse.Namespace,
    extra: list[str],
) -> dict[str, Any]:
    log.write_text("")
    extra = [*extra, "--include-tests"] if args.include_tests else extra
    report = build(source, env, work / f"{label}.docpack", extra)
    requests = [
        entry["body"]
        for entry in map(json.loads, log.read_text().splitlines())
        if entry["path"].endswith("/chat/completions")
    ]
    documented = report["result"]["documented"]
    prompt_tokens = sum(COUNTER.count_messages(body["messages"]) for body in requests)
    assert prompt_tokens == report["result"]["usage"]["input_tokens"], (
        "the server counted otherwise"
    )
    wrappers = sum(answer_wrapper_tokens(symbols_in(body)) for body in requests)
    output = args.summary_tokens * documented + wrappers
    price = pricing.resolve_price(MODEL)
    usage = Usage(input_tokens=prompt_tokens, output_tokens=output)
    sync = pricing.cost(usage, price) * 1000 / documented
    batch = pricing.cost(usage, pricing.batch_price(price)) * 1000 / documented
    return {
        "setup": label,
        "symbols": documented,
        "requests": len(requests),
        "prompt_tokens": prompt_tokens,
        "prompt_tokens_per_symbol": round(prompt_tokens / documented, 1),
        "output_tokens_per_symbol": round(output / documented, 1),
        "dollars_per_1000_symbols": float(round(sync, 4)),
        "dollars_per_1000_symbols_batch": float(round(batch, 4)),
        "load_average": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=None, help="default: sqlparse 0.6.1")
    parser.add_argument("--baseline-src", default=None, help="another checkout's src/ to compare")
    parser.add_argument(
        "--summary-tokens",
        type=int,
        default=30,
        help="assumed tokens of one summary, without the JSON around it",
    )
    parser.add_argument("--include-tests", action="store_true", help="pass --include-tests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="doctown-bench-") as scratch:
        work = Path(scratch)
        source = args.source or sqlparse_sdist(work / "corpus")
        log = work / "requests.jsonl"
        fake, base_url = start_fake(0.0, log)
        base = {
            **os.environ,
            "OPENAI_API_KEY": "sk-bench",
            "OPENAI_BASE_URL": base_url,
            "MODEL_NAME": MODEL,
            "MAX_CONCURRENT_REQUESTS": "50",
            "XDG_CACHE_HOME": str(work / "cache"),  # a cold analysis cache for every setup
        }
        # Symbol summaries only: this checkout's builds leave out the overviews above them
        # (bench/overviews_cost.py measures those); the baseline may predate them.
        setups: list[tuple[str, dict[str, str], list[str]]] = []
        if args.baseline_src:
            setups.append(("before", {**base, "PYTHONPATH": args.baseline_src}, []))
        setups += [
            ("one symbol per request", {**base, "DOCTOWN_GROUP_SIZE": "1"}, ["--no-overviews"]),
            ("several symbols per request", base, ["--no-overviews"]),
        ]
        try:
            rows = [
                measure(label, source, env, log, work, args, extra) for label, env, extra in setups
            ]
        finally:
            fake.terminate()
            fake.wait(timeout=30)
    print_table(
        [
            "setup",
            "symbols",
            "requests",
            "prompt tokens",
            "in/symbol",
            "out/symbol",
            "$/1k",
            "$/1k batch",
        ],
        [
            [
                r["setup"],
                r["symbols"],
                r["requests"],
                r["prompt_tokens"],
                r["prompt_tokens_per_symbol"],
                r["output_tokens_per_symbol"],
                r["dollars_per_1000_symbols"],
                r["dollars_per_1000_symbols_batch"],
            ]
            for r in rows
        ],
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "python bench/prompt_tokens.py " + " ".join(sys.argv[1:]),
                "source": str(args.source or "sqlparse 0.6.1 sdist"),
                "model": MODEL,
                "summary_tokens": args.summary_tokens,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()

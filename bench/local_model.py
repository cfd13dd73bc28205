"""The embedded model, symbol by symbol: the current backend against the earlier setup.

    python bench/local_model.py [--rounds 2] [--threads 1]

Documents the ten contexts of examples/contexts.json one at a time, alternating between two
setups under the same load, after one warm-up call each:

- `current`: doctown's local backend as it ships (compact prompt, grammar that stops at the
  closing brace, one thread count for prompt and answer, repeat penalty);
- `earlier`: the setup before it, rebuilt from public pieces (the full template after the
  worked examples, llama-cpp-python's JSON-schema mode, its default prompt threads).

Reports per setup the median wall seconds per symbol, CPU seconds per symbol (this process),
tokens in and out, and `length` failures, with the load average before and after; writes
bench/results/local_model.json. The machine is shared: compare the two setups' ratio, which
the alternation keeps fair, more than their absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from doctown.backends.local import COMPLETION_CAP, CONTEXT_TOKENS, LocalBackend, find_model_file
from doctown.contexts_file import read_request
from doctown.prompts import FEW_SHOT, SYSTEM_PROMPT, PromptBuilder, _Budget, render_user_message
from doctown.schemas import DocumentationOutput, SymbolContext
from doctown.tokens import TokenCounter

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples" / "contexts.json"
RESULTS = ROOT / "bench" / "results" / "local_model.json"


class Earlier:
    """The embedded model as it was set up before: full template, schema mode, default threads."""

    def __init__(self, threads: int) -> None:
        from llama_cpp import Llama

        self.counter = TokenCounter("gpt-5-nano")
        self.llama = Llama(
            model_path=str(find_model_file()),
            n_ctx=CONTEXT_TOKENS,
            n_threads=threads,
            seed=0,
            verbose=False,
        )
        self.prefix = [{"role": "system", "content": SYSTEM_PROMPT}]
        for context, summary in FEW_SHOT:
            self.prefix.append(
                {"role": "user", "content": render_user_message(context, self.counter, _Budget())}
            )
            self.prefix.append({"role": "assistant", "content": json.dumps({"summary": summary})})

    def ask(self, context: SymbolContext) -> dict[str, Any]:
        user = render_user_message(context, self.counter, _Budget())
        result: dict[str, Any] = self.llama.create_chat_completion(
            messages=[*self.prefix, {"role": "user", "content": user}],
            response_format={
                "type": "json_object",
                "schema": DocumentationOutput.model_json_schema(),
            },
            max_tokens=COMPLETION_CAP,
            temperature=0.0,
        )
        return result


class Current:
    """The local backend as it ships."""

    def __init__(self, threads: int) -> None:
        self.backend = LocalBackend(threads=threads)
        self.builder = PromptBuilder(
            TokenCounter(self.backend.model), max_prompt_tokens=2_000, few_shot=True
        )

    def ask(self, context: SymbolContext) -> dict[str, Any]:
        return self.backend._generate(self.builder.build(context).messages)


def timed(setup: Earlier | Current, context: SymbolContext) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = setup.ask(context)
    usage = result["usage"]
    return {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "input_tokens": usage["prompt_tokens"],
        "output_tokens": usage["completion_tokens"],
        "length": result["choices"][0]["finish_reason"] == "length",
    }


def summary(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "setup": name,
        "symbols": len(runs),
        "median_wall_s": round(statistics.median(r["wall_s"] for r in runs), 2),
        "cpu_s_per_symbol": round(statistics.fmean(r["cpu_s"] for r in runs), 2),
        "input_tokens": round(statistics.fmean(r["input_tokens"] for r in runs)),
        "output_tokens": round(statistics.fmean(r["output_tokens"] for r in runs)),
        "length_failures": sum(r["length"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2, help="passes over the ten contexts")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    contexts = [item.context for item in read_request(EXAMPLES, default_job_id="bench").symbols]
    setups: dict[str, Earlier | Current] = {
        "earlier": Earlier(args.threads),
        "current": Current(args.threads),
    }
    for setup in setups.values():
        setup.ask(contexts[-1])  # load the model, fill the KV cache with the shared head
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in setups}
    for _ in range(args.rounds):
        for context in contexts:
            for name, setup in setups.items():
                runs[name].append(timed(setup, context))
    load_after = os.getloadavg()
    rows = [summary(name, each) for name, each in runs.items()]
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print("\n| setup | symbols | median s/symbol | CPU s/symbol | tokens in/out | length |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['setup']} | {row['symbols']} | {row['median_wall_s']} | "
            f"{row['cpu_s_per_symbol']} | {row['input_tokens']}/{row['output_tokens']} | "
            f"{row['length_failures']} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "command": "python bench/local_model.py " + " ".join(sys.argv[1:]),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "threads": args.threads,
                "load_average": {"before": load_before, "after": load_after},
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()

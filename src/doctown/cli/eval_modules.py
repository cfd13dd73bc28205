"""`doctown eval --modules`: module overviews scored against their modules' docstrings."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from doctown import __version__
from doctown.analysis import analyze_repository
from doctown.cli.eval import REPORT_WIDTH, ProgressLines, _number, in_workdir
from doctown.evaluation.corpora import Corpus, CorpusSet, materialise
from doctown.evaluation.embedding import CachedEmbedder
from doctown.evaluation.modules import ModuleRecord, ModuleRun, evaluate_modules, module_scores
from doctown.evaluation.report import OVERALL
from doctown.generation import GenerationEngine


def module_eval(
    corpus_set: CorpusSet,
    corpora: list[Corpus],
    engine: GenerationEngine,
    max_prompt_tokens: int,
    *,
    limit: int,
    cache_dir: Path,
    embedder: CachedEmbedder | None,
    console: Console,
    output: Path,
    as_json: bool,
) -> None:
    """`doctown eval --modules`: module overviews scored per corpus and overall."""

    async def run(workdir: Path) -> list[ModuleRun]:
        runs = []
        try:
            for corpus in corpora:
                console.print(f"{corpus.label}: fetching and analysing")
                root = materialise(
                    corpus, base=corpus_set.base, cache_dir=cache_dir, workdir=workdir
                )
                analysis = await asyncio.to_thread(analyze_repository, root)
                console.print(f"{corpus.label}: module overviews")
                runs.append(
                    await evaluate_modules(
                        corpus.name,
                        analysis,
                        engine,
                        limit=limit,
                        seed=corpus_set.seed,
                        max_prompt_tokens=max_prompt_tokens,
                        embedder=embedder,
                        subscribers=[ProgressLines(console)],
                    )
                )
        finally:
            await engine.backend.aclose()
        return runs

    runs = in_workdir(run)
    everything = [record for run in runs for record in run.records]
    report: dict[str, Any] = {
        "command": "doctown " + shlex.join(sys.argv[1:]),
        "doctown": __version__,
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "backend": engine.backend.name,
        "model": engine.backend.model,
        "preview": engine.backend.preview,
        "seed": corpus_set.seed,
        "limit": limit,
        "embedding": embedder.name if embedder else None,
        "corpora": [
            {
                "corpus": run.corpus,
                "scores": module_scores(run.records),
                "seconds": round(run.seconds, 1),
                "children_cost": float(run.children_cost),
                "children_tokens": run.children_tokens,
            }
            for run in runs
        ],
        OVERALL: module_scores(everything),
        "records": [_record(record) for record in everything],
    }
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if as_json:
        click.echo(json.dumps(report))
        return
    table = Table(title="module overviews", title_justify="left")
    columns = ("corpus", "modules", "coverage", "ungrounded", "agreement", "floor", "chance")
    for column in (*columns, "position", "tokens in/out", "$/overview"):
        table.add_column(column, justify="left" if column == "corpus" else "right")
    rows = [(run["corpus"], run["scores"]) for run in report["corpora"]]
    for name, scores in [*rows, (OVERALL, report[OVERALL])]:
        table.add_row(
            name,
            str(scores["modules"]),
            _number(scores["coverage"]),
            _number(scores["ungrounded"]),
            _number(scores["agreement"], 3),
            _number(scores["floor"], 3),
            _number(scores["chance"], 3),
            _number(scores["position"]),
            f"{_number(scores['input_tokens'], 0)}/{_number(scores['output_tokens'], 0)}",
            _number(scores["dollars"], 6),
        )
    Console(width=None if sys.stdout.isatty() else REPORT_WIDTH).print(table)
    console.print(f"wrote {output / 'results.json'}")


def _record(record: ModuleRecord) -> dict[str, Any]:
    values = asdict(record)
    values["cost"] = float(record.cost)
    return values

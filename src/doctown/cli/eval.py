"""`doctown eval`: score the summaries of a backend on real code with human docstrings."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
import tempfile
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from doctown import __version__, events
from doctown.cli.errors import EXIT_INTERRUPTED
from doctown.cli.options import json_option, quiet_option
from doctown.config import cache_dir as default_cache_dir
from doctown.config import load_settings
from doctown.evaluation import OPTIONS, ContextOption, Evaluation, evaluate, load_corpora
from doctown.evaluation.embedding import CachedEmbedder, MiniLM
from doctown.evaluation.report import OVERALL, summarise, write
from doctown.generation import build_engine

# Tables are wider than the 80 columns assumed when output is not a terminal.
REPORT_WIDTH = 160
DEFAULT_CORPORA = Path("eval") / "corpora.toml"


def parse_options(value: str | None) -> list[ContextOption]:
    """`bare,excerpt` -> the options, in the order given; all of them for None."""
    if not value:
        return list(OPTIONS.values())
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in OPTIONS]
    if unknown:
        raise click.BadParameter(
            f"unknown option {', '.join(unknown)}; choose from {', '.join(OPTIONS)}",
            param_hint="--options",
        )
    return [OPTIONS[name] for name in dict.fromkeys(names)]


def _number(value: Any, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def scores_table(title: str, rows: list[tuple[str, dict[str, Any]]]) -> Table:
    """One row per option: the headline of every metric."""
    table = Table(title=title, title_justify="left")
    for column in (
        "option",
        "coverage",
        "ungrounded",
        "agreement",
        "floor",
        "chance",
        "position",
        "form",
        "tokens in",
        "tokens out",
        "$/symbol",
        "s/symbol",
        "median s",
        "cpu s",
    ):
        table.add_column(column, justify="left" if column == "option" else "right")
    for option, scores in rows:
        cost = scores["cost"]
        agreement = scores["agreement"]
        coverage = scores["coverage"]
        table.add_row(
            option,
            f"{_number(coverage['share'])} ({coverage['documented']}/{coverage['symbols']})",
            _number(scores["grounding"]["share_ungrounded"]),
            _number(agreement["summary"], 3),
            _number(agreement["floor"], 3),
            _number(agreement["chance"], 3),
            _number(agreement["position"]),
            _number(scores["form"]["share_good"]),
            _number(cost["input_tokens"], 0),
            _number(cost["output_tokens"], 0),
            _number(cost["dollars"], 6),
            _number(cost["seconds"]),
            _number(cost["median_seconds"]),
            _number(cost["cpu_seconds"]),
        )
    return table


def print_report(console: Console, report: dict[str, Any]) -> None:
    """A table per corpus and one overall, then failures and the worst grounding cases."""
    for corpus in report["corpora"]:
        rows = [(r["option"], r["scores"]) for r in report["runs"] if r["corpus"] == corpus["name"]]
        console.print(scores_table(f"{corpus['label']}: {corpus['sampled']} symbols", rows))
    overall = [(entry["option"], entry["scores"]) for entry in report[OVERALL]]
    console.print(scores_table("overall", overall))
    for option, scores in overall:
        failures = scores["coverage"]["failures"]
        if failures:
            listed = ", ".join(f"{reason} {count}" for reason, count in failures.items())
            console.print(f"{option}: failures by reason: {listed}")
        for case in scores["grounding"]["worst"][:3]:
            console.print(
                f"{option}: ungrounded {', '.join(case['ungrounded'])} in {case['symbol']}: "
                f"{case['summary']}"
            )
    console.print(
        "agreement: cosine with the docstring's first sentence; position 0 = the name-only "
        "floor, 1 = the docstring itself."
    )


T = TypeVar("T")


def in_workdir(run: Callable[[Path], Coroutine[Any, Any, T]]) -> T:
    """`run(workdir)` on its own event loop, in a scratch folder; Ctrl-C writes nothing."""
    try:
        with tempfile.TemporaryDirectory(prefix="doctown-eval-") as workdir:
            return asyncio.run(run(Path(workdir)))
    except KeyboardInterrupt:
        Console(stderr=True).print("\ninterrupted: nothing was written.")
        sys.exit(EXIT_INTERRUPTED)


class ProgressLines:
    """A line every ten symbols: long runs on a slow model show life, even in a log file."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.done = 0

    def __call__(self, event: events.Event) -> None:
        if event.type == events.GENERATION_STARTED:
            self.done = 0
        elif event.type in (events.GENERATION_SYMBOL_DOCUMENTED, events.GENERATION_SYMBOL_FAILED):
            self.done += 1
            if self.done % 10 == 0:
                self.console.print(f"  {self.done} symbols done")


@click.command("eval")
@click.option(
    "--corpora",
    "corpora_file",
    type=click.Path(path_type=Path),
    default=DEFAULT_CORPORA,
    show_default=True,
    help="The corpora file: packages, versions, seed and sample size.",
)
@click.option(
    "--corpus",
    "corpus_names",
    multiple=True,
    help="Evaluate only this corpus (repeatable; default: all in the file).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Symbols sampled per corpus (default: the file's `limit`).",
)
@click.option(
    "--options",
    "options_text",
    default=None,
    help=f"Context options to compare, comma-separated: {', '.join(OPTIONS)} (default: all).",
)
@click.option(
    "--backend",
    type=click.Choice(["local", "openai", "facts"]),
    default=None,
    help="The backend to evaluate (default: DOCTOWN_BACKEND, as for every command).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for results.json and symbols.jsonl (default: eval/results/BACKEND).",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where downloaded corpora are kept (default: under the user cache directory).",
)
@click.option(
    "--no-agreement",
    is_flag=True,
    help="Skip the agreement score (and the embedding model it needs).",
)
@click.option(
    "--modules",
    "modules",
    is_flag=True,
    help="Score module overviews instead of symbol summaries: modules whose docstring has at "
    "least 5 words, every docstring hidden, the overview against the module's docstring.",
)
@json_option("Print the report as JSON on stdout.")
@quiet_option("No progress lines.")
def eval_command(
    corpora_file: Path,
    corpus_names: tuple[str, ...],
    limit: int | None,
    options_text: str | None,
    backend: str | None,
    output: Path | None,
    cache_dir: Path | None,
    no_agreement: bool,
    modules: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Score summaries against the human docstrings of real code, hidden from the model.

    For each corpus, a seeded sample of symbols whose docstring opens with a real sentence is
    documented once per context option. Reports coverage, grounding, agreement with the
    docstring (next to a name-only floor and another symbol's docstring as chance), form and
    cost per symbol. Scores never fail the command: exit status 1 means it could not run.
    """
    options = parse_options(options_text)
    console = Console(stderr=True, quiet=quiet)
    corpus_set = load_corpora(corpora_file)
    corpora = corpus_set.select(list(corpus_names))
    overrides: dict[str, object] = {} if backend is None else {"doctown_backend": backend}
    settings = load_settings(**overrides)
    embedder = None if no_agreement else CachedEmbedder(MiniLM())
    engine = build_engine(settings)
    size = limit or corpus_set.limit
    console.print(
        f"backend: {engine.backend.name} ({engine.backend.model})"
        + (" - offline preview" if engine.backend.preview else "")
    )
    for warning in engine.standing_warnings:
        console.print(f"[yellow]note:[/yellow] {warning}")
    cache = cache_dir or default_cache_dir() / "eval"
    if modules:
        from doctown.cli.eval_modules import module_eval

        module_eval(
            corpus_set,
            corpora,
            engine,
            settings.max_overview_prompt_tokens,
            limit=size,
            cache_dir=cache,
            embedder=embedder,
            console=console,
            output=output or Path("eval") / "results" / engine.backend.name / "modules",
            as_json=as_json,
        )
        return

    async def run(workdir: Path) -> Evaluation:
        try:
            return await evaluate(
                corpus_set,
                corpora,
                options,
                engine,
                limit=size,
                cache_dir=cache,
                workdir=workdir,
                embedder=embedder,
                say=console.print,
                subscribers=[ProgressLines(console)],
            )
        finally:
            await engine.backend.aclose()

    evaluation = in_workdir(run)
    report = summarise(
        evaluation,
        {
            "command": "doctown " + shlex.join(sys.argv[1:]),
            "doctown": __version__,
            "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "python": sys.version.split()[0],
            "backend": engine.backend.name,
            "model": engine.backend.model,
            "preview": engine.backend.preview,
            "seed": corpus_set.seed,
            "limit": size,
            "embedding": embedder.name if embedder else None,
            "options": {option.name: option.description for option in options},
        },
    )
    written = write(report, evaluation, output or Path("eval") / "results" / engine.backend.name)
    if as_json:
        click.echo(json.dumps(report))
    else:
        print_report(Console(width=None if sys.stdout.isatty() else REPORT_WIDTH), report)
    console.print(f"wrote {', '.join(str(path) for path in written)}")

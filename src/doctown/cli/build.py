from __future__ import annotations

import gc
import json
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from doctown import events
from doctown.cli.aio import run_async
from doctown.cli.batch import (
    batch_runner,
    check_batch_budget,
    overview_batches,
    print_request_files,
    run_batch,
)
from doctown.cli.errors import (
    EXIT_ABORTED,
    EXIT_FAILED_SYMBOLS,
    EXIT_INTERRUPTED,
)
from doctown.cli.options import concurrency_option, events_option, json_option, quiet_option
from doctown.config import Settings, load_settings
from doctown.generation import GenerationEngine, build_engine
from doctown.generation.cache import SummaryCache
from doctown.pipeline import Build, BuildOptions, Plan
from doctown.schemas import GenerateResponse

if TYPE_CHECKING:
    from doctown.distributed import Distributed

DEFAULT_CONFIRM_ABOVE = Decimal("1.00")


class BuildProgress:
    """Live counters per stage, fed by the job's events."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
        )
        self.scan = self.progress.add_task("scan", total=None, detail="")
        self.batch = self.progress.add_task("batch", total=None, detail="", visible=False)
        self.batches: dict[str, tuple[int, int, str]] = {}  # id -> total, answered, status
        self.document = self.progress.add_task("document", total=None, detail="", visible=False)
        self.files = self.skipped = self.documented = self.cached = self.failed = 0
        self.tokens = 0
        self.cost = 0.0

    def __call__(self, event: events.Event) -> None:
        kind, payload = event.type, event.payload
        if kind == "ingest.file_detected.v1":
            self.files += 1
        elif kind == "ingest.file_skipped.v1":
            self.skipped += 1
        elif kind == events.GENERATION_STARTED:
            self.progress.update(self.scan, total=self.files, completed=self.files)
            self.progress.update(self.document, total=payload["symbol_count"], visible=True)
        elif kind in (events.GENERATION_SYMBOL_DOCUMENTED, events.GENERATION_SYMBOL_FAILED):
            if kind == events.GENERATION_SYMBOL_FAILED:
                self.failed += 1
            elif payload.get("cached"):
                self.cached += 1
            else:
                self.documented += 1
            self.tokens += int(payload.get("tokens_used", 0))
            self.cost += float(payload.get("cost", 0.0))
            elapsed = self.progress.tasks[self.document].elapsed or 0.0
            rate = (self.documented + self.failed) / elapsed if elapsed else 0.0
            self.progress.update(
                self.document,
                advance=1,
                detail=f"new {self.documented} cached {self.cached} failed {self.failed} "
                f"| {self.tokens} tokens ${self.cost:.4f} | {rate:.1f}/s",
            )
        elif kind == events.GENERATION_BATCH_PROGRESS:
            answered = int(payload["completed"]) + int(payload["failed"])
            self.batches[payload["batch_id"]] = (int(payload["total"]), answered, payload["status"])
            statuses = sorted({status for _, _, status in self.batches.values()})
            self.progress.update(
                self.batch,
                visible=True,
                total=sum(total for total, _, _ in self.batches.values()),
                completed=sum(done for _, done, _ in self.batches.values()),
                detail=f"{len(self.batches)} batch(es) {', '.join(statuses)}",
            )
        if kind.startswith("ingest."):
            self.progress.update(self.scan, detail=f"{self.files} files, {self.skipped} skipped")


def plan_summary(plan: Plan, engine_model: str, price_free: bool) -> dict[str, Any]:
    estimate = plan.overviews.estimated if plan.overviews is not None else None
    overviews = None
    if estimate is not None:
        overviews = {
            "to_send": estimate.calls,
            "cached": estimate.cached,
            "prompt_tokens": estimate.prompt_tokens,
            "levels": {
                level: {"calls": calls, "prompt_tokens": tokens}
                for level, (calls, tokens) in estimate.by_level.items()
            },
            "cost_min": float(estimate.cost_min),
            "cost_max": float(estimate.cost_max),
        }
    summary: dict[str, Any] = {
        "files": len(plan.analysis.files),
        "symbols": len(plan.analysis.symbols),
        "selected": len(plan.selection.indices),
        "reused_docstrings": len(plan.selection.reused),
        "unique_prompts": plan.unique_prompts,
        "from_previous": plan.from_previous,
        "cached": plan.cached_prompts,
        "to_send": plan.to_send,
        "requests": plan.requests,
        "prompt_tokens": plan.prompt_tokens,
        "cost_min": float(plan.cost_min),
        "cost_max": float(plan.cost_max),
        "batch_cost_min": float(plan.batch_cost_min),
        "batch_cost_max": float(plan.batch_cost_max),
        "model": engine_model,
        "free": price_free,
        "overviews": overviews,
    }
    if plan.previous is not None:
        summary["previous"] = {
            "path": str(plan.previous.path),
            "summaries": len(plan.previous.summaries),
            "foreign": plan.previous.foreign,
            "reuse_foreign": plan.previous.rule.reuse_foreign,
            "made_by": sorted(
                f"{maker.backend} ({maker.model}), prompt {maker.prompt_version}"
                for maker in plan.previous.makers
            ),
        }
    return summary


def print_plan(console: Console, summary: dict[str, Any], *, batch: bool = False) -> None:
    reused = (
        f"{summary['from_previous']} from {Path(summary['previous']['path']).name}, "
        if "previous" in summary
        else ""
    )
    console.print(
        f"[bold]plan[/bold]: {summary['files']} files, {summary['symbols']} symbols; "
        f"{summary['selected']} to document ({summary['reused_docstrings']} from docstrings, "
        f"{reused}{summary['cached']} cached, {summary['to_send']} to ask {summary['model']} in "
        f"{summary['requests']} requests)"
    )
    previous = summary.get("previous")
    if previous and previous["foreign"]:
        made_by = "; ".join(previous["made_by"])
        if previous["reuse_foreign"]:
            console.print(
                f"[yellow]note:[/yellow] --reuse-foreign: summaries written by another model or "
                f"prompt version are kept where their prompt is unchanged ({made_by})"
            )
        else:
            console.print(
                f"[yellow]note:[/yellow] {previous['foreign']} summaries of the previous pack were "
                f"written by another model or prompt version ({made_by}); they are asked again. "
                "Pass --reuse-foreign to keep those whose prompt is unchanged."
            )
    cost = (
        "free" if summary["free"] else f"${summary['cost_min']:.4f} to ${summary['cost_max']:.4f}"
    )
    if batch and not summary["free"]:
        cost = (
            f"{cost} synchronously, ${summary['batch_cost_min']:.4f} to "
            f"${summary['batch_cost_max']:.4f} through the Batch API"
        )
    overviews = summary.get("overviews")
    if overviews is not None:
        levels = ", ".join(
            f"{level} {figures['calls']}"
            for level, figures in overviews["levels"].items()
            if figures["calls"]
        )
        console.print(
            f"[bold]overviews[/bold]: {overviews['to_send']} to ask"
            + (f" ({levels})" if levels else "")
            + f", {overviews['cached']} cached; about {overviews['prompt_tokens']} prompt tokens "
            "(children's summaries not yet written are estimated)"
        )
    console.print(
        f"[bold]cost[/bold]: {summary['prompt_tokens']} prompt tokens (counted exactly"
        + (", overviews estimated" if overviews is not None and overviews["to_send"] else "")
        + f"); {cost}"
    )


def confirm_spend(
    plan: Plan, *, yes: bool, threshold: Decimal, max_cost: Decimal | None, batch: bool = False
) -> None:
    """Ask before a large paid run; refuse one nobody can be asked about."""
    worst = plan.batch_cost_max if batch else plan.cost_max
    ceiling = min(worst, max_cost) if max_cost is not None else worst
    if yes or ceiling <= threshold:
        return
    if not sys.stdin.isatty():
        raise click.ClickException(
            f"This run may cost up to ${ceiling:.2f} (above ${threshold:.2f}); pass --yes to go "
            "ahead, or --max-cost to cap it."
        )
    if not click.confirm(f"This run may cost up to ${ceiling:.2f}. Go ahead?", default=False):
        raise click.ClickException("Stopped before spending anything.")


def print_result(
    console: Console, plan: Plan, response: GenerateResponse, output: Path, from_previous: int
) -> None:
    remaining = sum(f.reason == "not_attempted" for f in response.failed_symbols)
    failed = len(response.failed_symbols) - remaining
    cached = sum(d.cached for d in response.documented_symbols) - from_previous
    table = Table(show_header=False, box=None, pad_edge=False)
    rows = [
        (
            "backend",
            f"{response.backend} ({response.model})"
            + (" - offline preview" if response.preview else ""),
        ),
        (
            "documented",
            f"{len(response.documented_symbols) - cached - from_previous} new, {cached} cached, "
            + (f"{from_previous} from the previous pack, " if plan.previous is not None else "")
            + f"{len(plan.selection.reused)} from docstrings",
        ),
        ("ungrounded", str(sum(bool(d.ungrounded) for d in response.documented_symbols))),
        *_overview_rows(plan),
        ("failed", str(failed)),
        ("remaining", str(remaining)),
        ("tokens", f"{response.usage.input_tokens} in, {response.usage.output_tokens} out"),
        ("cost", f"${response.total_cost:.6f}"),
        ("time", ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in plan.seconds.items())),
        ("wrote", str(output)),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/bold]", value)
    console.print(table)
    if response.error:
        console.print(f"[red]stopped:[/red] {response.error.message}")
    if remaining:
        console.print(
            f"{remaining} symbols remain undocumented; run the same command again to continue."
        )


def _overview_rows(plan: Plan) -> list[tuple[str, str]]:
    report = plan.overviews.report() if plan.overviews is not None else None
    if report is None or not report.get("overviews"):
        return []
    usage: dict[str, Any] = report["usage"]  # type: ignore[assignment]
    return [
        (
            "overviews",
            f"{report['overviews']} ({report['calls']} calls, {report['cached']} cached, "
            f"{report['failed']} failed), {usage['input_tokens']} in, "
            f"{usage['output_tokens']} out, ${usage['cost']:.6f}",
        )
    ]


def build_failed(response: GenerateResponse, plan: Plan) -> bool:
    """True when something selected could not be documented: a symbol or an overview."""
    report = plan.overviews.report() if plan.overviews is not None else {}
    return bool(response.failed_symbols) or bool(report.get("failed"))


def distributed_workers(settings: Settings, engine: GenerationEngine) -> Distributed:
    """The distributed setup, checked before the analysis: Redis reachable, workers alive."""
    from doctown.distributed import Distributed

    shards = Distributed.from_settings(settings)
    workers = shards.check_workers(engine.backend)
    Console(stderr=True).print(
        f"distributed: {len(workers)} workers ({', '.join(w.name for w in workers)}), "
        f"shards of {settings.doctown_shard_size}"
    )
    return shards


@click.command("build")
@click.argument("source")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="The .docpack to write."
)
@click.option("--ref", default=None, help="Branch, tag or commit to build (git URLs).")
@click.option("--dry-run", is_flag=True, help="Print the plan and the cost estimate, then stop.")
@click.option("--max-cost", type=Decimal, default=None, help="Hard cap in US dollars for this run.")
@click.option("--yes", is_flag=True, help="Do not ask before spending.")
@click.option(
    "--confirm-above",
    type=Decimal,
    default=DEFAULT_CONFIRM_ABOVE,
    show_default=True,
    help="Ask before runs that may cost more than this many dollars.",
)
@click.option(
    "--include-private", is_flag=True, help="Also document private functions and methods."
)
@click.option(
    "--include-tests", is_flag=True, help="Also document test code (tests/, test_*.py, ...)."
)
@click.option(
    "--callee-summaries",
    is_flag=True,
    help="Document callees first and tell each caller what its callees do (waves).",
)
@click.option(
    "--grounding/--no-grounding",
    default=True,
    show_default=True,
    help="Re-ask once a summary that names identifiers that exist nowhere; mark it if it stays so.",
)
@click.option(
    "--strict-grounding", is_flag=True, help="Fail summaries still ungrounded after the re-ask."
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=None,
    help="Document only the N most central symbols (a quick, cheap preview).",
)
@click.option(
    "--docstrings",
    type=click.Choice(["context", "reuse", "ignore"]),
    default=None,
    help="Existing docstrings: prompt context, reused as summaries, or hidden "
    "(default: reuse with the offline preview model, context with real ones).",
)
@click.option(
    "--source-excerpt/--no-source-excerpt",
    default=None,
    help="Put the first lines of each body in the prompt (default: on, off for the local model).",
)
@click.option(
    "--cache",
    "cache_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Summary cache file (default: under the user cache directory).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the summary cache.")
@click.option(
    "--created-at",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
    default=None,
    help="Timestamp recorded in the pack (default: the commit time).",
)
@click.option("--no-contexts", is_flag=True, help="Leave symbol_contexts.json out of the pack.")
@click.option(
    "--no-overviews",
    is_flag=True,
    help="Skip the module, cluster and repository overviews written after the summaries.",
)
@click.option(
    "--distributed",
    is_flag=True,
    help="Send the requests in shards to `doctown worker` processes (DOCTOWN_REDIS_URL).",
)
@click.option(
    "--batch",
    is_flag=True,
    help="Send the requests through the OpenAI Batch API: half the price, answers within 24 h; "
    "a killed build resumes polling instead of paying again.",
)
@click.option(
    "--update",
    "update",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="A previous .docpack: its summaries whose prompt is unchanged are reused, not asked.",
)
@click.option(
    "--reuse-foreign",
    is_flag=True,
    help="With --update, also reuse summaries another model or prompt version wrote.",
)
@concurrency_option
@events_option
@quiet_option()
@json_option("Print the plan and the result as JSON.")
def build_command(
    source: str,
    output: Path,
    ref: str | None,
    dry_run: bool,
    max_cost: Decimal | None,
    yes: bool,
    confirm_above: Decimal,
    include_private: bool,
    include_tests: bool,
    callee_summaries: bool,
    grounding: bool,
    strict_grounding: bool,
    limit: int | None,
    docstrings: str | None,
    source_excerpt: bool | None,
    cache_path: Path | None,
    no_cache: bool,
    created_at: datetime | None,
    no_contexts: bool,
    no_overviews: bool,
    distributed: bool,
    batch: bool,
    update: Path | None,
    reuse_foreign: bool,
    concurrency: int | None,
    events_path: Path | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Document a repository (folder, .zip/.tar.gz, or git URL) into a .docpack.

    With --update OLD.docpack, every summary of OLD whose fingerprint matches the prompt that
    would be sent now is reused as it is: only what changed is asked, with no cache needed.

    Exit status: 0 everything selected was documented, 1 bad input or configuration, 3 some
    symbols failed or remain (cost cap), 4 the job stopped (quota, key, model), 130 interrupted.
    """
    console = Console(stderr=True, quiet=quiet and not dry_run)
    if batch and distributed:
        raise click.UsageError(
            "--batch and --distributed do not combine: the Batch API already runs the requests "
            "off this machine; choose one"
        )
    if reuse_foreign and update is None:
        raise click.UsageError("--reuse-foreign applies to --update; name the previous pack.")
    if created_at is not None and created_at.tzinfo is None:
        created_at = created_at.astimezone()
    overrides: dict[str, object] = (
        {} if concurrency is None else {"max_concurrent_requests": concurrency}
    )
    settings = load_settings(**overrides)
    cache = None if no_cache else SummaryCache(cache_path)
    engine = build_engine(settings, cache=cache)
    # A dry run spends nothing, so it needs no workers.
    shards = distributed_workers(settings, engine) if distributed and not dry_run else None
    writer = events.JsonLinesWriter(events_path) if events_path else None
    subscribers: list[events.Subscriber] = []
    if writer:
        subscribers.append(writer)
    display = BuildProgress(console, enabled=not quiet)
    subscribers.append(display)
    options = BuildOptions(
        source=source,
        output=output,
        ref=ref,
        include_private=include_private,
        include_tests=include_tests,
        docstrings=docstrings,  # type: ignore[arg-type]
        source_excerpt=source_excerpt,
        max_cost=max_cost,
        created_at=created_at,
        with_contexts=not no_contexts,
        limit=limit,
        callee_summaries=callee_summaries,
        grounding=grounding,
        strict_grounding=strict_grounding,
        distributed=shards,
        update=update,
        reuse_foreign=reuse_foreign,
        overviews=not no_overviews,
        max_overview_prompt_tokens=settings.max_overview_prompt_tokens,
    )
    console.print(f"backend: {engine.backend.name} ({engine.backend.model})")
    for warning in engine.standing_warnings:
        console.print(f"[yellow]note:[/yellow] {warning}")
    try:
        with Build(options, engine, subscribers=subscribers) as build:
            runner = None
            if batch:
                runner = batch_runner(
                    engine, cache, settings, build.emitter, callee_summaries=callee_summaries
                )
            with display.progress:
                plan = build.prepare()
            # The analysis and the plan live until this process ends: out of the collector's
            # reach, they are not walked again by every collection while generating.
            gc.freeze()
            summary = plan_summary(plan, engine.backend.model, engine.backend.price.output == 0)
            print_plan(console, summary, batch=batch)
            if dry_run:
                if runner is not None:
                    print_request_files(console, runner, plan, engine.backend.model)
                if as_json:
                    click.echo(json.dumps({"plan": summary}))
                return
            if runner is not None:
                check_batch_budget(plan, max_cost)
            if engine.backend.price.output or engine.backend.price.input:
                confirm_spend(
                    plan, yes=yes, threshold=confirm_above, max_cost=max_cost, batch=batch
                )

            async def run() -> GenerateResponse:
                try:
                    answers = await run_batch(runner, plan) if runner is not None else None
                    return await build.generate(
                        plan,
                        answers=answers,
                        overview_answers=overview_batches(runner) if runner is not None else None,
                    )
                finally:
                    if runner is not None:
                        runner.close()
                    await engine.backend.aclose()

            with display.progress:
                response = run_async(run())
            manifest = build.pack(plan, response)
            build.finish(plan, response, manifest)
            from_previous = len(build.carried(plan, response))
    except KeyboardInterrupt:
        Console(stderr=True).print(
            "\ninterrupted: every summary received so far is cached; run the same command again "
            "to resume without paying for them twice."
        )
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if writer:
            writer.close()
        if cache:
            cache.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "plan": summary,
                    "result": {
                        "output": str(output),
                        "docpack_id": manifest.docpack_id,
                        "status": response.status,
                        "backend": response.backend,
                        "model": response.model,
                        "preview": response.preview,
                        "documented": len(response.documented_symbols),
                        "cached": sum(d.cached for d in response.documented_symbols)
                        - from_previous,
                        "from_previous": from_previous,
                        "failed": len(response.failed_symbols),
                        "usage": response.usage.model_dump(),
                        "seconds": plan.seconds,
                        "overviews": plan.overviews.report() if plan.overviews else None,
                    },
                }
            )
        )
    else:
        print_result(Console(stderr=True), plan, response, output, from_previous)
    if response.error and response.error.type != "budget_exhausted":
        sys.exit(EXIT_ABORTED)
    if build_failed(response, plan):
        sys.exit(EXIT_FAILED_SYMBOLS)

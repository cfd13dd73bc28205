from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from doctown import events
from doctown.cli.aio import run_async
from doctown.cli.errors import (
    EXIT_ABORTED,
    EXIT_FAILED_SYMBOLS,
    EXIT_INTERRUPTED,
)
from doctown.cli.options import concurrency_option, events_option, json_option, quiet_option
from doctown.config import load_settings
from doctown.contexts_file import read_request
from doctown.generation import build_engine
from doctown.outputs import check_writable
from doctown.schemas import GenerateResponse


def write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def print_summary(console: Console, result: GenerateResponse, seconds: float) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    usage = result.usage
    rows = [
        (
            "backend",
            f"{result.backend} ({result.model})" + (" — offline preview" if result.preview else ""),
        ),
        ("symbols", str(len(result.documented_symbols) + len(result.failed_symbols))),
        ("documented", str(len(result.documented_symbols))),
        ("failed", str(len(result.failed_symbols))),
        (
            "tokens",
            f"{usage.input_tokens} in ({usage.cached_tokens} cached), "
            f"{usage.output_tokens} out ({usage.reasoning_tokens} reasoning)",
        ),
        ("cost", f"${result.total_cost:.6f}"),
        ("time", f"{seconds:.1f} s"),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/bold]", value)
    console.print(table)
    reasons: dict[str, int] = {}
    for failure in result.failed_symbols:
        reasons[failure.reason] = reasons.get(failure.reason, 0) + 1
    if reasons:
        console.print(
            "failures by reason: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items()))
        )
    if result.error:
        console.print(f"[red]stopped:[/red] {result.error.message}")


@click.command("generate")
@click.argument("contexts", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Where to write the results (JSON).",
)
@click.option(
    "--job-id", default=None, help="Job id for events (default: from the file, else the file name)."
)
@events_option
@concurrency_option
@quiet_option("No progress bar.")
@json_option("Print the closing summary as JSON.")
def generate_command(
    contexts: Path,
    output: Path,
    job_id: str | None,
    events_path: Path | None,
    concurrency: int | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Document a JSON file of symbol contexts (a /generate body or a bare list).

    Exit status: 0 all documented, 3 some symbols failed, 4 the job stopped (quota, key, model),
    130 interrupted (Ctrl-C: requests in flight finish and everything answered is written).
    """
    console = Console(stderr=True, quiet=quiet)
    overrides: dict[str, object] = {}
    if concurrency is not None:
        overrides["max_concurrent_requests"] = concurrency
    settings = load_settings(**overrides)
    request = read_request(contexts, default_job_id=job_id or contexts.stem)
    check_writable(output, what="the results")
    writer = events.JsonLinesWriter(events_path) if events_path else None
    engine = build_engine(settings)
    console.print(f"backend: {engine.backend.name} ({engine.backend.model})")
    for warning in engine.standing_warnings:
        console.print(f"[yellow]note:[/yellow] {warning}")
    subscribers: list[events.Subscriber] = []
    if writer:
        subscribers.append(writer)
    started = time.monotonic()
    progress = Progress(
        TextColumn("documenting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[cost]}"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
    )
    with progress:
        task = progress.add_task("generate", total=len(request.symbols), cost="$0")
        spent = 0.0

        def advance(event: events.Event) -> None:
            nonlocal spent
            if event.type in (events.GENERATION_SYMBOL_DOCUMENTED, events.GENERATION_SYMBOL_FAILED):
                spent += float(event.payload.get("cost", 0.0))
                progress.update(task, advance=1, cost=f"${spent:.6f}")

        subscribers.append(advance)

        interrupted = asyncio.Event()

        async def run() -> GenerateResponse:
            # The first Ctrl-C stops sending: requests in flight finish and everything
            # answered is written. A second one stops at once.
            loop = asyncio.get_running_loop()

            def on_interrupt() -> None:
                interrupted.set()
                loop.remove_signal_handler(signal.SIGINT)
                Console(stderr=True).print(
                    "\ninterrupted: finishing the requests in flight, then writing what was "
                    "answered (Ctrl-C again to stop at once)"
                )

            loop.add_signal_handler(signal.SIGINT, on_interrupt)
            try:
                return await engine.generate(
                    request.job_id, request.symbols, subscribers=subscribers, stop=interrupted
                )
            finally:
                loop.remove_signal_handler(signal.SIGINT)
                await engine.backend.aclose()

        try:
            result = run_async(run())
        finally:
            if writer:
                writer.close()
    write_atomically(output, result.model_dump_json(indent=2))
    seconds = time.monotonic() - started
    if as_json:
        summary = {
            "output": str(output),
            "status": result.status,
            "documented": len(result.documented_symbols),
            "failed": len(result.failed_symbols),
            "usage": result.usage.model_dump(),
            "total_cost": result.total_cost,
            "seconds": round(seconds, 3),
        }
        click.echo(json.dumps(summary))
    else:
        print_summary(Console(stderr=True), result, seconds)
        Console(stderr=True).print(f"wrote {output}")
    if interrupted.is_set():
        sys.exit(EXIT_INTERRUPTED)
    if result.status == "aborted":
        sys.exit(EXIT_ABORTED)
    if result.failed_symbols:
        sys.exit(EXIT_FAILED_SYMBOLS)

"""`doctown analyze`: a source tree in, symbol contexts out, with statistics."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.status import Status
from rich.table import Table

from doctown import events
from doctown.analysis import AnalysisResult, analyze_repository
from doctown.analysis.cache import FactsCache
from doctown.analysis.ingest import INGEST_FILE_DETECTED
from doctown.analysis.records import CONFIDENT
from doctown.analysis.repository import ASSEMBLY_GRAPH_COMPLETED, ASSEMBLY_STARTED
from doctown.analysis.testcode import is_test_path
from doctown.cli.options import events_option, json_option, quiet_option
from doctown.errors import InputError


def statistics(result: AnalysisResult) -> dict[str, Any]:
    """What the analysis found, in numbers."""
    calls = [edge for edge in result.edges if edge.kind == "calls"]
    return {
        "files": len(result.files),
        "files_by_language": dict(sorted(Counter(f.language for f in result.files).items())),
        "skipped": len(result.skipped),
        "skipped_by_reason": dict(sorted(Counter(s.reason for s in result.skipped).items())),
        "symbols": len(result.symbols),
        "symbols_by_kind": dict(sorted(Counter(s.kind for s in result.symbols).items())),
        "calls_resolved": sum(1 for edge in calls if edge.confidence >= CONFIDENT),
        "calls_low_confidence": sum(1 for edge in calls if edge.confidence < CONFIDENT),
        "calls_unresolved": len(result.unresolved),
        "unresolved_by_reason": dict(sorted(Counter(u.reason for u in result.unresolved).items())),
        "imports": sum(1 for edge in result.edges if edge.kind == "imports"),
        "clusters": len(result.clusters),
        "warnings": result.warnings,
        "parsed_files": result.parsed_files,
        "seconds": result.timings,
    }


def _print_statistics(console: Console, stats: dict[str, Any], output: Path) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)

    def breakdown(counts: dict[str, int]) -> str:
        return ", ".join(f"{key} {value}" for key, value in counts.items()) or "none"

    rows = [
        ("files", f"{stats['files']} ({breakdown(stats['files_by_language'])})"),
        ("skipped", f"{stats['skipped']} ({breakdown(stats['skipped_by_reason'])})"),
        ("symbols", f"{stats['symbols']} ({breakdown(stats['symbols_by_kind'])})"),
        (
            "calls",
            f"{stats['calls_resolved']} resolved, {stats['calls_low_confidence']} low confidence, "
            f"{stats['calls_unresolved']} unresolved ({breakdown(stats['unresolved_by_reason'])})",
        ),
        ("imports", str(stats["imports"])),
        ("clusters", str(stats["clusters"])),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/bold]", value)
    console.print(table)
    for warning in stats["warnings"][:20]:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    console.print(f"wrote {output}")


def _progress(status: Status) -> events.Subscriber:
    """Says which stage the analysis is in; the stages between events take the longest."""
    found = 0

    def update(event: events.Event) -> None:
        nonlocal found
        if event.type == INGEST_FILE_DETECTED:
            found += 1
            if found % 100 == 0:
                status.update(f"reading files: {found}")
        elif event.type == ASSEMBLY_STARTED:
            status.update(f"parsing and resolving {event.payload['files']} files")
        elif event.type == ASSEMBLY_GRAPH_COMPLETED:
            status.update("assembling contexts")

    return update


@click.command("analyze")
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="Contexts file (JSON)."
)
@click.option(
    "--job-id", default=None, help="Job id in the output and events (default: the directory name)."
)
@events_option
@click.option(
    "--exclude", multiple=True, help="Extra .gitignore-style pattern to leave out (repeatable)."
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Parser processes."
)
@click.option(
    "--no-cache", is_flag=True, help="Parse every file; neither read nor write the cache."
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where cached facts live (default: $DOCTOWN_CACHE_DIR, else the user cache directory).",
)
@click.option(
    "--include-tests",
    is_flag=True,
    help="Also write contexts for test code (tests/, test_*.py, ...), left out by default.",
)
@quiet_option()
@json_option("Print the statistics as JSON.")
def analyze_command(
    source: Path,
    output: Path,
    job_id: str | None,
    events_path: Path | None,
    exclude: tuple[str, ...],
    workers: int,
    no_cache: bool,
    cache_dir: Path | None,
    include_tests: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Analyse the source tree SOURCE and write a contexts file for `doctown generate`.

    Nothing in SOURCE is executed. Parsed facts are cached by file content, so a second run
    re-parses only the files that changed. Test code is analysed (its calls become the
    `tested_by` of what it tests) but gets no context of its own unless --include-tests.
    """
    if not source.is_dir():
        raise InputError(f"{source}: not a directory. Pass the root of a source tree.")
    job = job_id or source.resolve().name or "analysis"
    writer = events.JsonLinesWriter(events_path) if events_path else None
    status = Console(stderr=True, quiet=quiet or as_json).status("reading files")
    subscribers: list[events.Subscriber] = [_progress(status)]
    if writer:
        subscribers.append(writer)
    emitter = events.EventEmitter(job, source="doctown.analysis", subscribers=subscribers)
    cache = None if no_cache else FactsCache(cache_dir)
    try:
        with status:
            result = analyze_repository(
                source,
                emitter=emitter,
                cache=cache,
                use_cache=not no_cache,
                workers=workers,
                exclude=exclude,
            )
    finally:
        if cache:
            cache.close()
        if writer:
            writer.close()
    body = {
        "job_id": job,
        "symbols": [
            {"symbol_id": fields["symbol_id"], "context": fields}
            for fields in result.context_fields
            if include_tests or not is_test_path(fields["file_path"])
        ],
    }
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    partial.replace(output)
    stats = statistics(result)
    if as_json:
        click.echo(json.dumps({"output": str(output), **stats}))
    else:
        _print_statistics(Console(stderr=True), stats, output)

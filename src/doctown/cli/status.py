"""`doctown status PACK [SOURCE] [FILES]...`: which summaries of a pack still match the code."""

from __future__ import annotations

import json
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

import click
from rich.table import Table
from rich.text import Text

from doctown.cli.errors import EXIT_FAILED_SYMBOLS
from doctown.cli.options import json_option
from doctown.cli.pack_output import safe, stdout_console
from doctown.docpack import read_docpack
from doctown.freshness.check import check_source
from doctown.freshness.status import STATES, RefreshCost, StatusReport, SymbolFreshness
from doctown.pipeline.git import public_url

EXIT_STALE = EXIT_FAILED_SYMBOLS
_STYLE = {
    "fresh": "green",
    "stale": "yellow",
    "new": "cyan",
    "removed": "red",
    "undocumented": "red",
    "dropped": "magenta",
    "unknown": "yellow",
}


def _is_source(candidate: str) -> bool:
    """A folder, an archive or a URL is a source; any other existing file is one of FILES."""
    path = Path(candidate)
    if not path.is_file():
        return True
    return zipfile.is_zipfile(path) or tarfile.is_tarfile(path)


def _relative(files: list[str], source: str) -> list[str]:
    """FILES as the pack names them: relative to the source folder, with forward slashes."""
    root = Path(source).resolve()
    named = []
    for name in files:
        path = Path(name).resolve()
        try:
            named.append(path.relative_to(root).as_posix())
        except ValueError:
            named.append(PurePosixPath(Path(name).as_posix()).as_posix())
    return named


def _cost(refresh: RefreshCost) -> str:
    if refresh.cost_min is None or refresh.cost_max is None:
        return f"no price known for {refresh.model}"
    if refresh.cost_max == 0:
        return f"free with {refresh.model}"
    return f"${refresh.cost_min:.4f} to ${refresh.cost_max:.4f} at {refresh.model}'s prices"


def _row(record: SymbolFreshness) -> list[Text]:
    where = f"{record.file_path}:{record.line}" if record.line else record.file_path
    return [
        Text(record.state, style=_STYLE[record.state]),
        Text(safe(record.name)),
        Text(safe(where), style="dim"),
        Text(", ".join(record.changed)),
    ]


def _print(report: StatusReport, pack: Path, show_all: bool) -> None:
    console = stdout_console()
    counts = report.counts
    recipe = report.recipe
    made = (
        f"{recipe.backend} ({recipe.model}), prompt {recipe.prompt_version}"
        if recipe
        else "an older doctown: summaries carry no fingerprint, their freshness is unknown"
    )
    console.print(Text(safe(f"pack      {pack} (built with {made})")))
    listing = ", ".join(f"{counts[state]} {state}" for state in STATES if counts[state])
    console.print(f"symbols   {listing or 'none documented, none to document'}")
    if report.refresh is not None and not report.refresh.symbols:
        console.print("refresh   nothing to ask")
    elif report.refresh is not None:
        refresh = report.refresh
        console.print(
            Text(
                safe(
                    f"refresh   {refresh.symbols} to ask again ({refresh.prompts} prompts, "
                    f"{refresh.prompt_tokens:,} prompt tokens): {_cost(refresh)}"
                )
            )
        )
    shown = [r for r in report.symbols if show_all or r.state != "fresh"]
    if not shown:
        if report.symbols:
            console.print("everything is fresh")
        return
    table = Table("state", "symbol", "where", "changed", box=None, pad_edge=False)
    for record in shown:
        table.add_row(*_row(record))
    console.print()
    console.print(table)


@click.command("status")
@click.argument("pack", type=click.Path(path_type=Path))
@click.argument("source", required=False, default=".")
@click.argument("files", nargs=-1)
@click.option("--ref", default=None, help="Check against this branch, tag or commit of SOURCE.")
@click.option(
    "--fail-on-stale",
    is_flag=True,
    help="Exit with status 3 when a summary is stale, a symbol is new, or freshness is unknown.",
)
@click.option("--all", "show_all", is_flag=True, help="List fresh symbols too.")
@json_option("Print the report as JSON.")
def status_command(
    pack: Path,
    source: str,
    files: tuple[str, ...],
    ref: str | None,
    fail_on_stale: bool,
    show_all: bool,
    as_json: bool,
) -> None:
    """Compare PACK with the code in SOURCE (default: the current folder) without spending.

    Each documented symbol is fresh (its prompt would be the same today), stale (and what
    changed: signature, body, docstring, callers, callees, ...), new, removed, undocumented
    (failed before), dropped (no longer chosen) or unknown (a pack from before fingerprints).
    FILES limit the report to those files (what a pre-commit hook passes).

    Exit status: 0, or 3 with --fail-on-stale when something is stale, new or unknown; 1 when
    the pack or the source cannot be read.
    """
    listed = list(files)
    if not _is_source(source):
        listed.insert(0, source)
        source = "."
    docpack = read_docpack(pack, load_contexts=False)
    report = check_source(
        docpack, source, ref=ref, files=_relative(listed, source) if listed else None
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "pack": str(pack),
                    "source": public_url(source),
                    "ref": ref,
                    "recipe": report.recipe.model_dump() if report.recipe else None,
                    "counts": report.counts,
                    "failing": report.failing,
                    "refresh": report.refresh.to_json() if report.refresh else None,
                    "symbols": [record.to_json() for record in report.symbols],
                },
                indent=2,
            )
        )
    else:
        _print(report, pack, show_all)
    if fail_on_stale and report.failing:
        sys.exit(EXIT_STALE)

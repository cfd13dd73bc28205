"""`doctown search PACK "words"`: ranked full-text search over a pack's symbols."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from doctown.cli.options import json_option
from doctown.cli.pack_output import brief, display_name, location, safe, stdout_console
from doctown.docpack import SearchIndex, read_docpack
from doctown.docpack.search import DEFAULT_LIMIT

_SUMMARY_CHARS = 100


@click.command("search")
@click.argument("pack", type=click.Path(path_type=Path))
@click.argument("words")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="How many results to show.",
)
@json_option("Print the results as JSON.")
def search_command(pack: Path, words: str, limit: int, as_json: bool) -> None:
    """Search names, qualified names, signatures and summaries; best matches first.

    Identifiers are split into words, so "parse config" finds parse_config and ConfigParser.
    A symbol named exactly WORDS comes first.
    """
    docpack = read_docpack(pack, load_contexts=False)
    hits = SearchIndex(docpack.symbols).search(words, limit=limit)
    if as_json:
        results = [
            {"rank": rank, "score": round(hit.score, 4), **brief(hit.symbol)}
            for rank, hit in enumerate(hits, start=1)
        ]
        click.echo(json.dumps({"query": words, "results": results}, indent=2))
        return
    console = stdout_console()
    if not hits:
        console.print(Text(safe(f"no symbol matches {words!r}")))
        return
    # Name above kind and location, so the summary keeps most of a narrow terminal.
    table = Table(box=None, pad_edge=False, show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("symbol", overflow="fold", max_width=60)
    table.add_column("summary", min_width=24)
    for rank, hit in enumerate(hits, start=1):
        doc = hit.symbol.documentation
        summary = doc.summary or f"({doc.status})"
        if len(summary) > _SUMMARY_CHARS:
            summary = summary[: _SUMMARY_CHARS - 1] + "…"
        cell = Text(safe(display_name(hit.symbol)), style="bold")
        cell.append(f"\n{safe(hit.symbol.kind)} · {safe(location(hit.symbol))}", style="dim")
        table.add_row(str(rank), cell, Text(safe(summary)))
    console.print(table)

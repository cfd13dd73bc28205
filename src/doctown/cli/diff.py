"""`doctown diff OLD.docpack NEW.docpack`: what changed in the documentation, and its cost."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from doctown.cli.options import json_option
from doctown.cli.pack_output import safe, stdout_console
from doctown.docpack import read_docpack
from doctown.freshness import markdown
from doctown.freshness.diff import Change, PackDiff, diff

_SECTIONS = (
    ("re-documented", "redocumented"),
    ("added", "added"),
    ("removed", "removed"),
    ("failed", "failed"),
)


def _print_change(console: Console, kind: str, change: Change) -> None:
    console.print(Text(safe(f"  {change.name}  "), style="bold").append(safe(change.where), "dim"))
    if kind == "redocumented":
        if change.changed:
            console.print(Text(safe(f"    changed: {', '.join(change.changed)}"), style="dim"))
        console.print(Text(safe(f"    before: {change.before}")))
        console.print(Text(safe(f"    after:  {change.after}")))
    elif kind == "failed":
        console.print(Text(safe(f"    reason: {change.reason}"), style="red"))
    else:
        console.print(Text(safe(f"    {change.after if kind == 'added' else change.before}")))


def _print(result: PackDiff, old: Path, new: Path) -> None:
    console = stdout_console()
    console.print(Text(safe(f"old  {old} ({result.documented_before} documented)")))
    console.print(Text(safe(f"new  {new} ({result.documented_after} documented)")))
    console.print(
        f"{len(result.redocumented)} re-documented, {len(result.added)} added, "
        f"{len(result.removed)} removed, {len(result.failed)} failed, "
        f"{result.unchanged} unchanged; the new summaries cost ${result.cost:.6f}"
    )
    for title, kind in _SECTIONS:
        changes: list[Change] = getattr(result, kind)
        if changes:
            console.print()
            console.print(Text(f"{title} ({len(changes)})", style="bold"))
            for change in changes:
                _print_change(console, kind, change)


@click.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="markdown: collapsible tables sized for a pull-request comment.",
)
@json_option("Print the differences as JSON.")
def diff_command(old: Path, new: Path, output_format: str, as_json: bool) -> None:
    """Compare two packs: summaries added, removed, re-documented (before and after) and
    failed, with totals and what the new summaries cost."""
    result = diff(read_docpack(old, load_contexts=False), read_docpack(new, load_contexts=False))
    if as_json:
        click.echo(json.dumps({"old": str(old), "new": str(new), **result.to_json()}, indent=2))
    elif output_format == "markdown":
        click.echo(markdown.render(result), nl=False)
    else:
        _print(result, old, new)

from __future__ import annotations

import json
from pathlib import Path

import click

from doctown.cli.options import json_option
from doctown.generation.cache import SummaryCache

_CACHE_OPTION = click.option(
    "--cache",
    "cache_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Summary cache file (default: under the user cache directory).",
)


@click.group("cache")
def cache_group() -> None:
    """Inspect or clear the summary cache."""


@cache_group.command("stats")
@_CACHE_OPTION
@json_option("Print as JSON.")
def stats_command(cache_path: Path | None, as_json: bool) -> None:
    """How many summaries are cached, per backend and model, and the file's size."""
    cache = SummaryCache(cache_path)
    stats = cache.stats()
    cache.close()
    if as_json:
        click.echo(json.dumps(stats.__dict__))
        return
    click.echo(f"{stats.path}: {stats.entries} summaries, {stats.bytes / 2**20:.1f} MiB")
    for model, count in stats.by_model.items():
        click.echo(f"  {model}: {count}")


@cache_group.command("clear")
@_CACHE_OPTION
@click.option("--yes", is_flag=True, help="Do not ask.")
def clear_command(cache_path: Path | None, yes: bool) -> None:
    """Delete every cached summary (the next build pays for them again)."""
    cache = SummaryCache(cache_path)
    entries = cache.stats().entries
    if not yes and not click.confirm(f"Delete {entries} cached summaries?", default=False):
        cache.close()
        raise click.ClickException("Nothing deleted.")
    removed = cache.clear()
    cache.close()
    click.echo(f"deleted {removed} summaries from {cache.path}")

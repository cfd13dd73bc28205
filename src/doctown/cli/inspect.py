"""`doctown inspect PACK`: a pack's manifest and statistics, with its checksum verified."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from doctown.cli.options import json_option
from doctown.cli.pack_output import safe, stdout_console
from doctown.docpack import Docpack, read_docpack
from doctown.docpack.authorship import authorship

# A manifest field is one line; a pack can make it megabytes, which a table lays out slowly.
MAX_SHOWN_CHARS = 300


def _shown(value: str) -> str:
    """`value` on one line, terminal-safe, and cut to MAX_SHOWN_CHARS with what was left out."""
    flat = safe(value.replace("\r", "\\r").replace("\n", "\\n"))
    if len(flat) <= MAX_SHOWN_CHARS:
        return flat
    return f"{flat[:MAX_SHOWN_CHARS]}… ({len(flat) - MAX_SHOWN_CHARS:,} more characters)"


def _source(docpack: Docpack) -> str:
    source = docpack.manifest.source
    text = source.repo_url or source.path or ""
    if source.git_ref:
        text += f" @ {source.git_ref}"
    if source.commit_hash:
        text += f" ({source.commit_hash[:12]})"
    return text


def _making(docpack: Docpack) -> list[tuple[str, str]]:
    """Which models wrote the summaries and what making them cost, from their provenance."""
    made = authorship(docpack.symbols)
    rows = [
        (
            "backend",
            ", ".join(
                f"{w.label} x{w.summaries}" + (" offline preview" if w.preview else "")
                for w in made.writers
            )
            or "none",
        ),
        (
            "tokens",
            f"{made.input_tokens:,} in, {made.output_tokens:,} out to write the summaries",
        ),
        ("cost", f"${made.cost:.6f}"),
    ]
    usage = docpack.manifest.usage
    if usage is not None:  # written by an older doctown: what that one run spent
        rows.append(
            (
                "last run",
                f"{usage.backend} ({usage.model}): {usage.total_tokens:,} tokens "
                f"({usage.cached_tokens:,} cached) in {usage.requests:,} requests, "
                f"${usage.cost:.6f}",
            )
        )
    return rows


def _rows(docpack: Docpack, size: int) -> list[tuple[str, str]]:
    manifest = docpack.manifest
    stats = manifest.statistics
    statuses = Counter(symbol.documentation.status for symbol in docpack.symbols)
    reasons = Counter(
        symbol.documentation.reason or "unknown"
        for symbol in docpack.symbols
        if symbol.documentation.status == "failed"
    )
    optional = [
        name
        for name, present in (
            ("symbol contexts", manifest.optional.has_symbol_contexts),
            ("embeddings", manifest.optional.has_embeddings),
        )
        if present
    ]
    return [
        ("pack", f"{docpack.path} ({size:,} bytes)"),
        ("schema", manifest.schema_version),
        ("id", manifest.docpack_id),
        ("created", manifest.created_at.isoformat().replace("+00:00", "Z")),
        ("generator", f"{manifest.generator.name} {manifest.generator.version}"),
        ("source", _source(docpack)),
        ("files", str(stats.file_count)),
        (
            "symbols",
            f"{stats.symbol_count}: "
            + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())),
        ),
        ("documented", str(stats.documented_count)),
        (
            "failed",
            str(stats.failed_count)
            + (
                " (" + ", ".join(f"{r}={n}" for r, n in sorted(reasons.items())) + ")"
                if reasons
                else ""
            ),
        ),
        ("clusters", str(stats.cluster_count)),
        *_making(docpack),
        ("optional", ", ".join(optional) or "none"),
    ]


@click.command("inspect")
@click.argument("pack", type=click.Path(path_type=Path))
@json_option("Print the manifest and checks as JSON.")
def inspect_command(pack: Path, as_json: bool) -> None:
    """Show a pack's manifest, statistics and what its summaries cost, and verify its checksum.

    Exit status: 0 when the pack is intact, 1 when it cannot be read or was modified after it
    was written.
    """
    docpack = read_docpack(pack, verify=False)
    size = pack.stat().st_size
    if as_json:
        report = {
            "path": str(pack),
            "size_bytes": size,
            "verified": docpack.verified,
            "problems": list(docpack.problems),
            "manifest": docpack.manifest.model_dump(mode="json", by_alias=True),
        }
        click.echo(json.dumps(report, indent=2))
    else:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        for key, value in _rows(docpack, size):
            table.add_row(Text(key, style="bold"), Text(_shown(value)))
        algorithm = docpack.manifest.checksum.algorithm
        table.add_row(
            Text("checksum", style="bold"),
            Text(f"{algorithm} verified", style="green")
            if docpack.verified
            else Text(f"{algorithm} MISMATCH", style="bold red"),
        )
        stdout_console().print(table)
    if not docpack.verified:
        raise click.ClickException(
            f"{pack}: modified after it was written: {'; '.join(docpack.problems)}. "
            "Do not trust its content; rebuild it with `doctown build`."
        )

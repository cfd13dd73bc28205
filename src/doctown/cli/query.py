"""`doctown query PACK NAME_OR_ID`: one symbol's documentation, signature, callers and callees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from doctown.cli.options import json_option
from doctown.cli.pack_output import brief, display_name, location, safe, stdout_console
from doctown.docpack import Docpack, Related, Symbol, SymbolIndex, read_docpack
from doctown.docpack.overview_text import (
    CLUSTER_PREFIX,
    MODULE_PREFIX,
    REPOSITORY,
    OverviewIndex,
)
from doctown.freshness.status import SymbolFreshness
from doctown.pipeline.git import public_url

_STATUS_STYLE = {"documented": "green", "reused": "cyan", "failed": "red", "skipped": "yellow"}


def _related_json(related: Related) -> dict[str, Any]:
    if related.symbol is None:
        return {"id": related.id, "in_pack": False}
    return {**brief(related.symbol), "in_pack": True}


def _cluster_label(docpack: Docpack, symbol: Symbol) -> str | None:
    for cluster in docpack.content.clusters.clusters:
        if cluster.cluster_id == symbol.cluster_id:
            return cluster.label
    return None


def _print_related(console: Console, title: str, related: list[Related]) -> None:
    console.print(Text(f"{title} ({len(related)})", style="bold"))
    if not related:
        console.print("  none")
        return
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 2))
    for item in related:
        if item.symbol is None:
            table.add_row(Text(safe(item.id)), Text("not in this pack", style="dim"))
        else:
            table.add_row(Text(safe(display_name(item.symbol))), Text(safe(location(item.symbol))))
    console.print(table)


def _freshness_line(freshness: SymbolFreshness | None, source: str) -> Text:
    if freshness is None:
        return Text(safe(f"freshness: not documented, nor to be, in {source}"), style="dim")
    changed = f" ({', '.join(freshness.changed)})" if freshness.changed else ""
    style = "green" if freshness.state == "fresh" else "yellow"
    return Text(safe(f"freshness: {freshness.state}{changed} against {source}"), style=style)


def _print_symbol(
    console: Console,
    docpack: Docpack,
    index: SymbolIndex,
    symbol: Symbol,
    freshness: Text | None = None,
) -> None:
    doc = symbol.documentation
    start, end = symbol.byte_range
    console.print(Text(safe(display_name(symbol)), style="bold"))
    console.print(
        Text(
            safe(
                f"{symbol.kind} · {symbol.language} · {location(symbol)} (bytes {start}-{end})"
                + (" · test code" if symbol.test else "")
            ),
            style="dim",
        )
    )
    console.print(Text(safe(f"id {symbol.id}"), style="dim"))
    if symbol.signature:
        console.print(Text(safe(symbol.signature)))
    console.print()
    status = Text(doc.status, style=_STATUS_STYLE.get(doc.status, ""))
    if doc.reason:
        status.append(f" ({safe(doc.reason)})")
    console.print(status)
    if freshness is not None:
        console.print(freshness)
    for text in (doc.summary, doc.details, doc.message):
        if text:
            console.print(Text(safe(text)))
    if doc.provenance is not None:
        p = doc.provenance
        console.print(
            Text(
                safe(
                    f"by {p.backend} ({p.model}), prompt v{p.prompt_version or '?'}, "
                    f"{p.tokens} tokens, ${p.cost:.6f}"
                    + (", offline preview: often vague or wrong" if p.preview else "")
                ),
                style="dim",
            )
        )
    label = _cluster_label(docpack, symbol)
    if label:
        console.print(Text(safe(f"cluster: {label}"), style="dim"))
    console.print()
    _print_related(console, "calls", index.callees(symbol))
    _print_related(console, "called by", index.callers(symbol))
    if symbol.tested_by:
        _print_related(console, "tested by", index.testers(symbol))


def _print_overview(docpack: Docpack, pack: Path, ref: str, *, as_json: bool) -> None:
    index = OverviewIndex(docpack.content)
    if not index.present:
        raise click.ClickException(
            f"{pack} holds no overviews (built with --no-overviews, or by a doctown before "
            "docpack/1.1); rebuild it without --no-overviews."
        )
    text = index.text(ref)
    if text is None:
        listing = "doctown query PACK overview, module:PATH or cluster:ID"
        known = [f"module:{p}" for p in sorted(index.modules)[:10]]
        raise click.ClickException(
            f"no overview for {ref!r} in {pack} (try {listing}"
            + (f"; modules include {', '.join(known)}" if known else "")
            + ")."
        )
    if as_json:
        overview = (
            index.repository
            if ref == REPOSITORY
            else index.modules.get(ref.removeprefix(MODULE_PREFIX))
            if ref.startswith(MODULE_PREFIX)
            else index.clusters.get(ref.removeprefix(CLUSTER_PREFIX))
        )
        assert overview is not None
        dumped = overview.model_dump(mode="json")
        refs = _references(dumped)
        names = {r: index.name(r) for r in refs}
        click.echo(json.dumps({"ref": ref, "overview": dumped, "names": names}, indent=2))
        return
    stdout_console().print(Text(safe(text)))


def _references(dumped: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key in ("public_api", "key_symbols", "main_parts", "start_reading"):
        found += dumped.get(key) or []
    return list(dict.fromkeys(found))


@click.command("query")
@click.argument("pack", type=click.Path(path_type=Path))
@click.argument("name_or_id")
@click.option(
    "--source",
    default=None,
    help="Also say whether the summary still matches this code (a folder, archive or git URL).",
)
@click.option("--ref", default=None, help="With --source: its branch, tag or commit.")
@json_option("Print the symbol as JSON.")
def query_command(
    pack: Path, name_or_id: str, source: str | None, ref: str | None, as_json: bool
) -> None:
    """Show one symbol: documentation, status, signature, location, callers and callees,
    and the tests that call it ("tested by"). Or an overview: `overview` (the repository),
    `module:PATH` or `cluster:ID`.

    NAME_OR_ID is tried as a symbol id, a qualified name, a name, then as the end of a
    qualified name or id (`Cart.total`). When several symbols match, they are listed and the
    exit status is 1. With --source, its freshness against that code is shown too (as
    `doctown status` computes it).
    """
    docpack = read_docpack(pack, load_contexts=False)
    if name_or_id == REPOSITORY or name_or_id.startswith((MODULE_PREFIX, CLUSTER_PREFIX)):
        _print_overview(docpack, pack, name_or_id, as_json=as_json)
        return
    index = SymbolIndex(docpack.symbols)
    lookup = index.lookup(name_or_id)
    symbol = lookup.found
    if symbol is None and lookup.ambiguous:
        if as_json:
            candidates = [brief(s) for s in lookup.symbols]
            click.echo(json.dumps({"query": lookup.query, "candidates": candidates}, indent=2))
        else:
            table = Table("id", "name", "kind", "location")
            for candidate in lookup.symbols:
                table.add_row(
                    *(
                        Text(safe(value))
                        for value in (
                            candidate.id,
                            display_name(candidate),
                            candidate.kind,
                            location(candidate),
                        )
                    )
                )
            stdout_console().print(table)
        raise click.ClickException(
            f"{len(lookup.symbols)} symbols match {lookup.query!r}; pass an id, or more of the "
            "qualified name."
        )
    if symbol is None:
        raise click.ClickException(
            f"no symbol matches {lookup.query!r} in {pack}; find it with "
            f"`doctown search {pack} {lookup.query!r}`."
        )
    freshness = None
    if source is not None:
        # The analysis stack is loaded only when asked for: a plain query stays quick.
        from doctown.freshness.check import check_source

        freshness = check_source(docpack, source, ref=ref).of(symbol.id)
    if as_json:
        result = {
            "query": lookup.query,
            "matched_by": lookup.how,
            "location": location(symbol),
            "cluster_label": _cluster_label(docpack, symbol),
            "symbol": symbol.model_dump(mode="json", by_alias=True),
            "callees": [_related_json(r) for r in index.callees(symbol)],
            "callers": [_related_json(r) for r in index.callers(symbol)],
            "testers": [_related_json(r) for r in index.testers(symbol)],
        }
        if source is not None:
            result["freshness"] = freshness.to_json() if freshness is not None else None
        click.echo(json.dumps(result, indent=2))
    else:
        line = _freshness_line(freshness, public_url(source)) if source is not None else None
        _print_symbol(stdout_console(), docpack, index, symbol, line)

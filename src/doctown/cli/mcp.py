"""`doctown mcp PACK [PACK...]`: the packs as an MCP server, over stdio or streamable HTTP."""

from __future__ import annotations

from pathlib import Path

import click

from doctown.errors import MissingExtraError

DEFAULT_PORT = 8005
LOOPBACK = "127.0.0.1"


@click.command("mcp")
@click.argument("packs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--http", is_flag=True, help="Serve streamable HTTP on 127.0.0.1 (at /mcp) instead of stdio."
)
@click.option("--port", type=click.IntRange(1, 65_535), default=DEFAULT_PORT, show_default=True)
def mcp_command(packs: tuple[Path, ...], http: bool, port: int) -> None:
    """Answer coding agents from PACKS over the Model Context Protocol.

    Tools: search, symbol, callers, callees (with depth), file_outline, cluster, overview.
    Over stdio by default, as MCP clients start it; --http serves loopback only. Every pack
    is verified first, and one that fails is refused.
    """
    from doctown.docpack import read_docpack
    from doctown.site.catalog import Catalog

    try:
        from doctown.agents.server import build_server
    except ImportError as exc:
        raise MissingExtraError(f"The MCP SDK ({exc.name})", "mcp") from None
    catalogs = [Catalog(read_docpack(pack, load_contexts=False)) for pack in packs]
    for catalog in catalogs:
        catalog.search_index  # noqa: B018 - built before the first question
    server = build_server(catalogs)
    names = ", ".join(catalog.name for catalog in catalogs)
    if http:
        click.echo(f"doctown mcp: {names} on http://{LOOPBACK}:{port}/mcp", err=True)
        server.run("streamable-http", host=LOOPBACK, port=port)
    else:
        click.echo(f"doctown mcp: {names} on stdio", err=True)
        server.run("stdio")

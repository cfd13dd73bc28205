"""`doctown view PACK`: read a pack in the browser, served read-only on loopback."""

from __future__ import annotations

import threading
import time
import webbrowser
from pathlib import Path

import click

from doctown.pipeline.git import public_url

DEFAULT_PORT = 8004


def _open_when_ready(server: object, url: str) -> None:
    """Open the browser once uvicorn listens (it sets `started`), from a helper thread."""

    def wait() -> None:
        deadline = time.monotonic() + 30
        while not getattr(server, "started", False) and time.monotonic() < deadline:
            time.sleep(0.05)
        webbrowser.open(url)

    threading.Thread(target=wait, name="doctown-open-browser", daemon=True).start()


@click.command("view")
@click.argument("pack", type=click.Path(path_type=Path))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on; anything but loopback shows the pack to your network.",
)
@click.option("--port", type=click.IntRange(1, 65_535), default=DEFAULT_PORT, show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Open the overview in the browser.")
@click.option(
    "--source",
    default=None,
    help="Mark every summary fresh, stale, new or removed against this code (a folder, "
    "archive or git URL), as `doctown status` computes it.",
)
@click.option("--ref", default=None, help="With --source: its branch, tag or commit.")
def view_command(
    pack: Path, host: str, port: int, open_browser: bool, source: str | None, ref: str | None
) -> None:
    """Browse PACK's documentation: overview, files, symbols with their call neighbourhood,
    clusters and search as you type. Read-only; the pack is verified before anything is
    served, and a pack that fails verification is refused. With --source, each summary says
    whether it still matches that code."""
    import uvicorn

    from doctown.docpack import read_docpack
    from doctown.hosts import ALL_INTERFACES, LOOPBACK_NAMES
    from doctown.site import Catalog, create_site_app

    if ref is not None and source is None:
        raise click.UsageError("--ref applies to --source; name the code to compare with.")
    docpack = read_docpack(pack, load_contexts=False)
    freshness = None
    if source is not None:
        from doctown.freshness.check import check_source

        click.echo(f"doctown view: checking the pack against {public_url(source)}", err=True)
        freshness = check_source(docpack, source, ref=ref)
    catalog = Catalog(docpack, freshness=freshness, source=public_url(source) if source else None)
    catalog.search_index  # noqa: B018 - built now, not on the reader's first keystroke
    # A wildcard bind answers whatever name reaches it; a named one only to that name.
    allowed = None if host in ALL_INTERFACES else (*LOOPBACK_NAMES, host)
    app = create_site_app(catalog, allowed_hosts=allowed)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    click.echo(f"doctown view: {catalog.name}, {len(catalog.symbols):,} symbols on {url}", err=True)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    if open_browser:
        _open_when_ready(server, url)
    server.run()

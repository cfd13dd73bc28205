"""`doctown export PACK --format html|markdown|llms-txt -o DIR`: a pack as files to publish."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from doctown.cli.options import json_option

FORMATS = ("html", "markdown", "llms-txt")


@click.command("export")
@click.argument("pack", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "kind",
    type=click.Choice(FORMATS),
    required=True,
    help="html: a static site (works from file://); markdown: a page per module and an index; "
    "llms-txt: llms.txt and llms-full.txt for coding agents.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder to write; must be new, empty, or an earlier export (which is replaced).",
)
@json_option("Print what was written as JSON.")
def export_command(pack: Path, kind: str, output: Path, as_json: bool) -> None:
    """Write PACK's documentation as files. The same pack gives byte-identical files.

    A pack that fails verification is refused.
    """
    from doctown.docpack import read_docpack
    from doctown.export.html import export_html
    from doctown.export.llms_txt import export_llms_txt
    from doctown.export.markdown import export_markdown
    from doctown.site import Catalog

    writers = {"html": export_html, "markdown": export_markdown, "llms-txt": export_llms_txt}
    started = time.perf_counter()
    catalog = Catalog(read_docpack(pack, load_contexts=False))
    folder = writers[kind](catalog, output)
    seconds = time.perf_counter() - started
    if as_json:
        report = {
            "format": kind,
            "output": str(output),
            "files": folder.files,
            "bytes": folder.bytes,
            "processes": folder.processes,
            "symbols": len(catalog.symbols),
            "seconds": round(seconds, 3),
        }
        click.echo(json.dumps(report))
        return
    entry = {"html": "index.html", "markdown": "index.md", "llms-txt": "llms.txt"}[kind]
    click.echo(
        f"wrote {folder.files:,} files ({folder.bytes:,} bytes) for {len(catalog.symbols):,} "
        f"symbols in {seconds:.1f}s; open {output / entry}"
    )

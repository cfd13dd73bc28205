"""`doctown export --format html`: the viewer's pages as a static site.

The same templates as `doctown view`, with relative links between files, so the folder works
from `file://` and on any static host. Search runs in the browser over a prebuilt index
shipped as a script. The same pack gives byte-identical files: every page is rendered from
the pack alone, in a fixed order, with no clock and no randomness.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ProcessPoolExecutor
from importlib import resources
from multiprocessing import get_context
from pathlib import Path

from doctown.export.folder import ExportFolder, export_folder
from doctown.site import pages
from doctown.site.catalog import Catalog
from doctown.site.links import StaticLinks, StaticPaths, depth_of
from doctown.site.render import Renderer
from doctown.site.search import index_script

SEARCH_INDEX = "static/search-index.js"
DIAGRAM_ASSETS = ("mermaid", "diagram")
DEFAULT_WORKERS = os.cpu_count() or 1
# Below this many symbol pages, starting processes costs more than it saves.
PARALLEL_MIN_PAGES = 500


def export_html(
    catalog: Catalog, destination: Path, *, workers: int = DEFAULT_WORKERS
) -> ExportFolder:
    """Write every page of `catalog`'s pack under `destination` (replaced if it holds an
    earlier export); symbol pages are rendered in `workers` processes when there are many."""
    with export_folder(destination, "html") as folder:
        write_site(catalog, folder, workers=workers)
    return folder


def write_site(catalog: Catalog, folder: ExportFolder, *, workers: int = 1) -> None:
    """The pages, the assets and the search index, into `folder`."""
    paths = StaticPaths(
        (symbol.id for symbol in catalog.symbols),
        [*catalog.file_by_path, *catalog.by_file],
        catalog.cluster_by_id,
    )
    renderer = Renderer(catalog, mode="static")
    top = StaticLinks(paths, depth=0)
    folder.write("index.html", renderer.render(pages.overview_page(catalog, top), top))
    folder.write("files.html", renderer.render(pages.files_page(catalog), top))
    folder.write("clusters.html", renderer.render(pages.clusters_page(catalog, top), top))
    folder.write("search.html", renderer.render(pages.search_page(catalog, ""), top))
    flat = StaticLinks(paths, depth=1)
    for cluster in catalog.clusters:
        members = pages.cluster_page(catalog, cluster.cluster_id, flat)
        if members is not None:
            folder.write(paths.cluster(cluster.cluster_id), renderer.render(members, flat))
    for path in sorted({*catalog.file_by_path, *catalog.by_file}):
        target = paths.file(path)
        links = StaticLinks(paths, depth=depth_of(target))
        page = pages.file_page(catalog, path, links)
        if page is not None:
            folder.write(target, renderer.render(page, links))
    _write_symbol_pages(_SymbolPages(catalog, paths, renderer, folder), workers)
    assets = resources.files("doctown.site").joinpath("static")
    for asset in sorted(assets.iterdir(), key=lambda entry: entry.name):
        # The diagram renderer is large: only a site with a diagram to draw carries it.
        needed = catalog.overviews.present or not asset.name.startswith(DIAGRAM_ASSETS)
        if asset.is_file() and needed:
            folder.write(f"static/{asset.name}", asset.read_bytes())
    folder.write(
        SEARCH_INDEX, index_script(catalog.symbols, lambda symbol: paths.symbol(symbol.id))
    )


class _SymbolPages:
    """Renders and writes every `step`-th symbol page from `start`: one share of the work."""

    def __init__(
        self, catalog: Catalog, paths: StaticPaths, renderer: Renderer, folder: ExportFolder
    ) -> None:
        self.catalog, self.paths, self.renderer, self.folder = catalog, paths, renderer, folder

    def __call__(self, start: int, step: int) -> tuple[int, int]:
        links = StaticLinks(self.paths, depth=1)
        files, size = self.folder.files, self.folder.bytes
        for symbol in self.catalog.symbols[start::step]:
            made = pages.symbol_page(self.catalog, symbol.id, links)
            if made is not None:
                self.folder.write(self.paths.symbol(symbol.id), self.renderer.render(made, links))
        return self.folder.files - files, self.folder.bytes - size


# The work a forked process inherits: set just before the fork, read by `_share`.
_inherited: _SymbolPages | None = None


def _share(start: int, step: int) -> tuple[int, int]:
    assert _inherited is not None
    return _inherited(start, step)


def _write_symbol_pages(work: _SymbolPages, workers: int) -> None:
    global _inherited
    # Forked processes share the catalog without copying it; forking is only safe while no
    # other thread runs (a lock one holds would stay held in the child).
    alone = threading.active_count() == 1
    if workers <= 1 or len(work.catalog.symbols) < PARALLEL_MIN_PAGES or not alone:
        work(0, 1)
        return
    work.folder.processes = workers
    _inherited = work
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            shares = list(pool.map(_share, range(workers), [workers] * workers))
    finally:
        _inherited = None
    work.folder.files += sum(files for files, _ in shares)
    work.folder.bytes += sum(size for _, size in shares)

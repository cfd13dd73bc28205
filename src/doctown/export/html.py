"""`doctown export --format html`: the viewer's pages as a static site.

The same templates as `doctown view`, with relative links between files, so the folder works
from `file://` and on any static host. Search runs in the browser over a prebuilt index
shipped as a script. The same pack gives byte-identical files: every page is rendered from
the pack alone, in a fixed order, with no clock and no randomness.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from doctown.export.folder import ExportFolder, export_folder
from doctown.site import pages
from doctown.site.catalog import Catalog
from doctown.site.links import StaticLinks, StaticPaths, depth_of
from doctown.site.render import Renderer
from doctown.site.search import index_script

SEARCH_INDEX = "static/search-index.js"


def export_html(catalog: Catalog, destination: Path) -> ExportFolder:
    """Write every page of `catalog`'s pack under `destination` (replaced if it holds an
    earlier export)."""
    with export_folder(destination, "html") as folder:
        write_site(catalog, folder)
    return folder


def write_site(catalog: Catalog, folder: ExportFolder) -> None:
    """The pages, the assets and the search index, into `folder`."""
    paths = StaticPaths(
        (symbol.id for symbol in catalog.symbols),
        [*catalog.file_by_path, *catalog.by_file],
        catalog.cluster_by_id,
    )
    renderer = Renderer(catalog, mode="static")
    top = StaticLinks(paths, depth=0)
    folder.write("index.html", renderer.render(pages.overview_page(catalog), top))
    folder.write("files.html", renderer.render(pages.files_page(catalog), top))
    folder.write("clusters.html", renderer.render(pages.clusters_page(catalog, top), top))
    folder.write("search.html", renderer.render(pages.search_page(catalog, ""), top))
    flat = StaticLinks(paths, depth=1)
    for cluster in catalog.clusters:
        members = pages.cluster_page(catalog, cluster.cluster_id)
        if members is not None:
            folder.write(paths.cluster(cluster.cluster_id), renderer.render(members, flat))
    for path in sorted({*catalog.file_by_path, *catalog.by_file}):
        target = paths.file(path)
        page = pages.file_page(catalog, path)
        if page is not None:
            links = StaticLinks(paths, depth=depth_of(target))
            folder.write(target, renderer.render(page, links))
    for symbol in catalog.symbols:
        made = pages.symbol_page(catalog, symbol.id, flat)
        if made is not None:
            folder.write(paths.symbol(symbol.id), renderer.render(made, flat))
    assets = resources.files("doctown.site").joinpath("static")
    for asset in sorted(assets.iterdir(), key=lambda entry: entry.name):
        if asset.is_file():
            folder.write(f"static/{asset.name}", asset.read_bytes())
    folder.write(
        SEARCH_INDEX, index_script(catalog.symbols, lambda symbol: paths.symbol(symbol.id))
    )

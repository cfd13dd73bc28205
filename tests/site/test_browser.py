"""The pages as people see them: Debian's Chromium, driven by Playwright.

Every link of `doctown view` and of an exported site is followed (no 404, no console error),
search is driven from the keyboard, the graph is looked at, the hostile pack must render as
text, and screenshots at desktop and phone widths are kept in the test's folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from doctown.export.html import export_html
from doctown.site import Catalog, create_site_app
from doctown.testing import ThreadedServer
from tests.site.browser import DESKTOP, FLAGS, PHONE, chromium_path, crawl, watch
from tests.site.hostile import IMAGE, SCRIPT

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium_path()
    with (
        tempfile.TemporaryDirectory(prefix="doctown-chromium-") as profile,
        sync_api.sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=executable, args=FLAGS, headless=True, viewport=DESKTOP
        )
        yield context
        context.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    page = browser.new_page()
    yield page
    page.close()


@pytest.fixture(scope="module")
def viewer(real: Catalog) -> Iterator[str]:
    with ThreadedServer(create_site_app(real)) as server:
        yield server.url


def test_every_link_of_the_viewer_opens_without_errors(page, viewer: str, real: Catalog) -> None:  # type: ignore[no-untyped-def]
    seen = watch(page)
    statuses = crawl(page, viewer + "/", inside=lambda url: url.startswith(viewer))
    assert [url for url, status in statuses.items() if status != 200] == []
    assert len(statuses) > len(real.symbols)  # every symbol, file and cluster page, and more
    assert seen.errors == []
    assert all(url.startswith(viewer) for url in seen.requests)  # nothing from elsewhere


def test_every_link_of_the_exported_site_opens_from_file(
    page, real: Catalog, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    export_html(real, tmp_path / "site")
    root = (tmp_path / "site").as_uri()
    seen = watch(page)
    statuses = crawl(page, f"{root}/index.html", inside=lambda url: url.startswith(root))
    assert [url for url, status in statuses.items() if status != 200] == []
    assert len(statuses) > len(real.symbols)
    assert seen.errors == []


def test_search_from_the_keyboard_in_the_viewer(page, viewer: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen = watch(page)
    page.goto(viewer + "/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-input"
    page.keyboard.type("read docpa")
    results = page.locator("#search-results li[role=option]")
    # Results follow each keystroke: wait for the ones of the whole query.
    expect(results.first).to_contain_text("doctown.docpack.reader.read_docpack")
    page.keyboard.press("ArrowDown")
    assert page.locator("#search-results li[aria-selected=true]").count() == 1
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_url("**/symbol/**")
    assert page.locator("h1").inner_text().startswith("read_docpack")
    assert seen.errors == []


def test_search_as_you_type_in_the_exported_site(page, real: Catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    export_html(real, tmp_path / "site")
    seen = watch(page)
    page.goto((tmp_path / "site" / "files.html").as_uri())
    page.locator("#search-input").click()
    page.keyboard.type("tokeni")
    first = page.locator("#search-results li[role=option]").first
    expect(first).to_contain_text("doctown.docpack.search.tokenize")
    page.keyboard.press("Enter")
    page.wait_for_url("**/symbol/*.html")
    assert page.locator("h1").inner_text().startswith("tokenize")
    # The search page of a static site reads ?q= and ranks in the browser.
    page.goto((tmp_path / "site" / "search.html").as_uri() + "?q=tokenize")
    expect(page.locator("#search-page-results li").first).to_contain_text("tokenize")
    assert seen.errors == []


def test_the_graph_renders_and_its_nodes_are_links(page, viewer: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(viewer + "/symbol/src/doctown/docpack/reader.py::read_docpack")
    graph = page.locator("svg.neighbourhood")
    box = graph.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 50
    callees = graph.locator("a.node.callee")
    assert callees.count() >= 3
    callees.first.click()
    page.wait_for_url("**/symbol/**")
    assert "read_docpack" in page.locator("#callers").locator("xpath=..").inner_text()
    page.go_back()
    page.set_viewport_size(PHONE)
    # On a phone the graph keeps its size and scrolls sideways.
    assert graph.bounding_box()["width"] > PHONE["width"]  # type: ignore[index]
    page.set_viewport_size(DESKTOP)


def test_the_hostile_pack_renders_as_text(page, hostile: Catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    export_html(hostile, tmp_path / "site")
    with ThreadedServer(create_site_app(hostile)) as server:
        seen = watch(page)
        visited = crawl(page, server.url + "/", inside=lambda url: url.startswith(server.url))
        visited |= crawl(
            page,
            (tmp_path / "site" / "index.html").as_uri(),
            inside=lambda url: url.startswith((tmp_path / "site").as_uri()),
        )
        for url in [u for u in visited if "/symbol/" in u or "/cluster" in u]:
            page.goto(url)
            assert page.evaluate("window.pwned") is None, url
        page.goto(server.url + "/search?q=pwned")
        page.locator("#search-input").fill("window pwned")
        page.locator("#search-results li[role=option]").first.wait_for()
        assert page.evaluate("window.pwned") is None
        page.goto(server.url + "/clusters")
        assert SCRIPT in page.locator("main").inner_text()
        shown = page.locator("svg.clustermap text").first.text_content() or ""
        assert shown.startswith("<script>")
        page.goto(server.url + "/")
        assert IMAGE in page.locator("main").inner_text()
    # The payload's image would ask for /pwned (file:///pwned from the export).
    assert [url for url in seen.requests if urlsplit(url).path == "/pwned"] == []
    assert [e for e in seen.errors if "Content Security Policy" in e] == []


def test_screenshots_at_desktop_and_phone_widths(page, viewer: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shots = tmp_path / "screenshots"
    shots.mkdir()
    views = {
        "overview": "/",
        "symbol": "/symbol/src/doctown/docpack/search.py::SearchIndex.search",
        "search": "/search?q=read",
    }
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        for name, path in views.items():
            page.goto(viewer + path)
            if name == "search":
                page.locator("#search-input").fill("read doc")
                page.locator("#search-results li[role=option]").first.wait_for()
            page.screenshot(path=str(shots / f"{name}-{width}.png"))
    taken = sorted(p.name for p in shots.iterdir())
    assert len(taken) == 6 and all((shots / name).stat().st_size > 10_000 for name in taken)
    print(f"screenshots in {shots}")


def test_overviews_lead_the_landing_module_and_cluster_pages(  # type: ignore[no-untyped-def]
    page, viewer: str, real: Catalog
) -> None:
    seen = watch(page)
    page.goto(viewer + "/")
    about = page.locator("section.about")
    assert "Gives an overview of the Repository" in about.inner_text()
    # Mermaid draws the diagram under the strict policy; every node is a link to its cluster.
    drawn = page.locator("#architecture svg g.node")
    drawn.first.wait_for()
    nodes = drawn.count()
    assert 1 < nodes <= 25 and page.locator("#architecture svg a g.node").count() == nodes
    assert page.locator("#architecture-source").is_hidden()
    box = page.locator("#architecture svg").bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 50
    page.locator("#architecture svg a").first.click()
    page.wait_for_url("**/cluster/**")
    assert page.locator("section.about").count() == 1
    assert page.locator("section.about a.name").count() >= 1  # key symbols are links
    page.goto(viewer + "/file/src/doctown/docpack/reader.py")
    module = page.locator("section.about")
    assert "Gives an overview of the Module src/doctown/docpack/reader.py." in module.inner_text()
    module.locator("a.name").first.click()
    page.wait_for_url("**/symbol/**")
    assert seen.errors == []
    # The viewer draws the diagram from the pack's graph: the same text the writer stored.
    assert real.pack.content.overviews is not None
    assert real.diagram == real.pack.content.overviews.diagram

"""The static site: every page, relative links that all resolve, the search index, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doctown.docpack import read_docpack, write_docpack
from doctown.errors import InputError
from doctown.export.html import DEFAULT_WORKERS, PARALLEL_MIN_PAGES, export_html
from doctown.site import Catalog
from tests.cli.process import doctown
from tests.docpack.factory import CREATED_AT, SOURCE, synthetic_content
from tests.export.links import broken_links, parse
from tests.site.hostile import PAYLOADS


def files_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_every_page_is_written_and_every_link_resolves(shop: Catalog, tmp_path: Path) -> None:
    folder = export_html(shop, tmp_path / "site")
    site = tmp_path / "site"
    written = files_of(site)
    assert folder.files == len(written) and folder.bytes == sum(map(len, written.values()))
    for page in ("index.html", "files.html", "clusters.html", "search.html"):
        assert page in written
    assert "file/src/shop/cart.py.html" in written
    assert sum(name.startswith("symbol/") for name in written) == len(shop.symbols)
    assert sum(name.startswith("cluster/") for name in written) == 2
    assert broken_links(site) == []
    total = next(n for n in written if n.startswith("symbol/") and "Cart.total" in n)
    page = parse(site / total)
    assert "../file/src/shop/cart.py.html#L22" in page.targets
    assert "../static/search.js" in page.targets
    policy = written["index.html"].decode()
    assert 'http-equiv="Content-Security-Policy"' in policy and "unsafe-inline" not in policy


def test_the_search_index_is_a_script_of_every_symbol(shop: Catalog, tmp_path: Path) -> None:
    export_html(shop, tmp_path / "site")
    script = (tmp_path / "site/static/search-index.js").read_text()
    assert script.startswith("window.doctownSearchIndex = ") and script.endswith(";\n")
    rows = json.loads(script.removeprefix("window.doctownSearchIndex = ").removesuffix(";\n"))
    by_name = {row[1]: row for row in rows["symbols"]}
    assert len(by_name) == len(shop.symbols)
    assert by_name["shop.pricing.unit_price"][4] == "(failed)"
    assert (tmp_path / "site" / by_name["shop.cart.Cart.total"][6]).is_file()


def test_the_same_pack_gives_byte_identical_sites(shop: Catalog, tmp_path: Path) -> None:
    export_html(shop, tmp_path / "a")
    export_html(shop, tmp_path / "b")
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")


def test_hostile_text_stays_text(hostile: Catalog, tmp_path: Path) -> None:
    export_html(hostile, tmp_path / "site")
    assert broken_links(tmp_path / "site") == []
    for name, data in files_of(tmp_path / "site").items():
        if name.endswith(".html"):
            html = data.decode()
            for payload in PAYLOADS[:2]:
                assert payload not in html, name
            assert 'href="javascript' not in html
    index = (tmp_path / "site/static/search-index.js").read_text()
    assert "<" not in index and r"\u003cscript" in index


def test_an_export_replaces_only_an_earlier_export(shop: Catalog, tmp_path: Path) -> None:
    site = tmp_path / "site"
    export_html(shop, site)
    (site / "stale.html").write_text("old")
    export_html(shop, site)
    assert not (site / "stale.html").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(InputError, match="not empty"):
        export_html(shop, mine)
    assert (mine / "notes.txt").read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_large_packs_render_in_several_processes_to_the_same_files(tmp_path: Path) -> None:
    pack = tmp_path / "large.docpack"
    write_docpack(pack, synthetic_content(PARALLEL_MIN_PAGES), source=SOURCE, created_at=CREATED_AT)
    out = tmp_path / "parallel"
    # A fresh process: forking is only chosen while no other thread runs.
    result = doctown("export", str(pack), "--format", "html", "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["processes"] == DEFAULT_WORKERS
    alone = export_html(Catalog(read_docpack(pack)), tmp_path / "alone", workers=1)
    assert alone.processes == 1
    assert files_of(out) == files_of(tmp_path / "alone")
    assert report["files"] == alone.files and report["bytes"] == alone.bytes

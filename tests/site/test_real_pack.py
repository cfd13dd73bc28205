"""Pages of a pack built from real code: every symbol renders, tests show as "tested by"."""

from __future__ import annotations

from doctown.site import Catalog
from doctown.site.links import ServerLinks
from doctown.site.pages import file_page, symbol_page
from doctown.site.render import Renderer


def test_every_symbol_and_file_of_a_real_pack_renders(real: Catalog) -> None:
    renderer = Renderer(real, mode="server")
    links = ServerLinks()
    for symbol in real.symbols:
        page = symbol_page(real, symbol.id, links)
        assert page is not None
        assert symbol.name in renderer.render(page, links)
    for path in real.by_file:
        page = file_page(real, path, links)
        assert page is not None and path in renderer.render(page, links)


def test_tests_of_a_real_pack_are_tested_by(real: Catalog) -> None:
    lookup = real.index.lookup("doctown.docpack.search.SearchIndex.search").found
    assert lookup is not None and lookup.tested_by
    assert all(real.index.get(t).test for t in lookup.tested_by)  # type: ignore[union-attr]
    assert not set(lookup.tested_by) & set(lookup.called_by)
    assert real.statistics.tests > 0
    assert real.is_test_file("tests/docpack/test_search.py")

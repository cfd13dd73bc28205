"""A pack indexed for pages: statistics, the tree, anchors, clusters and related symbols."""

from __future__ import annotations

from pathlib import Path

from doctown.docpack import read_docpack, write_docpack
from doctown.site import Catalog, Renderer
from doctown.site.links import ServerLinks
from doctown.site.pages import overview_page, symbol_page
from tests.docpack.factory import CREATED_AT, SOURCE, sample_content


def test_statistics_and_languages(shop: Catalog) -> None:
    stats = shop.statistics
    assert (stats.symbols, stats.documented, stats.reused, stats.failed, stats.skipped) == (
        9,
        6,
        1,
        1,
        1,
    )
    assert stats.tests == 0
    assert shop.languages == [("python", 2, 9)]
    assert shop.name == "shop" and not shop.preview
    made = shop.authorship
    assert [(w.backend, w.model, w.summaries) for w in made.writers] == [
        ("openai", "gpt-5-mini", 6)
    ]
    assert (made.input_tokens, made.output_tokens) == (1_800, 240)


def test_files_tree_and_anchors(shop: Catalog) -> None:
    src = shop.tree.folders[0]
    assert (src.name, src.file_count) == ("src", 2)
    assert [f.file_path for f in src.folders[0].files] == [
        "src/shop/cart.py",
        "src/shop/pricing.py",
    ]
    assert [s.name for s in shop.by_file["src/shop/cart.py"]][:3] == ["cart", "Cart", "add_item"]
    assert shop.anchors["py:shop.cart.Cart.total"] == "L22"


def test_clusters_rank_members_and_count_calls_between_them(shop: Catalog) -> None:
    assert [c.cluster_id for c in shop.clusters] == ["checkout", "pricing"]
    assert shop.cluster_edges == {("checkout", "pricing"): 3}


def test_related_symbols_share_callers_or_a_cluster(shop: Catalog) -> None:
    discount = shop.index.get("py:shop.pricing.compute_discount")
    assert discount is not None
    related = [s.name for s in shop.related(discount)]
    # unit_price shares the caller Cart.total; then the pricing cluster's leaders.
    assert related[0] == "unit_price" and "compute_discount" not in related
    assert "total" not in related  # already its caller


def test_packs_written_by_the_embedded_model_say_so_on_every_page(tmp_path: Path) -> None:
    content = sample_content()
    for node in content.nodes.symbols:
        provenance = node.documentation.provenance
        if provenance is not None:
            node.documentation.provenance = provenance.model_copy(
                update={"backend": "local", "model": "SmolLM2-135M-Instruct-Q4_1", "preview": True}
            )
    write_docpack(tmp_path / "preview.docpack", content, source=SOURCE, created_at=CREATED_AT)
    preview = Catalog(read_docpack(tmp_path / "preview.docpack"))
    assert preview.preview
    renderer, links = Renderer(preview, mode="server"), ServerLinks()
    for page in (overview_page(preview, links), symbol_page(preview, "py:shop.cart.Cart", links)):
        assert page is not None
        assert "Offline preview." in renderer.render(page, links)

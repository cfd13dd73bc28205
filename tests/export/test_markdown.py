"""Markdown pages and llms.txt: working relative links, inert text, byte-identical output."""

from __future__ import annotations

import re
from pathlib import Path

from doctown.export.llms_txt import export_llms_txt
from doctown.export.markdown import code, export_markdown, fence, text
from doctown.site import Catalog
from tests.export.test_html import files_of
from tests.site.hostile import IMAGE, SCRIPT

_LINK = re.compile(r"(?<!\\)\]\(([^)\s]+)\)")  # an escaped \] opens no link


def broken_markdown_links(root: Path) -> list[str]:
    broken = []
    pages = sorted(root.rglob("*.md")) + sorted(root.glob("*.txt"))
    for page in pages:
        for target in _LINK.findall(page.read_text()):
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.is_file():
                broken.append(f"{page.name} -> {target}")
            elif anchor and f'<a id="{anchor}"></a>' not in file.read_text():
                broken.append(f"{page.name} -> {target} (no such anchor)")
    return broken


def test_markdown_pages_link_to_each_other(shop: Catalog, tmp_path: Path) -> None:
    export_markdown(shop, tmp_path / "md")
    written = files_of(tmp_path / "md")
    assert sorted(written) == [
        ".doctown-export",
        "index.md",
        "src/shop/cart.py.md",
        "src/shop/pricing.py.md",
    ]
    assert broken_markdown_links(tmp_path / "md") == []
    cart = written["src/shop/cart.py.md"].decode()
    assert cart.startswith("# `src/shop/cart.py`\n\nShopping cart: the items")
    assert (
        "| [`total`](#L22) | method | 22 | Sums the prices of the items, less any discount. |"
        in cart
    )
    assert "```python\ndef total(self) -> Decimal\n```" in cart
    assert "**Calls:** [`shop.pricing.unit_price`](../../src/shop/pricing.py.md#L17)" in cart
    assert "`py:decimal.Decimal` (not in this pack)" in cart
    pricing = written["src/shop/pricing.py.md"].decode()
    assert "*Not documented: the model refused*" in pricing
    index = written["index.md"].decode()
    assert "- [src/shop/cart.py](src/shop/cart.py.md): Shopping cart" in index
    export_markdown(shop, tmp_path / "again")
    assert files_of(tmp_path / "again") == written


def test_llms_txt_follows_the_convention(shop: Catalog, tmp_path: Path) -> None:
    export_llms_txt(shop, tmp_path / "llms")
    written = files_of(tmp_path / "llms")
    llms = written["llms.txt"].decode()
    title, blank, quote = llms.split("\n")[:3]
    assert title == "# shop" and blank == "" and quote.startswith("> Documentation of ")
    assert "## Modules\n\n- [src/shop/cart.py](src/shop/cart.py.md): Shopping cart" in llms
    assert "- [llms-full.txt](llms-full.txt): every module in one file" in llms
    full = written["llms-full.txt"].decode()
    assert full.count("\n## `src/shop/") == 2 and "\n### `shop.cart.Cart.total`" in full
    assert "](" not in full  # one file: names, no links
    assert "**Calls:** `shop.pricing.unit_price`, `shop.pricing.compute_discount`" in full
    assert broken_markdown_links(tmp_path / "llms") == []
    export_llms_txt(shop, tmp_path / "again")
    assert files_of(tmp_path / "again") == written


def test_pack_text_cannot_become_markdown_or_html(hostile: Catalog, tmp_path: Path) -> None:
    assert text("# [x](javascript:y) *z* <b>") == r"\# \[x\](javascript:y) \*z\* &lt;b&gt;"
    assert text("1. a\nb") == r"1\. a b"
    assert code("a`b") == "``a`b``"
    assert fence("```\nx", "Python") == "````python\n```\nx\n````"
    export_markdown(hostile, tmp_path / "md")
    for name, data in files_of(tmp_path / "md").items():
        page = data.decode()
        # Fences and code spans show text literally: only the prose around them can be markup.
        prose = re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "", page, flags=re.S | re.M)
        prose = re.sub(r"(`+).*?\1", "", prose)
        for payload in (SCRIPT, IMAGE, "<b>"):
            assert payload not in prose, name
    assert broken_markdown_links(tmp_path / "md") == []


def test_overviews_lead_the_index_module_pages_and_llms_txt(tmp_path: Path) -> None:
    from doctown.docpack import read_docpack
    from tests.docpack.factory import write_sample_with_overviews

    write_sample_with_overviews(tmp_path / "shop.docpack")
    catalog = Catalog(read_docpack(tmp_path / "shop.docpack"))
    export_markdown(catalog, tmp_path / "md")
    assert broken_markdown_links(tmp_path / "md") == []
    index = (tmp_path / "md" / "index.md").read_text()
    assert "## Overview\n\nA small shop: carts that total their items" in index
    assert "**Main parts:** [`Checkout`](index.md#cluster-checkout)" in index
    assert "**Start reading:** [`shop.cart.Cart`](src/shop/cart.py.md#L5)" in index
    assert "## Architecture\n\n```mermaid\nflowchart LR\n" in index
    assert '<a id="cluster-checkout"></a>**Checkout** (5)' in index
    cart = (tmp_path / "md" / "src/shop/cart.py.md").read_text()
    assert "**Overview.** Holds the cart a customer fills and totals." in cart
    assert "**Public API:** [`shop.cart.Cart`](../../src/shop/cart.py.md#L5)" in cart
    pricing = (tmp_path / "md" / "src/shop/pricing.py.md").read_text()
    assert "**Overview.** *No overview (refusal).*" in pricing
    export_llms_txt(catalog, tmp_path / "llms")
    assert broken_markdown_links(tmp_path / "llms") == []
    llms = (tmp_path / "llms" / "llms.txt").read_text()
    assert "## Overview\n\nA small shop" in llms and "## Parts" in llms
    assert "[`Checkout`](llms.txt#cluster-checkout)" in llms
    full = (tmp_path / "llms" / "llms-full.txt").read_text()
    assert "A small shop" in full and "```mermaid" in full

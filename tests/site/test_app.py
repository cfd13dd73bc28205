"""The viewer over real sockets: every page kind, search, headers, hosts and prefixes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from doctown.site import Catalog, create_site_app
from doctown.site.links import url_part
from doctown.testing import ThreadedServer
from tests.site.hostile import HOSTILE_FILE, IMAGE, LINK, PAYLOADS, SCRIPT


@pytest.fixture
def served(shop: Catalog) -> Iterator[httpx2.Client]:
    with (
        ThreadedServer(create_site_app(shop)) as server,
        httpx2.Client(base_url=server.url) as client,
    ):
        yield client


def test_every_page_kind_answers_with_the_pack_text(served: httpx2.Client) -> None:
    pages = {
        "/": "Holds the items of one order",
        "/files": "cart.py",
        "/file/src/shop/cart.py": "Adds a quantity of one product to the cart.",
        "/symbol/py:shop.cart.Cart.total": "Sums the prices of the items, less any discount.",
        "/clusters": "checkout",
        "/cluster/pricing": "Works out the refund a coupon grants",
        "/search?q=coupon": "compute_discount",
    }
    for path, text in pages.items():
        response = served.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert text in response.text, path


def test_symbol_page_has_relations_graph_and_failure_reason(served: httpx2.Client) -> None:
    total = served.get("/symbol/py:shop.cart.Cart.total").text
    assert 'href="/symbol/py:shop.pricing.compute_discount"' in total
    assert "py:decimal.Decimal" in total and "not in this pack" in total
    assert total.count('class="node callee"') == 2  # the two callees in the pack
    assert 'href="/file/src/shop/cart.py#L22"' in total
    failed = served.get("/symbol/py:shop.pricing.unit_price").text
    assert "Not documented: the model refused" in failed
    assert "py:shop.cart.Cart.add_item" in failed  # its caller


def test_missing_pages_are_404_in_the_frame(served: httpx2.Client) -> None:
    for path in ("/symbol/py:nope", "/file/nope.py", "/cluster/nope", "/elsewhere"):
        response = served.get(path)
        assert response.status_code == 404
        assert "Back to the overview" in response.text


def test_read_only_and_strict_headers(served: httpx2.Client) -> None:
    assert served.post("/search", data={"q": "x"}).status_code == 405
    headers = served.get("/").headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert served.get("/static/search.js").headers["content-security-policy"] == policy


def test_unknown_host_headers_are_refused(served: httpx2.Client) -> None:
    assert served.get("/", headers={"host": "evil.example"}).status_code == 400
    assert served.get("/", headers={"host": "localhost:8004"}).status_code == 200
    assert served.get("/", headers={"host": "[::1]:8004"}).status_code == 200


def test_search_json_ranks_as_you_type(served: httpx2.Client) -> None:
    body = served.get("/search.json", params={"q": "compute_disc"}).json()
    first = body["results"][0]
    assert first["name"] == "shop.pricing.compute_discount"
    assert first["url"] == "/symbol/py:shop.pricing.compute_discount"
    assert first["location"] == "src/shop/pricing.py:3"
    assert served.get("/search.json", params={"q": "x", "limit": "many"}).status_code == 422
    long = served.get("/search.json", params={"q": "a" * 10_000}).json()
    assert len(long["query"]) == 200


def test_the_app_mounts_under_a_prefix(shop: Catalog) -> None:
    outer = Starlette(routes=[Mount("/packs/shop", app=create_site_app(shop))])
    with ThreadedServer(outer) as server, httpx2.Client(base_url=server.url) as client:
        page = client.get("/packs/shop/symbol/py:shop.cart.Cart.total").text
        assert 'href="/packs/shop/symbol/py:shop.pricing.compute_discount"' in page
        assert 'href="/packs/shop/static/layout.css"' in page
        assert client.get("/packs/shop/static/layout.css").status_code == 200
        found = client.get("/packs/shop/search.json", params={"q": "load"}).json()
        assert all(r["url"].startswith("/packs/shop/symbol/") for r in found["results"])


def test_hostile_text_is_escaped_everywhere(hostile: Catalog) -> None:
    with (
        ThreadedServer(create_site_app(hostile)) as server,
        httpx2.Client(base_url=server.url) as client,
    ):
        paths = [
            "/",
            "/files",
            "/clusters",
            f"/cluster/{url_part(LINK)}",
            f"/file/{url_part(HOSTILE_FILE)}",
            f"/symbol/{url_part('py:evil.' + SCRIPT)}",
            f"/symbol/{url_part('py:fine.' + IMAGE)}",
            "/search?q=window",
        ]
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            for payload in PAYLOADS[:2]:
                assert payload not in response.text, (path, payload)
            assert 'href="javascript' not in response.text
            assert "<script>window" not in response.text
        assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in client.get(paths[5]).text

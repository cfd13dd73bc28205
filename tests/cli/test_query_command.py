from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from doctown.docpack import Nodes, write_docpack
from tests.cli.process import doctown, invoke
from tests.docpack.factory import (
    CART,
    CREATED_AT,
    SOURCE,
    documented,
    sample_content,
    symbol,
    write_sample,
)


def test_query_shows_one_symbol_with_its_callers_and_callees(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    result = doctown("query", str(tmp_path / "shop.docpack"), "Cart.total")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "shop.cart.Cart.total",
        "method · python · src/shop/cart.py:22",
        "def total(self) -> Decimal",
        "documented",
        "Sums the prices of the items, less any discount.",
        "by openai (gpt-5-mini), prompt v2",
        "cluster: checkout",
        "calls (3)",
        "shop.pricing.compute_discount",
        "src/shop/pricing.py:3",
        "py:decimal.Decimal",
        "not in this pack",
        "called by (0)",
    ):
        assert expected in out


def test_query_json_of_a_failed_symbol(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    result = invoke("query", str(tmp_path / "shop.docpack"), "py:shop.pricing.unit_price", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["matched_by"] == "id"
    documentation = answer["symbol"]["documentation"]
    assert (documentation["status"], documentation["reason"]) == ("failed", "refusal")
    assert documentation["summary"] is None
    assert [c["qualified_name"] for c in answer["callers"]] == [
        "shop.cart.Cart.add_item",
        "shop.cart.Cart.total",
    ]
    assert answer["location"] == "src/shop/pricing.py:17"


def test_query_lists_the_candidates_of_an_ambiguous_name(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    result = invoke("query", str(tmp_path / "shop.docpack"), "load")
    assert result.returncode == 1
    assert "py:shop.cart.load" in result.stdout and "py:shop.pricing.load" in result.stdout
    assert "2 symbols match 'load'" in result.stderr
    as_json = invoke("query", str(tmp_path / "shop.docpack"), "load", "--json")
    assert as_json.returncode == 1
    assert [c["id"] for c in json.loads(as_json.stdout)["candidates"]] == [
        "py:shop.cart.load",
        "py:shop.pricing.load",
    ]


def test_query_for_an_unknown_name_points_to_search(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    result = invoke("query", str(tmp_path / "shop.docpack"), "checkout")
    assert result.returncode == 1
    assert "no symbol matches 'checkout'" in result.stderr
    assert "doctown search" in result.stderr


def test_query_shows_escape_sequences_from_a_pack_instead_of_running_them(
    tmp_path: Path,
) -> None:
    hostile = symbol(
        "shop.cart.clear",
        file_path=CART,
        lines=(52, 58),
        documentation=documented("Empties the cart.\x1b[2J\x1b]0;owned\x07 [bold]done[/bold]"),
    )
    content = sample_content()
    content = dataclasses.replace(content, nodes=Nodes(symbols=[*content.nodes.symbols, hostile]))
    write_docpack(tmp_path / "shop.docpack", content, source=SOURCE, created_at=CREATED_AT)
    result = invoke("query", str(tmp_path / "shop.docpack"), "clear")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "Empties the cart.\\x1b[2J\\x1b]0;owned\\x07 [bold]done[/bold]" in result.stdout


def test_query_with_a_source_says_whether_the_summary_still_holds(tmp_path: Path) -> None:
    from tests.freshness.conftest import build_pack, edit
    from tests.pipeline.conftest import write_repo

    repo = write_repo(tmp_path / "repo")
    built = build_pack(repo, tmp_path / "shop.docpack")
    edit(repo / "shop" / "cart.py", "self.items.append(price)", "self.items.append(-price)")
    pack = str(built.pack.path)
    stale = invoke("query", pack, "Cart.add", "--source", str(repo))
    assert stale.returncode == 0 and "freshness: stale (body" in stale.stdout
    fresh = invoke("query", pack, "apply_discount", "--source", str(repo), "--json")
    assert json.loads(fresh.stdout)["freshness"]["state"] == "fresh"
    plain = json.loads(invoke("query", pack, "apply_discount", "--json").stdout)
    assert "freshness" not in plain


def test_query_with_a_source_url_never_shows_its_password(tmp_path: Path) -> None:
    import subprocess

    from tests.freshness.conftest import build_pack, edit
    from tests.pipeline.conftest import write_repo

    repo = write_repo(tmp_path / "repo")
    built = build_pack(repo, tmp_path / "shop.docpack")
    edit(repo / "shop" / "cart.py", "self.items.append(price)", "self.items.append(-price)")
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "negative"], check=True)
    bare = tmp_path / "shop.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    url = f"file://builder:S3CRET-PASS@localhost{bare}"
    shown = invoke("query", str(built.pack.path), "Cart.add", "--source", url)
    assert shown.returncode == 0 and "freshness: stale (body" in shown.stdout, shown.stdout
    assert f"file://localhost{bare}" in " ".join(shown.stdout.split()).replace(" ", "")
    assert "S3CRET" not in shown.stdout + shown.stderr


def test_query_prints_the_overviews(tmp_path: Path) -> None:
    from tests.docpack.factory import write_sample_with_overviews

    pack = tmp_path / "shop.docpack"
    write_sample_with_overviews(pack)
    repository = doctown("query", str(pack), "overview")
    assert repository.returncode == 0, repository.stderr
    for expected in (
        "repository overview",
        "A small shop: carts that total their items",
        "main parts\n  cluster:checkout  Checkout\n  cluster:pricing  pricing",
        "start reading\n  py:shop.cart.Cart  shop.cart.Cart",
        "entry points\n  package  shop  module:src/shop/cart.py",
    ):
        assert expected in repository.stdout
    module = doctown("query", str(pack), "module:src/shop/cart.py")
    assert "public API\n  py:shop.cart.Cart  shop.cart.Cart" in module.stdout
    assert "depends on: src/shop/pricing.py" in module.stdout
    cluster = doctown("query", str(pack), "cluster:checkout", "--json")
    found = json.loads(cluster.stdout)
    assert found["overview"]["title"] == "Checkout"
    assert found["names"] == {"py:shop.cart.Cart.total": "shop.cart.Cart.total"}
    missing = doctown("query", str(pack), "module:nowhere.py")
    assert missing.returncode == 1 and "no overview for 'module:nowhere.py'" in missing.stderr
    write_sample(tmp_path / "plain.docpack")
    none = doctown("query", str(tmp_path / "plain.docpack"), "overview")
    assert none.returncode == 1 and "holds no overviews" in none.stderr

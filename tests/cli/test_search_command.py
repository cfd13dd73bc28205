from __future__ import annotations

import json
from pathlib import Path

from tests.cli.process import doctown, invoke
from tests.docpack.factory import read_entries, rezip, write_sample


def test_search_prints_a_ranked_table(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    result = doctown("search", str(tmp_path / "shop.docpack"), "discount coupon")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    ranked = [line.split()[1] for line in lines if line.strip()[:1].isdigit()]
    assert ranked == ["shop.pricing.compute_discount", "shop.cart.Cart.total"]
    first = lines.index(next(line for line in lines if line.startswith("1 ")))
    assert "Works out the refund a coupon grants" in lines[first]
    assert "function · src/shop/pricing.py:3" in lines[first + 1]


def test_search_json_and_limit(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    result = invoke("search", str(tmp_path / "shop.docpack"), "cart", "--limit", "2", "--json")
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)["results"]
    assert [r["rank"] for r in results] == [1, 2]
    # The module `cart` and the class `Cart` are both named by the query: they come first.
    assert {r["qualified_name"] for r in results} == {"shop.cart", "shop.cart.Cart"}
    assert results[0]["score"] >= results[1]["score"]


def test_search_without_a_match_and_with_a_bad_limit(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    nothing = invoke("search", str(tmp_path / "shop.docpack"), "kubernetes")
    assert nothing.returncode == 0
    assert "no symbol matches 'kubernetes'" in nothing.stdout
    bad = invoke("search", str(tmp_path / "shop.docpack"), "cart", "--limit", "0")
    assert bad.returncode == 2
    assert "--limit" in bad.stderr


def test_search_refuses_a_tampered_pack(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    entries = read_entries(tmp_path / "shop.docpack")
    entries["nodes.json"] = entries["nodes.json"].replace(b"coupon", b"voucher")
    tampered = rezip(tmp_path / "tampered.docpack", entries.items())
    result = invoke("search", str(tampered), "voucher")
    assert result.returncode == 1
    assert "checksum mismatch" in result.stderr
    assert result.stdout == ""

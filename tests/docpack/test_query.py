from __future__ import annotations

import pytest

from doctown.docpack import SymbolIndex
from tests.docpack.factory import sample_content


@pytest.fixture
def index() -> SymbolIndex:
    return SymbolIndex(sample_content().nodes.symbols)


def test_an_exact_id_wins(index: SymbolIndex) -> None:
    lookup = index.lookup("py:shop.cart.Cart.total")
    assert lookup.how == "id"
    assert lookup.found is not None and lookup.found.name == "total"


def test_a_qualified_name(index: SymbolIndex) -> None:
    lookup = index.lookup("shop.pricing.compute_discount")
    assert lookup.how == "qualified_name"
    assert lookup.found is not None and lookup.found.id == "py:shop.pricing.compute_discount"


def test_a_unique_name(index: SymbolIndex) -> None:
    lookup = index.lookup("  add_item ")
    assert (lookup.how, lookup.query) == ("name", "add_item")
    assert lookup.found is not None and lookup.found.id == "py:shop.cart.Cart.add_item"


def test_a_unique_suffix_of_the_qualified_name(index: SymbolIndex) -> None:
    lookup = index.lookup("Cart.total")
    assert lookup.how == "suffix"
    assert lookup.found is not None and lookup.found.id == "py:shop.cart.Cart.total"


def test_a_suffix_must_end_on_a_separator(index: SymbolIndex) -> None:
    # "art.total" is a suffix of the string but not of a part of the name.
    assert index.lookup("art.total").symbols == ()


def test_an_ambiguous_name_lists_every_candidate(index: SymbolIndex) -> None:
    lookup = index.lookup("load")
    assert lookup.ambiguous and lookup.found is None
    assert [s.id for s in lookup.symbols] == ["py:shop.cart.load", "py:shop.pricing.load"]
    assert index.lookup("pricing.load").found is not None


def test_an_exact_name_beats_a_suffix_match(index: SymbolIndex) -> None:
    # `Cart` is the name of the class and also a part of `shop.cart.Cart.add_item`'s id.
    lookup = index.lookup("Cart")
    assert lookup.how == "name"
    assert lookup.found is not None and lookup.found.kind == "class"


def test_no_match(index: SymbolIndex) -> None:
    lookup = index.lookup("checkout")
    assert (lookup.how, lookup.symbols, lookup.found, lookup.ambiguous) == (
        None,
        (),
        None,
        False,
    )


def test_callers_and_callees_resolve_to_symbols(index: SymbolIndex) -> None:
    total = index.get("py:shop.cart.Cart.total")
    assert total is not None
    callees = index.callees(total)
    assert [c.id for c in callees] == [
        "py:shop.pricing.unit_price",
        "py:shop.pricing.compute_discount",
        "py:decimal.Decimal",
    ]
    assert [c.symbol.name if c.symbol else None for c in callees] == [
        "unit_price",
        "compute_discount",
        None,
    ]
    unit_price = index.get("py:shop.pricing.unit_price")
    assert unit_price is not None
    assert [c.id for c in index.callers(unit_price)] == [
        "py:shop.cart.Cart.add_item",
        "py:shop.cart.Cart.total",
    ]

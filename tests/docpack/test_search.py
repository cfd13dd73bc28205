from __future__ import annotations

import pytest

from doctown.docpack import InvertedSearchIndex, SearchIndex, tokenize
from tests.docpack.factory import (
    documented,
    sample_content,
    sample_symbols,
    symbol,
    synthetic_content,
)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("parse_config", ["parse", "config"]),
        ("ConfigParser", ["config", "parser"]),
        ("HTTPClient.get_URL2", ["http", "client", "get", "url", "2"]),
        ("def add_item(self, sku: str)", ["def", "add", "item", "self", "sku", "str"]),
        ("Größe berechnen", ["größe", "berechnen"]),
        ("", []),
    ],
)
def test_tokenize_splits_identifiers(text: str, words: list[str]) -> None:
    assert tokenize(text) == words


@pytest.fixture
def index() -> SearchIndex:
    return SearchIndex(sample_content().nodes.symbols)


def names(index: SearchIndex, query: str, limit: int = 10) -> list[str]:
    return [hit.symbol.qualified_name or "" for hit in index.search(query, limit=limit)]


def test_the_obvious_symbol_ranks_first(index: SearchIndex) -> None:
    assert names(index, "compute discount")[0] == "shop.pricing.compute_discount"
    assert names(index, "add item to cart")[0] == "shop.cart.Cart.add_item"
    assert names(index, "UnitPrice")[0] == "shop.pricing.unit_price"


def test_summaries_are_searched(index: SearchIndex) -> None:
    # "refund" appears only in compute_discount's summary.
    assert names(index, "refund") == ["shop.pricing.compute_discount"]


def test_a_word_in_a_name_outranks_the_same_word_in_a_summary(index: SearchIndex) -> None:
    # "discount" names compute_discount and is only mentioned by Cart.total's summary.
    ranked = names(index, "discount")
    assert ranked.index("shop.pricing.compute_discount") < ranked.index("shop.cart.Cart.total")


def test_an_exact_name_ranks_above_higher_scores() -> None:
    exact = symbol(
        "app.config",
        file_path="app/config.py",
        lines=(1, 2),
        documentation=documented("Holds settings read at start-up from files and environment."),
    )
    louder = symbol(
        "app.ConfigConfig.config_config",
        file_path="app/config.py",
        lines=(3, 4),
        signature="def config_config(config: Config) -> Config",
        documentation=documented("Config config config."),
    )
    hits = SearchIndex([louder, exact]).search("config")
    assert [hit.symbol.name for hit in hits] == ["config", "config_config"]
    assert hits[1].score > hits[0].score


def test_limit_and_no_match(index: SearchIndex) -> None:
    assert len(index.search("cart", limit=2)) == 2
    assert index.search("kubernetes") == []
    assert index.search("  ...  ") == []


def test_scores_are_descending_within_non_exact_hits(index: SearchIndex) -> None:
    scores = [hit.score for hit in index.search("price of items")]
    assert scores == sorted(scores, reverse=True) and len(scores) > 2


def test_the_target_ranks_first_among_thousands() -> None:
    index = SearchIndex(synthetic_content(2_000).nodes.symbols)
    assert len(index) == 2_000
    assert names(index, "validate_config_1732")[0] == "pkg.module32.validate_config_1732"
    # Many symbols validate a config; the number picks one out.
    top = index.search("validate config 1732", limit=3)
    assert top[0].symbol.name == "validate_config_1732"
    assert top[0].score > top[1].score


def test_prefix_search_matches_the_word_being_typed() -> None:
    index = SearchIndex(sample_symbols())
    assert index.search("coupon disco") == index.search("coupon")
    typed = index.search("coupon disco", prefix=True)
    assert [hit.symbol.name for hit in typed] == ["compute_discount", "total"]
    # A finished word (a space after it) is matched whole again.
    assert index.search("disco ", prefix=True) == []


@pytest.mark.parametrize(
    "query",
    ["parse config", "load_token_12", "schema", "Graph", "valid", "re", "fetch requ", "zzz", ""],
)
def test_the_inverted_index_ranks_exactly_as_the_scan(query: str) -> None:
    symbols = synthetic_content(1_500).nodes.symbols
    scan, inverted = SearchIndex(symbols), InvertedSearchIndex(symbols)
    for prefix in (False, True):
        expected = scan.search(query, limit=15, prefix=prefix)
        found = inverted.search(query, limit=15, prefix=prefix)
        assert [h.symbol.id for h in found] == [h.symbol.id for h in expected]
        assert [h.score for h in found] == pytest.approx([h.score for h in expected])

"""The contexts handed to the generator: confident facts only, in the accepted shape."""

from __future__ import annotations

from doctown.analysis import CONFIDENT
from doctown.contexts_file import parse_request
from doctown.schemas import SymbolContext
from tests.analysis.conftest import analysed


def context(symbol_id: str) -> dict:  # type: ignore[type-arg]
    return next(c for c in analysed("python").context_fields if c["symbol_id"] == symbol_id)


def test_every_context_validates_as_a_symbol_context() -> None:
    for language in ("python", "javascript", "typescript", "go", "rust", "java"):
        for fields in analysed(language).context_fields:
            SymbolContext.model_validate(fields)


def test_contexts_file_shape_is_what_generate_accepts() -> None:
    result = analysed("python")
    body = {
        "job_id": "shop",
        "symbols": [{"symbol_id": c["symbol_id"], "context": c} for c in result.context_fields],
    }
    request = parse_request(body, default_job_id="x")
    assert len(request.symbols) == len(result.symbols)
    assert result.contexts[0].symbol_id == result.symbols[0].id


def test_calls_hold_only_confident_edges() -> None:
    # `handle.record(None)` reaches Ledger.record only by name: not shown to the model.
    assert context("shop/service.py::helper_with_unknown_receiver")["calls"] == []
    assert (
        "shop.service.helper_with_unknown_receiver"
        not in context("shop/models.py::Ledger.record")["called_by"]
    )
    names = {s.id: s.qualified_name for s in analysed("python").symbols}
    for edge in analysed("python").calls(confident_only=False):
        shown = names[edge.target] in context(edge.source)["calls"]
        assert shown == (edge.confidence >= CONFIDENT)


def test_context_fields() -> None:
    fields = context("shop/models.py::Cart.checkout")
    assert fields["calls"][:1] and set(fields["calls"]) == {
        "shop.models.Cart.first",
        "shop.models.Item.describe",
        "shop.pricing.total",
    }
    assert fields["called_by"] == ["shop.service.run", "shop.service.reuse"]
    assert fields["signature"] == "def checkout(self) -> float"
    assert fields["source_excerpt"].startswith("def checkout(self) -> float:")
    assert 0.0 <= fields["centrality"] <= 1.0
    assert fields["kind"] == "method" and fields["language"] == "python"
    assert fields["cluster_label"]


def test_related_symbols_are_neighbours_not_already_listed() -> None:
    fields = context("shop/models.py::Cart.checkout")
    assert fields["related_symbols"]
    assert not set(fields["related_symbols"]) & set(fields["calls"] + fields["called_by"])
    assert "shop.models.Cart.checkout" not in fields["related_symbols"]


def test_module_contexts_list_their_imports() -> None:
    assert "shop.pricing.discount" in context("shop/service.py")["imports"]
    assert context("shop/service.py::run")["imports"] == []


def test_a_class_excerpt_is_its_outline_not_its_methods_bodies() -> None:
    assert context("shop/models.py::Cart")["source_excerpt"].split("\n") == [
        "class Cart(Base):",
        '    """A customer\'s cart."""',
        "    items: list[Item]",
        "    ledger: Ledger",
        "    def __init__(self) -> None:",
        "    def add(self, name: str, price: float) -> Item:",
        "    def validate(self) -> bool:",
        "    def _check(self) -> bool:",
        "    def checkout(self) -> float:",
        "    def first(self) -> Item:",
    ]
    java = next(
        c for c in analysed("java").context_fields if c["kind"] == "class" and c["name"] == "Cart"
    )
    assert "    public double price() {\n    }" in java["source_excerpt"]
    assert "items.size()" not in java["source_excerpt"]
    # Functions keep their first lines, body included.
    assert "item.describe()" in context("shop/models.py::Cart.add")["source_excerpt"]

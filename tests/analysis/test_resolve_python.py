"""Call resolution on the Python fixture: every tier, and the calls that must stay names."""

from __future__ import annotations

import pytest

from tests.analysis.conftest import analysed, call_edges, unresolved

M = "shop/models.py::"
S = "shop/service.py::"
P = "shop/pricing.py::"


@pytest.mark.parametrize(
    ("source", "target", "tier"),
    [
        # Same scope and module: a module function, a nested function, a class constructor.
        (P + "total", P + "discount", "scope"),
        (M + "Cart._check", M + "Cart._check.visit", "scope"),
        (M + "Cart.__init__", M + "Ledger", "scope"),
        (S + "run", S + "open_cart", "scope"),
        # Imports: an aliased class, a module attribute, an aliased module, a from-import.
        (S + "open_cart", M + "Cart", "import"),
        (S + "run", M + "Cart", "import"),
        (S + "run", P + "total", "import"),
        (S + "run", P + "discount", "import"),
        (M + "Cart.checkout", P + "total", "import"),
        # self / cls / super() through the class and its bases.
        (M + "Cart.validate", M + "Cart._check", "self"),
        (M + "Cart.validate", M + "Base.validate", "self"),
        (M + "Base.create", M + "Base.build", "self"),
        (M + "Cart.checkout", M + "Cart.first", "self"),
        # Receiver types: a parameter annotation, `x = Class()`, `self.attr = Class()`,
        # a function's declared return type, across modules.
        (M + "Ledger.record", M + "Item.describe", "declared"),
        (M + "Cart._check.visit", M + "Item.describe", "declared"),
        (M + "Cart.add", M + "Item.describe", "inferred"),
        (M + "Cart.add", M + "Ledger.record", "declared"),
        (M + "Cart.checkout", M + "Item.describe", "inferred"),
        (S + "open_cart", M + "Cart.add", "inferred"),
        (S + "run", M + "Cart.checkout", "inferred"),
        (S + "run", M + "Cart.validate", "inferred"),
        (S + "reuse", M + "Cart.checkout", "inferred"),
        # No annotation: what every `return` gives, when they agree (None aside).
        (M + "use_returns", M + "Item.describe", "inferred"),
        # A loop (or comprehension) over an attribute declared `list[Item]`.
        (M + "describe_all", M + "Item.describe", "inferred"),
        # The only `record` anywhere: linked, but only as a guess.
        (S + "helper_with_unknown_receiver", M + "Ledger.record", "unique_name"),
    ],
)
def test_call_resolved_through_its_tier(source: str, target: str, tier: str) -> None:
    assert call_edges(analysed("python")).get((source, target)) == tier


@pytest.mark.parametrize(
    ("source", "name", "reason"),
    [
        (P + "discount", "round", "external"),
        (P + "_audit_path", "os.path.join", "external"),
        (S + "run", "json.dumps", "external"),
        (S + "run", "len", "external"),
        # Two classes have `close` and nothing says which `things` is.
        (S + "run", "things.close", "ambiguous"),
        (S + "run", "things.frobnicate", "unknown"),
        # `return Item(...)` and `return Store()`: no single type, so no guess.
        (M + "use_returns", "either.close", "ambiguous"),
        # `instance = cls()` could be any subclass: Base.validate and Cart.validate both fit.
        (M + "Base.create", "instance.validate", "ambiguous"),
        # `self.items` is annotated `list[Item]`: the declared type wins over `= []`.
        (M + "Cart.add", "self.items.append", "external"),
    ],
)
def test_unresolvable_call_kept_as_name(source: str, name: str, reason: str) -> None:
    assert unresolved(analysed("python")).get((source, name)) == reason


def test_parameters_shadow_module_functions() -> None:
    targets = {t for (s, t) in call_edges(analysed("python")) if s == S + "open_cart_with"}
    assert S + "open_cart" not in targets
    assert P + "discount" not in targets
    assert unresolved(analysed("python"))[(S + "open_cart_with", "open_cart")] in (
        "unknown",
        "ambiguous",
    )


def test_no_call_is_guessed_onto_a_wrong_symbol() -> None:
    edges = call_edges(analysed("python"))
    targets_of_run = {target for (source, target) in edges if source == S + "run"}
    assert M + "Item.close" not in targets_of_run
    assert M + "Store.close" not in targets_of_run
    assert M + "Base.validate" not in targets_of_run

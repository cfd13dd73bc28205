from pathlib import Path

from doctown.analysis import analyze_repository
from doctown.evaluation.baselines import chance_text, floor_text, modules_by_file
from doctown.evaluation.sampling import eligible


def test_the_floor_says_only_the_kind_the_name_and_the_module(shop: Path) -> None:
    result = analyze_repository(shop, use_cache=False)
    modules = modules_by_file(result)
    by_name = {symbol.qualified_name: symbol for symbol in result.symbols}
    floors = {
        name: floor_text(by_name[name], modules[by_name[name].file_path])
        for name in ("shop.pricing.total", "shop.cart.Cart.add", "shop.cart.Cart", "shop.cart")
    }
    assert floors == {
        "shop.pricing.total": "Function `total` in module `shop.pricing`.",
        "shop.cart.Cart.add": "Method `Cart.add` in module `shop.cart`.",
        "shop.cart.Cart": "Class `Cart` in module `shop.cart`.",
        "shop.cart": "Module `shop.cart`.",
    }


def test_chance_is_another_symbol_of_the_same_kind_drawn_by_seed(shop: Path) -> None:
    result = analyze_repository(shop, use_cache=False)
    references = eligible(result)
    index = next(i for i in references if result.symbols[i].name == "apply_discount")
    drawn = {chance_text(index, result, references, seed=seed) for seed in range(20)}
    # The other public function is `total`; the same seed always draws the same one.
    assert drawn == {"Add up the prices of all items in the list."}
    method = next(i for i in references if result.symbols[i].name == "add")
    assert (
        chance_text(method, result, references, seed=1)
        == references[next(i for i in references if result.symbols[i].name == "checkout")]
    )
    assert chance_text(method, result, references, seed=3) == chance_text(
        method, result, references, seed=3
    )


def test_chance_falls_back_to_any_kind_and_never_copies_the_reference(shop: Path) -> None:
    result = analyze_repository(shop, use_cache=False)
    references = eligible(result)
    cart = next(i for i in references if result.symbols[i].name == "Cart")  # the only class
    assert chance_text(cart, result, references, seed=0) in {
        text for i, text in references.items() if i != cart
    }
    twins = {cart: references[cart], cart + 1: references[cart]}
    assert chance_text(cart, result, twins, seed=0) is None

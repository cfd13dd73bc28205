from pathlib import Path

from doctown.analysis import analyze_repository
from doctown.evaluation.sampling import eligible, reference, sample


def test_a_reference_is_a_first_sentence_of_five_words_or_more() -> None:
    assert reference("Reduce an amount by a percentage.\n\nMore.") == (
        "Reduce an amount by a percentage."
    )
    assert reference("Add up all the prices") == "Add up all the prices."
    assert reference("Add up two prices.") is None  # four words
    assert reference(None) is None and reference("") is None


def test_eligible_symbols_are_public_documentable_and_well_documented(shop: Path) -> None:
    result = analyze_repository(shop, use_cache=False)
    names = {result.symbols[index].qualified_name for index in eligible(result)}
    assert names == {
        "shop",
        "shop.pricing",
        "shop.pricing.apply_discount",
        "shop.pricing.total",
        "shop.cart",
        "shop.cart.Cart",
        "shop.cart.Cart.add",
        "shop.cart.Cart.checkout",
    }  # not the private _round_cents, not `tax` ("Tax."), not the undocumented __init__


def test_the_sample_depends_only_on_the_seed_and_grows_by_prefix(shop: Path) -> None:
    result = analyze_repository(shop, use_cache=False)
    candidates = sorted(eligible(result))
    first = sample(result, candidates, limit=4, seed=7)
    assert len(first) == 4 and set(first) <= set(candidates)
    # The same on a second analysis and whatever order the candidates come in.
    again = analyze_repository(shop, use_cache=False)
    assert sample(again, list(reversed(candidates)), limit=4, seed=7) == first
    # A larger sample starts with the smaller one; another seed draws another order.
    assert sample(result, candidates, limit=8, seed=7)[:4] == first
    orders = {tuple(sample(result, candidates, limit=8, seed=seed)) for seed in range(5)}
    assert len(orders) > 1

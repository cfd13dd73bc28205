from pathlib import Path

from doctown.analysis import analyze_repository
from doctown.pipeline.selection import first_sentence, is_documentable, select
from tests.pipeline.conftest import FILES, write_repo


def test_first_sentence_takes_good_docstrings_only() -> None:
    assert first_sentence("Reduce an amount by a percentage.\n\nMore text.") == (
        "Reduce an amount by a percentage."
    )
    assert first_sentence("Reduce an amount by a percentage") == "Reduce an amount by a percentage."
    assert first_sentence("Total it.") is None  # too thin to stand alone
    assert first_sentence(">>> total([1, 2]) gives three") is None
    assert first_sentence(None) is None


def test_documentable_kinds_and_visibility() -> None:
    assert is_documentable("function", "public", include_private=False)
    assert is_documentable("module", "private", include_private=False)
    assert not is_documentable("function", "private", include_private=False)
    assert is_documentable("function", "private", include_private=True)
    assert not is_documentable("variable", "public", include_private=True)


def names(result, indices) -> set[str]:  # type: ignore[no-untyped-def]
    return {result.symbols[i].qualified_name for i in indices}


def test_select_public_symbols_and_modes(shop_repo: Path) -> None:
    result = analyze_repository(shop_repo, use_cache=False)
    default = select(result)
    chosen = names(result, default.indices)
    assert {"shop.pricing.apply_discount", "shop.cart.Cart", "shop.cart.Cart.checkout"} <= chosen
    assert "shop.pricing._round_cents" not in chosen
    assert "shop.pricing._round_cents" in names(
        result, select(result, include_private=True).indices
    )
    assert any(c["docstring"] for c in default.contexts.values())

    reused = select(result, docstrings="reuse")
    assert "Reduce an amount by a percentage, never below zero." in reused.reused.values()
    assert len(reused.contexts) + len(reused.reused) == len(reused.indices)

    hidden = select(result, docstrings="ignore")
    assert all(
        c["docstring"] is None and c["source_excerpt"] is None for c in hidden.contexts.values()
    )


def test_limit_keeps_the_most_central(shop_repo: Path) -> None:
    result = analyze_repository(shop_repo, use_cache=False)
    limited = select(result, limit=2)
    assert len(limited.indices) == 2
    everything = select(result)
    best = sorted(everything.indices, key=lambda i: -result.centrality[result.symbols[i].id])[:2]
    assert {result.centrality[result.symbols[i].id] for i in limited.indices} == {
        result.centrality[result.symbols[i].id] for i in best
    }


def test_test_code_is_left_out_unless_asked_for(tmp_path: Path) -> None:
    files = {
        **FILES,
        "tests/__init__.py": "",
        "tests/test_pricing.py": (
            "from shop.pricing import total\n\n\n"
            "def test_total() -> None:\n    assert total([1.0]) == 1.0\n"
        ),
    }
    result = analyze_repository(write_repo(tmp_path / "repo", files), use_cache=False)
    assert "tests.test_pricing.test_total" not in names(result, select(result).indices)
    assert "tests.test_pricing.test_total" in names(
        result, select(result, include_tests=True).indices
    )

from pathlib import Path

from doctown.analysis import analyze_repository
from doctown.evaluation.harness import docstrings_within
from doctown.evaluation.options import OPTIONS, context_for, hide_docstring
from doctown.pipeline.selection import select

ONE_LINE = '''def total(items):
    """Add up the prices of all items."""
    return sum(items)'''

OWN_LINES = '''def checkout(self, discount=0.0):
    """
    Total the cart and apply a discount.

    Never below zero.
    """
    return apply_discount(total(self.items), discount)'''


def test_a_one_line_docstring_is_cut_out_of_the_excerpt() -> None:
    assert hide_docstring(ONE_LINE, "Add up the prices of all items.") == (
        "def total(items):\n    return sum(items)"
    )


def test_a_docstring_with_its_quotes_on_their_own_lines_goes_with_them() -> None:
    docstring = "Total the cart and apply a discount.\n\nNever below zero."
    assert hide_docstring(OWN_LINES, docstring) == (
        "def checkout(self, discount=0.0):\n    return apply_discount(total(self.items), discount)"
    )


def test_an_excerpt_that_stops_inside_the_docstring_keeps_only_what_precedes_it() -> None:
    cut = "\n".join(OWN_LINES.split("\n")[:4])
    docstring = "Total the cart and apply a discount.\n\nNever below zero."
    assert hide_docstring(cut, docstring) == "def checkout(self, discount=0.0):"


def test_an_excerpt_without_the_docstring_is_kept_unless_it_quotes_it() -> None:
    code = "function chunk(array, size) {\n  return slice(array, 0, size);\n}"
    jsdoc = "Creates an array of elements split into groups the length of `size`."
    assert hide_docstring(code, jsdoc) == code
    # The docstring is there but not where its lines say: withheld rather than leaked.
    odd = 'def f():\n    x = 1\n    """Creates an array of elements split into\n    groups."""'
    assert hide_docstring(odd, "Creates an array of elements split into\ngroups of sizes.") is None
    assert hide_docstring(code, None) == code and hide_docstring(None, jsdoc) is None


def test_every_option_hides_the_docstrings_and_only_excerpt_options_show_the_body(
    shop: Path,
) -> None:
    result = analyze_repository(shop, use_cache=False)
    hidden = select(result, docstrings="ignore", source_excerpt=False).contexts
    index = next(i for i, s in enumerate(result.symbols) if s.name == "Cart")
    docstrings = docstrings_within(result, index)
    assert docstrings == [
        "Items a customer intends to buy, with their prices.",
        "Put one more item with the given price in the cart.",
        "Total the cart and apply the customer's discount.",
    ]
    shown = {
        name: context_for(
            option,
            hidden[index],
            excerpt=result.context_fields[index]["source_excerpt"],
            docstrings=docstrings,
        )
        for name, option in OPTIONS.items()
    }
    assert set(shown) >= {"bare", "excerpt", "grouped"}
    assert all(context["docstring"] is None for context in shown.values())
    assert shown["bare"]["source_excerpt"] is None
    excerpt = shown["excerpt"]["source_excerpt"]
    # The class's outline, and no docstring at all, its methods' included.
    assert excerpt.split("\n") == [
        "class Cart:",
        "    def __init__(self) -> None:",
        "    def add(self, price: float) -> None:",
        "    def checkout(self, discount: float = 0.0) -> float:",
    ]
    assert not any(line in excerpt for text in docstrings for line in text.split("\n"))
    assert '"""' not in excerpt
    assert shown["grouped"]["source_excerpt"] == excerpt

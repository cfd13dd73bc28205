import pytest

from doctown.evaluation.form import form_issues, sentences


@pytest.mark.parametrize(
    ("summary", "issues"),
    [
        ("Reads the configuration file and parses it into a `Config` object.", []),
        ("Totals the cart. Applies the discount, e.g. a coupon, via `pricing.apply`.", []),
        ("Splits text into lines; each fits the width.", []),
        ("This function returns the total of the cart.", ["filler"]),
        ("This Python function is used to add items.", ["filler"]),
        ("The `add` method puts an item in the cart.", ["filler"]),
        ("It is a helper that adds numbers together.", ["filler"]),
        ("Adds items. Sorts them. Prints them.", ["sentences"]),
        ("Returns `sum(items) * 2` for the cart.", ["code"]),
        ("Computes x = total + 1 for the cart.", ["code"]),
        ("Runs:\n```\nf()\n```", ["code"]),
        ("Adds.", ["length"]),
        ("Adds " + "many " * 80 + "items.", ["length"]),
    ],
)
def test_form_rules(summary: str, issues: list[str]) -> None:
    assert form_issues(summary) == issues


def test_abbreviations_and_dotted_names_do_not_end_a_sentence() -> None:
    assert sentences("Calls `os.path.join` on each part, i.e. the folder and the name.") == 1
    assert sentences("Joins paths. Then checks them!") == 2

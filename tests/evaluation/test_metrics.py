from decimal import Decimal
from typing import Any

import pytest

from doctown.evaluation import metrics
from doctown.evaluation.metrics import SymbolRecord


def record(symbol_id: str, **values: Any) -> SymbolRecord:
    base: dict[str, Any] = {
        "corpus": "shop",
        "option": "bare",
        "symbol_id": symbol_id,
        "name": f"shop.{symbol_id}",
        "kind": "function",
        "reference": "Add up the prices of all items.",
        "floor": f"Function `{symbol_id}` in module `shop`.",
        "chance": "Reduce an amount by a percentage.",
    }
    return SymbolRecord(**(base | values))


def test_coverage_counts_accepted_summaries_and_failures_by_reason() -> None:
    records = [
        record("a", summary="Adds prices."),
        record("b", summary="Adds more prices."),
        record("c", failure="invalid_output"),
        record("d", failure="length"),
        record("e", failure="invalid_output"),
    ]
    assert metrics.coverage(records) == metrics.Coverage(
        symbols=5, documented=2, share=0.4, failures={"invalid_output": 2, "length": 1}
    )
    assert metrics.coverage([]).share is None


def test_grounding_is_the_share_of_summaries_naming_unknown_things_worst_first() -> None:
    records = [
        record("a", summary="Adds prices."),
        record("b", summary="Calls `ghost`.", ungrounded=["ghost"]),
        record("c", summary="Uses `x_y` and `Zed`.", ungrounded=["x_y", "Zed"]),
        record("d", summary="Adds prices again."),
        record("e", failure="length"),  # no summary: not in the denominator
    ]
    scores = metrics.grounding(records)
    assert scores.share_ungrounded == 0.5
    assert [case["symbol"] for case in scores.worst] == ["shop.c", "shop.b"]
    assert scores.worst[0]["ungrounded"] == ["x_y", "Zed"]


def test_agreement_places_the_summaries_between_the_floor_and_the_reference() -> None:
    records = [
        record("a", summary="s", agreement=0.8, floor_agreement=0.5, chance_agreement=0.6),
        record("b", summary="s", agreement=0.6, floor_agreement=0.5, chance_agreement=0.4),
        record("c", failure="length"),
    ]
    scores = metrics.agreement(records)
    assert scores.summary == pytest.approx(0.7) and scores.floor == pytest.approx(0.5)
    assert scores.chance == pytest.approx(0.5)
    # Half way from the floor (0.5) to the docstring itself (1.0); chance sits on the floor.
    assert scores.position == pytest.approx(0.4)
    assert scores.chance_position == pytest.approx(0.0)
    below = metrics.agreement([record("a", summary="s", agreement=0.3, floor_agreement=0.5)])
    assert below.position == pytest.approx(-0.4) and below.chance is None
    assert metrics.agreement([record("c", failure="length")]).position is None


def test_form_is_the_share_of_summaries_breaking_no_rule() -> None:
    records = [
        record("a", summary="Adds prices.", form=[]),
        record("b", summary="This function adds.", form=["filler"]),
        record("c", summary="x = 1; y = 2;", form=["code", "filler"]),
        record("d", summary="Sums prices.", form=[]),
        record("e", failure="refusal"),
    ]
    assert metrics.form(records) == metrics.Form(share_good=0.5, issues={"code": 1, "filler": 2})


def test_cost_per_documented_symbol_includes_what_failures_spent() -> None:
    records = [
        record("a", summary="s", input_tokens=500, output_tokens=20, cost=Decimal("0.0010")),
        record("b", summary="s", input_tokens=700, output_tokens=40, cost=Decimal("0.0020")),
        record("c", failure="length", input_tokens=600, cost=Decimal("0.0030")),
    ]
    for each, seconds in zip(records, (0.5, 2.0, 0.25), strict=True):
        each.seconds = seconds
    assert metrics.cost(records, seconds=3.0, cpu_seconds=1.0) == metrics.Cost(
        input_tokens=900.0,
        output_tokens=30.0,
        dollars=Decimal("0.003"),
        seconds=1.5,
        median_seconds=0.5,
        cpu_seconds=0.5,
    )
    assert metrics.cost([record("c", failure="length")], seconds=1.0).dollars is None

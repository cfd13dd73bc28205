from decimal import Decimal

import pytest

from doctown.errors import ConfigurationError
from doctown.model_catalog import Price
from doctown.pricing import FREE, cost, resolve_price
from doctown.usage import Usage

NANO = Price(Decimal("0.05"), Decimal("0.005"), Decimal("0.40"))


def test_cost_bills_uncached_cached_and_output_tokens_separately() -> None:
    usage = Usage(
        input_tokens=1_000_000,
        cached_tokens=400_000,
        output_tokens=250_000,
        reasoning_tokens=200_000,
    )
    # 600k uncached * $0.05 + 400k cached * $0.005 + 250k output (reasoning included) * $0.40
    assert cost(usage, NANO) == Decimal("0.03") + Decimal("0.002") + Decimal("0.1")


def test_cost_of_one_small_request_is_exact() -> None:
    usage = Usage(input_tokens=182, output_tokens=21)
    # 182 * 0.05 / 1e6 + 21 * 0.40 / 1e6 = 0.0000091 + 0.0000084
    assert cost(usage, NANO) == Decimal("0.0000175")


def test_thousands_of_tiny_costs_add_up_without_drift() -> None:
    one = cost(Usage(input_tokens=87, output_tokens=13), NANO)
    assert sum([one] * 10_000, Decimal(0)) == cost(
        Usage(input_tokens=870_000, output_tokens=130_000), NANO
    )


def test_free_backend_costs_nothing_but_counts_tokens() -> None:
    assert cost(Usage(input_tokens=500, output_tokens=40), FREE) == 0


def test_table_prices_gpt5_nano_not_the_seed_gpt4o_mini_prices() -> None:
    assert resolve_price("gpt-5-nano") == NANO
    assert resolve_price("gpt-5-nano-2025-08-07") == NANO
    assert resolve_price("gpt-4o-mini").input == Decimal("0.15")


def test_overrides_replace_the_table() -> None:
    price = resolve_price("gpt-5-nano", input_override=Decimal("1"), output_override=Decimal("2"))
    assert price == Price(Decimal("1"), Decimal("1"), Decimal("2"))


def test_unknown_model_without_price_is_a_startup_error_not_zero() -> None:
    with pytest.raises(ConfigurationError, match="INPUT_TOKEN_PRICE and OUTPUT_TOKEN_PRICE"):
        resolve_price("my-local-llama")
    with pytest.raises(ConfigurationError, match="OUTPUT_TOKEN_PRICE"):
        resolve_price("my-local-llama", input_override=Decimal(0))
    assert (
        resolve_price("my-local-llama", input_override=Decimal(0), output_override=Decimal(0))
        == FREE
    )

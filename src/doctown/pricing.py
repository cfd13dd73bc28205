"""Dollars from billed usage, in Decimal so that thousands of tiny costs add up exactly."""

from __future__ import annotations

from decimal import Decimal

from doctown import model_catalog
from doctown.errors import ConfigurationError
from doctown.model_catalog import Price
from doctown.usage import Usage

FREE = Price(Decimal(0), Decimal(0), Decimal(0))
_PER = Decimal(1_000_000)


def cost(usage: Usage, price: Price) -> Decimal:
    """`(input - cached) * input + cached * cached_input + output * output`, per 1M tokens.

    Output tokens already include reasoning tokens, which are billed as output.
    """
    uncached = usage.input_tokens - usage.cached_tokens
    return (
        uncached * price.input
        + usage.cached_tokens * price.cached_input
        + usage.output_tokens * price.output
    ) / _PER


def cost_range(
    prompt_tokens: int, requests: int, *, completion_cap: int, price: Price
) -> tuple[Decimal, Decimal]:
    """What sending `requests` prompts of `prompt_tokens` in all costs: with empty answers
    (low) and with every answer, reasoning included, using the whole completion cap (high)."""
    low = cost(Usage(input_tokens=prompt_tokens), price)
    high = cost(Usage(input_tokens=prompt_tokens, output_tokens=completion_cap * requests), price)
    return low, high


def resolve_price(
    model: str,
    *,
    input_override: Decimal | None = None,
    output_override: Decimal | None = None,
    cached_input_override: Decimal | None = None,
) -> Price:
    """The model's price with any overrides applied; unknown and unpriced is an error, never $0."""
    known = model_catalog.lookup(model)
    base = known.price if known else None
    input_price = input_override if input_override is not None else base.input if base else None
    output_price = output_override if output_override is not None else base.output if base else None
    if input_price is None or output_price is None:
        missing = " and ".join(
            name
            for name, value in (
                ("INPUT_TOKEN_PRICE", input_price),
                ("OUTPUT_TOKEN_PRICE", output_price),
            )
            if value is None
        )
        raise ConfigurationError(
            f"No price is known for model {model!r}. Set {missing} (dollars per 1M tokens; "
            "0 for a self-hosted server) or choose a model from the price table."
        )
    if cached_input_override is not None:
        cached = cached_input_override
    elif base is not None and input_override is None:
        cached = base.cached_input
    else:
        cached = input_price  # without a known discount, bill cached tokens at the full rate
    return Price(input=input_price, cached_input=cached, output=output_price)


def batch_price(price: Price) -> Price:
    """The Batch API's price for a model billed `price` synchronously (overrides included)."""
    return price.discounted(model_catalog.BATCH_DISCOUNT)


def as_float(amount: Decimal) -> float:
    """Dollars for the JSON wire format (the seed's `total_cost` is a number)."""
    return float(round(amount, 10))

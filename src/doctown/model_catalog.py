"""What doctown knows about each OpenAI model: tokenizer, parameters, dated prices, retirement.

Prices are US dollars per 1M tokens, as published by OpenAI on the date in `PRICES_CHECKED`.
`INPUT_TOKEN_PRICE` / `OUTPUT_TOKEN_PRICE` (and `CACHED_INPUT_TOKEN_PRICE`) override them.
A model is looked up by its longest known prefix, so dated snapshots such as
`gpt-5-nano-2025-08-07` inherit the family's entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

PRICES_CHECKED = date(2025, 11, 20)
# The Batch API bills every token class at half the synchronous price (as of PRICES_CHECKED).
BATCH_DISCOUNT = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class Price:
    """Dollars per 1M tokens."""

    input: Decimal
    cached_input: Decimal
    output: Decimal

    def discounted(self, factor: Decimal) -> Price:
        return Price(self.input * factor, self.cached_input * factor, self.output * factor)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    encoding: str
    price: Price
    retires: date | None = None
    # The lowest reasoning effort the family accepts: cheapest, and enough for one sentence.
    lowest_effort: str | None = None

    @property
    def batch_price(self) -> Price:
        """What the Batch API charges for this model."""
        return self.price.discounted(BATCH_DISCOUNT)


def _p(input_: str, cached: str, output: str) -> Price:
    return Price(Decimal(input_), Decimal(cached), Decimal(output))


_CATALOG: tuple[ModelInfo, ...] = (
    ModelInfo(
        "gpt-5-nano", "o200k_base", _p("0.05", "0.005", "0.40"), date(2026, 12, 11), "minimal"
    ),
    ModelInfo("gpt-5-mini", "o200k_base", _p("0.25", "0.025", "2.00"), None, "minimal"),
    ModelInfo("gpt-5", "o200k_base", _p("1.25", "0.125", "10.00"), None, "minimal"),
    ModelInfo("gpt-5.1", "o200k_base", _p("1.25", "0.125", "10.00"), None, "none"),
    ModelInfo("gpt-4.1-nano", "o200k_base", _p("0.10", "0.025", "0.40")),
    ModelInfo("gpt-4.1-mini", "o200k_base", _p("0.40", "0.10", "1.60")),
    ModelInfo("gpt-4.1", "o200k_base", _p("2.00", "0.50", "8.00")),
    ModelInfo("gpt-4o-mini", "o200k_base", _p("0.15", "0.075", "0.60")),
    ModelInfo("gpt-4o", "o200k_base", _p("2.50", "1.25", "10.00")),
    ModelInfo("o4-mini", "o200k_base", _p("1.10", "0.275", "4.40"), None, "low"),
    ModelInfo("o3-mini", "o200k_base", _p("1.10", "0.55", "4.40"), None, "low"),
    ModelInfo("o3", "o200k_base", _p("2.00", "0.50", "8.00"), None, "low"),
)

# Families that take `max_completion_tokens` and `reasoning_effort` and reject sampling knobs.
_REASONING_PREFIXES = ("gpt-5", "o1", "o3", "o4")
# Non-chat gpt-5 variants that do not accept reasoning_effort.
_NO_REASONING_EFFORT = ("gpt-5-chat",)

DEFAULT_ENCODING = "o200k_base"


def lookup(model: str) -> ModelInfo | None:
    """The catalog entry for `model` by longest prefix, or None when unknown."""
    matches = [m for m in _CATALOG if model == m.name or model.startswith(m.name + "-")]
    return max(matches, key=lambda m: len(m.name), default=None)


def is_reasoning_model(model: str) -> bool:
    """True for model families that reason before answering (gpt-5, o-series)."""
    return model.startswith(_REASONING_PREFIXES) and not model.startswith(_NO_REASONING_EFFORT)


def lowest_reasoning_effort(model: str) -> str:
    """The cheapest `reasoning_effort` for a reasoning model ("minimal" when unknown)."""
    info = lookup(model)
    return info.lowest_effort if info and info.lowest_effort else "minimal"


def encoding_for(model: str) -> str:
    """The tiktoken encoding of `model`; unknown models (e.g. on compatible servers) use o200k."""
    info = lookup(model)
    return info.encoding if info else DEFAULT_ENCODING

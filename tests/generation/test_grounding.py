"""Grounding: identifiers in summaries are checked, re-asked once, then marked or refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from doctown.generation import GenerationEngine
from doctown.generation.cache import SummaryCache
from doctown.generation.grounding import (
    GroundingPolicy,
    KnownNames,
    mentioned_identifiers,
    ungrounded,
)
from doctown.testing import FakeOpenAIServer, ok
from doctown.tokens import TokenCounter
from tests.conftest import symbol

MakeEngine = Callable[..., GenerationEngine]
TABLE = KnownNames.of(["shop.cart.Cart", "shop.cart.Cart.checkout", "shop.pricing.total"])


def test_identifiers_are_found_in_their_usual_shapes() -> None:
    text = "Calls `load()` then parse_config() on CartManager.flush and the HttpClient, e.g. twice."
    assert mentioned_identifiers(text) == [
        "load",
        "CartManager.flush",
        "parse_config",
        "HttpClient",
    ]
    assert mentioned_identifiers("Returns the total price after a discount.") == []


def test_names_from_the_context_or_the_repository_are_grounded() -> None:
    ctx = symbol("a", "checkout", calls=["shop.pricing.apply_discount"]).context
    assert ungrounded("Applies `apply_discount` to the `Cart` total.", ctx, TABLE) == []
    assert ungrounded("Uses shop.pricing.apply_discount and Cart.checkout.", ctx, TABLE) == []
    assert ungrounded("Delegates to `FrobnicateManager.run`.", ctx, TABLE) == [
        "FrobnicateManager.run"
    ]
    assert ungrounded("Delegates to `Cart`.", ctx, None) == ["Cart"]  # no table: context only
    assert ungrounded("Reads it with `open()` and raises `ValueError`.", ctx, None) == []


async def generate(engine: GenerationEngine, symbols, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return await engine.generate("job", symbols, **kwargs)
    finally:
        await engine.backend.aclose()


async def test_an_ungrounded_summary_is_asked_again_once(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.on("Symbol: total\n", ok("Sums items with `FrobnicateManager`."), times=1)
    result = await generate(make_engine(), [symbol("a", "total")], grounding=GroundingPolicy(TABLE))
    (documented,) = result.documented_symbols
    requests = fake_openai.chat_requests()
    assert len(requests) == 2
    follow_up = requests[1]["body"]["messages"]
    assert (
        "`FrobnicateManager`" in follow_up[-1]["content"] and follow_up[-2]["role"] == "assistant"
    )
    assert documented.reasked and documented.ungrounded == []
    assert documented.summary == "Documents the symbol unknown."
    counter = TokenCounter("gpt-5-nano")  # what the fake server bills
    billed = sum(counter.count_messages(r["body"]["messages"]) for r in requests)
    assert documented.input_tokens == billed  # both calls are paid for and counted


async def test_still_ungrounded_is_kept_and_marked_or_refused_when_strict(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.on(lambda text: True, ok("Relies on `GhostHelper`."))
    kept = await generate(make_engine(), [symbol("a", "total")], grounding=GroundingPolicy(TABLE))
    assert kept.documented_symbols[0].ungrounded == ["GhostHelper"]
    assert any("ungrounded" in w for w in kept.warnings)
    strict = await generate(
        make_engine(), [symbol("a", "total")], grounding=GroundingPolicy(TABLE, strict=True)
    )
    assert strict.documented_symbols == []
    assert (
        strict.failed_symbols[0].reason == "ungrounded" and strict.failed_symbols[0].tokens_used > 0
    )
    assert len(fake_openai.chat_requests()) == 4  # each run: the answer and one re-ask


async def test_a_rerun_replays_the_check_and_the_re_ask_from_the_cache(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    fake_openai.on("Symbol: total\n", ok("Sums items with `FrobnicateManager`."), times=1)
    policy = GroundingPolicy(TABLE)
    first = await generate(make_engine(cache=cache), [symbol("a", "total")], grounding=policy)
    second = await generate(make_engine(cache=cache), [symbol("a", "total")], grounding=policy)
    assert len(fake_openai.chat_requests()) == 2
    assert second.documented_symbols[0].summary == first.documented_symbols[0].summary
    assert second.documented_symbols[0].cached and second.total_cost == 0
    # Both asks are what the summary cost to make, warm or cold.
    made = second.documented_symbols[0].original_usage
    assert made is not None and made.cost == first.total_cost > 0

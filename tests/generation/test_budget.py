"""--max-cost: no request is sent that could take the job past the cap."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from doctown.generation import GenerationEngine
from doctown.testing import FakeOpenAIServer
from tests.conftest import symbol

MakeEngine = Callable[..., GenerationEngine]


def dollar_a_token(make_engine: MakeEngine, **overrides: object) -> GenerationEngine:
    """$1 per token in and out, a completion cap of 100, one request at a time."""
    return make_engine(
        input_token_price="1000000",
        output_token_price="1000000",
        max_completion_tokens=100,
        max_concurrent_requests=1,
        **overrides,
    )


async def test_the_cap_stops_before_a_request_that_could_exceed_it(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    # $1 per token in and out, completion cap 100: a request's worst case is (prompt + 100)
    # dollars, while its real cost is (prompt + ~15): the cap counts what was really spent.
    # One request per symbol (groups: tests/generation/test_grouping).
    engine = dollar_a_token(make_engine, doctown_group_size=1)
    symbols = [symbol(f"s{i}", f"fn_{i}") for i in range(8)]
    worst = Decimal(engine.plan(symbols[:1])[0].prompt.prompt_tokens + 100)
    cap = worst * Decimal("2.5")
    try:
        result = await engine.generate("job", symbols, max_cost=cap)
    finally:
        await engine.backend.aclose()
    sent = len(fake_openai.chat_requests())
    spent = Decimal(str(result.total_cost))
    assert 2 <= sent < 8
    assert spent <= cap < spent + worst  # within the cap, and one more request might not be
    assert [d.symbol_id for d in result.documented_symbols] == [f"s{i}" for i in range(sent)]
    assert result.status == "aborted" and result.error is not None
    assert result.error.type == "budget_exhausted" and "--max-cost" in result.error.message
    reasons = [f.reason for f in result.failed_symbols]
    assert reasons == ["budget_exhausted"] + ["not_attempted"] * (7 - sent)


async def test_a_generous_cap_changes_nothing(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    engine = make_engine()
    try:
        result = await engine.generate("job", [symbol("a"), symbol("b")], max_cost=Decimal("1"))
    finally:
        await engine.backend.aclose()
    # Both symbols are in one file: one request asks about them.
    assert result.status == "success" and len(fake_openai.chat_requests()) == 1
    assert len(result.documented_symbols) == 2

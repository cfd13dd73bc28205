"""The engine end to end: real client, real HTTP, the fake server scripting faults."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from doctown import events
from doctown.generation import GenerationEngine
from doctown.testing import (
    FakeOpenAIServer,
    insufficient_quota,
    ok,
    rate_limited,
    refusal,
    truncated,
)
from tests.conftest import SleepRecorder, symbol

MakeEngine = Callable[..., GenerationEngine]


async def run(engine: GenerationEngine, symbols, job_id: str = "job_1", subscribers=()):  # type: ignore[no-untyped-def]
    try:
        return await engine.generate(job_id, symbols, subscribers=list(subscribers))
    finally:
        await engine.backend.aclose()


async def test_results_come_back_in_request_order(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    # Earlier symbols answer later: completion order is the reverse of request order.
    for i in range(8):
        fake_openai.on(f"Symbol: fn_{i}\n", ok(f"Answer {i}."))
    fake_openai.latency = 0.0
    symbols = [symbol(f"s{i}", f"fn_{i}") for i in range(8)]
    slow = {f"fn_{i}": 0.02 * (8 - i) for i in range(8)}
    original = fake_openai._next_reply

    def delayed(text: str):  # type: ignore[no-untyped-def]
        reply = original(text)
        name = text.split("Symbol: ")[1].split("\n")[0]
        return type(reply)(**{**reply.__dict__, "delay": slow[name]})

    fake_openai._next_reply = delayed  # type: ignore[method-assign]
    result = await run(make_engine(), symbols)
    assert [d.symbol_id for d in result.documented_symbols] == [f"s{i}" for i in range(8)]
    assert [d.summary for d in result.documented_symbols] == [f"Answer {i}." for i in range(8)]


async def test_concurrency_bound_is_observed_at_the_server(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.latency = 0.05
    result = await run(
        make_engine(max_concurrent_requests=4, doctown_group_size=1),
        [symbol(f"s{i}", f"fn_{i}") for i in range(20)],
    )
    assert len(result.documented_symbols) == 20
    assert fake_openai.peak_in_flight == 4


async def test_one_failing_symbol_never_stops_the_rest(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.on("Symbol: bad_one\n", refusal())
    fake_openai.on("Symbol: long_one\n", truncated())
    symbols = [
        symbol("a", "good_a"),
        symbol("b", "bad_one"),
        symbol("c", "good_c"),
        symbol("d", "long_one"),
    ]
    result = await run(make_engine(), symbols)
    assert result.status == "partial"
    assert [d.symbol_id for d in result.documented_symbols] == ["a", "c"]
    assert [(f.symbol_id, f.reason) for f in result.failed_symbols] == [
        ("b", "refusal"),
        ("d", "length"),
    ]
    assert all(
        d.summary.startswith("Documents") for d in result.documented_symbols
    )  # no placeholders
    assert any(w.startswith("b: refusal") for w in result.warnings)
    # Failures that reached the model still cost tokens, and the batch totals include them.
    assert all(f.tokens_used > 0 for f in result.failed_symbols)
    assert result.total_tokens == sum(d.tokens_used for d in result.documented_symbols) + sum(
        f.tokens_used for f in result.failed_symbols
    )


async def test_identical_contexts_are_asked_once(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    symbols = [symbol("a", "same"), symbol("b", "other"), symbol("c", "same")]
    result = await run(make_engine(doctown_group_size=1), symbols)
    assert len(fake_openai.chat_requests()) == 2
    by_id = {d.symbol_id: d for d in result.documented_symbols}
    assert by_id["c"].summary == by_id["a"].summary and by_id["c"].reused_from == "a"
    assert by_id["c"].tokens_used == 0 and by_id["a"].tokens_used > 0
    assert result.usage.requests == 2


async def test_costs_per_symbol_and_batch_match_hand_computed_figures(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.reasoning_tokens = 40
    fake_openai.cached_tokens = 64
    engine = make_engine(doctown_group_size=1)
    result = await run(engine, [symbol("a", "alpha"), symbol("b", "beta")])
    total_cost = Decimal(0)
    for documented in result.documented_symbols:
        uncached = documented.input_tokens - 64
        expected = (
            uncached * Decimal("0.05")
            + 64 * Decimal("0.005")
            + documented.output_tokens * Decimal("0.40")
        ) / 10**6
        assert Decimal(str(documented.cost)) == expected
        assert documented.reasoning_tokens == 40 and documented.cached_tokens == 64
        total_cost += expected
    assert Decimal(str(result.total_cost)) == total_cost
    assert result.usage.cached_tokens == 128 and result.usage.reasoning_tokens == 80


async def test_overridden_prices_are_used(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    result = await run(
        make_engine(input_token_price="1000000", output_token_price="0"), [symbol("a")]
    )
    assert result.total_cost == result.usage.input_tokens  # $1 per token in, nothing out


async def test_transient_faults_are_retried_with_the_servers_delay(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, sleeps: SleepRecorder
) -> None:
    fake_openai.script(rate_limited(retry_after=1.5), rate_limited(retry_after_ms=20))
    result = await run(make_engine(max_retries=3), [symbol("a")])
    assert result.status == "success" and result.documented_symbols[0].attempts == 3
    assert sleeps.delays == [1.5, 0.02]
    assert len(fake_openai.chat_requests()) == 3


async def test_max_retries_bounds_the_attempts(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, sleeps: SleepRecorder
) -> None:
    fake_openai.on("Symbol: flaky\n", rate_limited())
    result = await run(make_engine(max_retries=4), [symbol("a", "flaky")])
    assert len(fake_openai.chat_requests()) == 4
    assert result.failed_symbols[0].reason == "retries_exhausted"
    assert result.failed_symbols[0].attempts == 4
    assert (
        len(sleeps.delays) == 3 and sleeps.delays[0] <= sleeps.delays[-1] * 2
    )  # exponential back-off


async def test_insufficient_quota_stops_the_job_and_keeps_what_was_paid_for(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.latency = 0.02
    fake_openai.on("Symbol: fn_3\n", insufficient_quota())
    symbols = [symbol(f"s{i}", f"fn_{i}") for i in range(30)]
    engine = make_engine(max_concurrent_requests=2, max_retries=5, doctown_group_size=1)
    result = await run(engine, symbols)
    assert result.status == "aborted"
    assert result.error is not None and result.error.type == "insufficient_quota"
    assert "billing" in result.error.message
    sent = len(fake_openai.chat_requests())
    assert (
        sent <= 6
    )  # at most the in-flight requests besides the one that failed, never 30 or retries
    reasons = {f.reason for f in result.failed_symbols}
    assert reasons == {"insufficient_quota", "not_attempted"}
    assert len(result.documented_symbols) + len(result.failed_symbols) == 30
    assert len(result.documented_symbols) == sent - 1  # every answer that arrived is kept


async def test_events_form_one_ordered_stream(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.on("Symbol: bad\n", refusal())
    seen: list[events.Event] = []
    await run(make_engine(), [symbol("a", "good"), symbol("b", "bad")], subscribers=[seen.append])
    assert seen[0].type == events.GENERATION_STARTED
    assert seen[-1].type == events.GENERATION_COMPLETED
    assert sorted(e.type for e in seen[1:-1]) == [
        events.GENERATION_SYMBOL_DOCUMENTED,
        events.GENERATION_SYMBOL_FAILED,
    ]
    assert [e.sequence for e in seen] == [1, 2, 3, 4]
    assert {e.job_id for e in seen} == {"job_1"} and {e.source for e in seen} == {
        "doctown.generation"
    }
    assert [e.status for e in seen] == [None, None, None, "partial"]
    assert any("b: refusal" in w for w in seen[-1].payload["warnings"])
    documented = next(e for e in seen if e.type == events.GENERATION_SYMBOL_DOCUMENTED)
    assert documented.payload["symbol_id"] == "a" and documented.payload["tokens_used"] > 0


async def test_an_empty_batch_is_a_success(make_engine: MakeEngine) -> None:
    result = await run(make_engine(), [])
    assert (
        result.status == "success" and result.total_tokens == 0 and result.documented_symbols == []
    )


async def test_concurrent_jobs_share_one_bound(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.latency = 0.05
    engine = make_engine(max_concurrent_requests=3, doctown_group_size=2)
    batches = [[symbol(f"{j}-{i}", f"job{j}_fn{i}") for i in range(6)] for j in range(3)]
    try:
        results = await asyncio.gather(
            *(engine.generate(f"job{j}", b) for j, b in enumerate(batches))
        )
    finally:
        await engine.backend.aclose()
    assert all(r.status == "success" for r in results)
    assert fake_openai.peak_in_flight == 3

"""Several symbols of one file in one request: formed, answered, split, billed and recovered."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from doctown import pricing
from doctown.backends.facts import FactsBackend
from doctown.config import load_settings
from doctown.generation import GenerationEngine, build_engine
from doctown.generation.cache import SummaryCache
from doctown.generation.engine import DependencyOrder
from doctown.generation.grouping import Grouping, divide, share
from doctown.model_catalog import Price
from doctown.prompts import PromptBuilder
from doctown.schemas import GenerateResponse, SymbolInput
from doctown.testing import FakeOpenAIServer, insufficient_quota, ok, refusal, text
from doctown.tokens import TokenCounter
from doctown.usage import Usage, total
from tests.conftest import symbol
from tests.generation.test_budget import dollar_a_token

MakeEngine = Callable[..., GenerationEngine]
COUNTER = TokenCounter("gpt-5-nano")


def in_files(*counts: int) -> list[SymbolInput]:
    """`counts[i]` functions in file i, in file order."""
    return [
        symbol(f"f{f}s{s}", f"fn_{f}_{s}", file_path=f"pkg/file_{f}.py")
        for f, count in enumerate(counts)
        for s in range(count)
    ]


async def run(engine: GenerationEngine, symbols: list[SymbolInput]) -> GenerateResponse:
    try:
        return await engine.generate("job", symbols)
    finally:
        await engine.backend.aclose()


def items_per_request(server: FakeOpenAIServer) -> list[int]:
    return [
        request["body"]["messages"][-1]["content"].count("\nSymbol: ")
        for request in server.chat_requests()
    ]


def test_divide_adds_up_and_keeps_each_part_within_the_larger_total() -> None:
    assert divide(10, [1, 1, 1]) == [4, 3, 3]  # ties go to the earlier part
    assert divide(7, [0, 0]) == [4, 3] and divide(5, []) == []
    assert divide(100, [300, 100]) == [75, 25]
    rng = random.Random(20250601)
    for _ in range(500):
        weights = [rng.randrange(0, 400) for _ in range(rng.randrange(1, 9))]
        tokens = rng.randrange(0, 5_000)
        cached = rng.randrange(0, tokens + 1)
        inputs = divide(tokens, weights)
        parts = divide(cached, inputs)
        assert sum(inputs) == tokens and sum(parts) == cached
        assert all(0 <= part <= whole for part, whole in zip(parts, inputs, strict=True))


def test_shares_of_a_request_add_up_to_what_was_billed() -> None:
    usage = Usage(input_tokens=901, cached_tokens=128, output_tokens=97, reasoning_tokens=10)
    usage = usage + Usage(requests=1)
    parts = share(usage, [300, 200, 100], [50, 0, 25])
    assert total(parts) == usage
    assert [part.requests for part in parts] == [1, 0, 0]
    assert [part.output_tokens for part in parts] == [65, 0, 32]  # 97 in proportion 50:0:25
    assert [part.reasoning_tokens for part in parts] == [7, 0, 3]
    price = Price(input=Decimal("0.05"), cached_input=Decimal("0.005"), output=Decimal("0.40"))
    assert sum(pricing.cost(part, price) for part in parts) == pricing.cost(usage, price)


def test_requests_group_a_file_s_prompts_in_order_up_to_the_limits() -> None:
    builder = PromptBuilder(COUNTER, max_prompt_tokens=2000, few_shot=False)
    prompts = [builder.build(item.context) for item in in_files(5, 1, 3)]
    requests = Grouping(COUNTER, max_symbols=2).requests(prompts)
    members = [[prompts.index(m) for m in request.members] for request in requests]
    assert members == [[0, 1], [2, 3], [4], [5], [6, 7], [8]]
    # A symbol alone is sent its own prompt; the others one prompt for the group.
    assert requests[2].prompt is prompts[4] and requests[3].prompt is prompts[5]
    assert requests[0].prompt.symbols == 2 and requests[0].prompt.part is None
    # Interleaved files still group by file, in order of first appearance.
    mixed = [prompts[0], prompts[5], prompts[1]]
    assert [len(r.members) for r in Grouping(COUNTER).requests(mixed)] == [2, 1]
    # The token limit closes a group too.
    small = Grouping(COUNTER, max_symbols=8, max_prompt_tokens=400).requests(prompts[:5])
    assert 1 < len(small) < 5 and all(r.prompt.prompt_tokens <= 450 for r in small)
    # The small model's prompts never join a group.
    compact = PromptBuilder(COUNTER, max_prompt_tokens=2000, few_shot=True)
    alone = [compact.build(item.context) for item in in_files(3)]
    assert [len(r.members) for r in Grouping(COUNTER).requests(alone)] == [1, 1, 1]


async def test_a_file_s_symbols_share_a_request_and_each_gets_its_own_summary(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.cached_tokens = 40
    engine = make_engine(doctown_group_size=3)
    result = await run(engine, in_files(4, 2))
    assert result.status == "success"
    assert items_per_request(fake_openai) == [3, 1, 2]
    summaries = {d.symbol_id: d.summary for d in result.documented_symbols}
    assert summaries["f0s2"] == "Documents the function fn_0_2."
    assert summaries["f1s1"] == "Documents the function fn_1_1."
    # Each request is billed once, its usage divided among its symbols.
    assert result.usage.requests == 3
    assert sum(d.input_tokens for d in result.documented_symbols) == result.usage.input_tokens
    assert sum(d.cached_tokens for d in result.documented_symbols) == 3 * 40
    by_request = [d for d in result.documented_symbols if d.symbol_id.startswith("f1")]
    request = fake_openai.chat_requests()[2]["body"]["messages"]
    assert sum(d.input_tokens for d in by_request) == COUNTER.count_messages(request)
    assert Decimal(str(result.total_cost)) == sum(
        (Decimal(str(d.cost)) for d in result.documented_symbols), Decimal(0)
    )
    # The request asks for the group's schema, with room for every summary.
    body = fake_openai.chat_requests()[0]["body"]
    schema = body["response_format"]["json_schema"]
    assert schema["name"] == "DocumentationGroup" and schema["schema"]["required"] == [
        "1",
        "2",
        "3",
    ]
    assert body["max_completion_tokens"] == 2048 + 2 * 160


async def test_a_summary_left_out_fails_only_its_symbol(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    answer = json.dumps({"1": "Adds the first.", "3": "Adds the third."})
    fake_openai.on("Symbol: fn_0_1\n", text(answer), times=1)
    result = await run(make_engine(), in_files(3))
    assert len(fake_openai.chat_requests()) == 1  # nothing asked again
    assert [d.summary for d in result.documented_symbols] == ["Adds the first.", "Adds the third."]
    (failed,) = result.failed_symbols
    assert (failed.symbol_id, failed.reason) == ("f0s1", "invalid_output")
    assert "no summary under [2]" in failed.message and failed.tokens_used > 0
    assert result.usage.input_tokens == COUNTER.count_messages(
        fake_openai.chat_requests()[0]["body"]["messages"]
    )


async def test_an_answer_with_keys_not_asked_for_is_asked_again_one_by_one(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    # Numbered from 0: the numbering cannot be trusted, so nothing of it is kept.
    shifted = json.dumps({"0": "First.", "1": "Second."})
    fake_openai.on("Symbol: fn_0_0\n", text(shifted), times=1)
    result = await run(make_engine(), in_files(2))
    assert items_per_request(fake_openai) == [2, 1, 1]
    assert [d.summary for d in result.documented_symbols] == [
        "Documents the function fn_0_0.",
        "Documents the function fn_0_1.",
    ]
    # Each symbol carries its share of the refused answer and counts it as an attempt.
    assert [d.attempts for d in result.documented_symbols] == [2, 2]
    assert sum(d.input_tokens for d in result.documented_symbols) == result.usage.input_tokens
    assert result.usage.requests == 3


async def test_a_refused_group_is_asked_one_symbol_at_a_time(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.on("Symbol: fn_0_1\n", refusal())
    result = await run(make_engine(), in_files(3))
    assert items_per_request(fake_openai) == [3, 1, 1, 1]
    assert [d.symbol_id for d in result.documented_symbols] == ["f0s0", "f0s2"]
    (failed,) = result.failed_symbols
    assert (failed.symbol_id, failed.reason, failed.attempts) == ("f0s1", "refusal", 2)
    assert result.total_tokens == sum(d.tokens_used for d in result.documented_symbols) + sum(
        f.tokens_used for f in result.failed_symbols
    )


async def test_a_stop_on_a_group_stops_the_job_for_all_its_symbols(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.on("Symbol: fn_1_0\n", insufficient_quota())
    result = await run(make_engine(max_concurrent_requests=1), in_files(2, 2, 2))
    assert result.status == "aborted" and result.error is not None
    assert [d.symbol_id for d in result.documented_symbols] == ["f0s0", "f0s1"]
    reasons = [(f.symbol_id, f.reason) for f in result.failed_symbols]
    assert reasons == [
        ("f1s0", "insufficient_quota"),
        ("f1s1", "insufficient_quota"),
        ("f2s0", "not_attempted"),
        ("f2s1", "not_attempted"),
    ]
    assert len(fake_openai.chat_requests()) == 2


async def test_the_cost_cap_reserves_a_group_s_worst_case(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    engine = dollar_a_token(make_engine, doctown_group_size=2)
    symbols = in_files(2, 2, 2, 2)
    first = engine.requests_for([p.prompt for p in engine.plan(symbols[:2])])[0].prompt
    worst = Decimal(first.prompt_tokens + 100 + 160)  # the prompt and room for two summaries
    try:
        capped = await engine.generate("job", symbols, max_cost=worst * Decimal("2.5"))
    finally:
        await engine.backend.aclose()
    sent = len(fake_openai.chat_requests())
    spent = Decimal(str(capped.total_cost))
    assert 2 <= sent < 4 and spent <= worst * Decimal("2.5") < spent + worst
    assert [d.symbol_id for d in capped.documented_symbols] == [s.symbol_id for s in symbols][
        : 2 * sent
    ]
    reasons = [f.reason for f in capped.failed_symbols]
    assert reasons == ["budget_exhausted"] * 2 + ["not_attempted"] * (6 - 2 * sent)


async def test_groups_take_one_request_slot_each(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.latency = 0.05
    result = await run(make_engine(max_concurrent_requests=2), in_files(4, 4, 4, 4, 4))
    assert len(result.documented_symbols) == 20
    assert len(fake_openai.chat_requests()) == 5 and fake_openai.peak_in_flight == 2


async def test_an_ungrounded_summary_from_a_group_is_asked_again_alone(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    from doctown.generation.grounding import GroundingPolicy, KnownNames

    fake_openai.on("Symbol: fn_0_1\n", ok("Calls `FrobnicateManager` to add."), times=1)
    engine = make_engine()
    try:
        result = await engine.generate(
            "job", in_files(3), grounding=GroundingPolicy(table=KnownNames.of([]))
        )
    finally:
        await engine.backend.aclose()
    assert len(fake_openai.chat_requests()) == 2
    # The re-ask continues the symbol's own conversation: its prompt, the answer, the request.
    again = fake_openai.chat_requests()[1]["body"]["messages"]
    assert [m["role"] for m in again] == ["system", "user", "assistant", "user"]
    assert "Symbol: fn_0_1\n" in again[1]["content"] and "[1]" not in again[1]["content"]
    assert "`FrobnicateManager`" in again[-1]["content"]
    by_id = {d.symbol_id: d for d in result.documented_symbols}
    assert by_id["f0s1"].reasked and "Frobnicate" not in by_id["f0s1"].summary
    assert not by_id["f0s0"].reasked and not by_id["f0s2"].reasked


async def test_a_rerun_asks_only_the_changed_symbol_and_groups_what_changed(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    symbols = in_files(5)
    first = await run(make_engine(cache=cache), symbols)
    assert items_per_request(fake_openai) == [5]
    changed = [
        symbol(item.symbol_id, item.context.name, file_path="pkg/file_0.py", calls=["fresh"])
        if item.symbol_id in ("f0s1", "f0s3")
        else item
        for item in symbols
    ]
    second = await run(make_engine(cache=cache), changed)
    assert items_per_request(fake_openai) == [5, 2]
    assert [d.cached for d in second.documented_symbols] == [True, False, True, False, True]
    # A cached summary says what its share of the first request cost.
    cached = second.documented_symbols[0]
    assert cached.original_usage is not None
    assert cached.original_usage.input_tokens == first.documented_symbols[0].input_tokens


async def test_each_wave_is_grouped_on_its_own_callees_first(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    fake_openai.on("Symbol: leaf_a\n", ok("Returns one."))
    symbols = [
        symbol("top_a", "top_a", calls=["pkg.leaf_a"]),
        symbol("top_b", "top_b", calls=["pkg.leaf_b"]),
        symbol("leaf_a", "leaf_a", calls=[]),
        symbol("leaf_b", "leaf_b", calls=[]),
    ]
    order = DependencyOrder(
        waves=[["leaf_a", "leaf_b"], ["top_a", "top_b"]],
        callees={"top_a": [("pkg.leaf_a", "leaf_a")], "top_b": [("pkg.leaf_b", "leaf_b")]},
    )
    engine = make_engine()
    try:
        result = await engine.generate("job", symbols, order=order)
    finally:
        await engine.backend.aclose()
    assert result.status == "success" and items_per_request(fake_openai) == [2, 2]
    callers = fake_openai.chat_requests()[1]["body"]["messages"][-1]["content"]
    assert "[1]\nSymbol: top_a\n" in callers and "- pkg.leaf_a: Returns one." in callers


def test_backends_that_answer_one_symbol_are_never_sent_a_group() -> None:
    facts = build_engine(load_settings(doctown_backend="facts", doctown_group_size=8))
    assert facts.grouping is None
    forced = GenerationEngine(
        FactsBackend(),
        PromptBuilder(COUNTER, max_prompt_tokens=2000, few_shot=False),
        grouping=Grouping(COUNTER),
    )
    assert forced.grouping is None
    assert len(forced.requests_for([p.prompt for p in forced.plan(in_files(3))])) == 3


async def test_a_group_nobody_waits_for_is_cancelled_like_a_lone_request() -> None:
    import asyncio

    from doctown.generation.grouping import GroupingBackend
    from doctown.testing import FunctionBackend

    started, cancelled = asyncio.Event(), asyncio.Event()

    async def hang(_: object) -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    builder = PromptBuilder(COUNTER, max_prompt_tokens=2000, few_shot=False)
    grouped = GroupingBackend(FunctionBackend(hang), Grouping(COUNTER))
    waiters = [
        asyncio.create_task(grouped.complete(builder.build(item.context))) for item in in_files(3)
    ]
    await asyncio.wait_for(started.wait(), 5)
    waiters[0].cancel()  # one caller gone: the others still wait for the answer
    await asyncio.sleep(0)
    assert not cancelled.is_set()
    for waiter in waiters[1:]:
        waiter.cancel()  # the job stopped: nobody waits, so the request stops too
    await asyncio.wait_for(cancelled.wait(), 5)
    await asyncio.gather(*waiters, return_exceptions=True)

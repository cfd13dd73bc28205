"""One option's run over a prepared corpus, with the fake OpenAI server behind the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from doctown.evaluation.corpora import Corpus
from doctown.evaluation.harness import (
    PreparedCorpus,
    Run,
    callees_of,
    grouped_with,
    prepare,
    run_option,
)
from doctown.evaluation.options import OPTIONS
from doctown.generation import GenerationEngine
from doctown.testing import FakeOpenAIServer, ok

SHOP = Corpus(name="shop", source="folder", path="shop-repo")


async def evaluate(prepared: PreparedCorpus, option: str, engine: GenerationEngine) -> Run:
    try:
        return await run_option(prepared, OPTIONS[option], engine, job_id=f"eval-{option}")
    finally:
        await engine.backend.aclose()


def only(prepared: PreparedCorpus, name: str) -> PreparedCorpus:
    """The prepared corpus with a sample of one symbol."""
    symbols = prepared.analysis.symbols
    prepared.sample = [i for i in prepared.sample if symbols[i].qualified_name == name]
    return prepared


async def test_callees_are_documented_first_and_shown_to_their_caller(
    shop: Path, fake_openai: FakeOpenAIServer, make_engine: Any
) -> None:
    prepared = only(prepare(SHOP, shop, limit=8, seed=7), "shop.cart.Cart.checkout")
    symbols = prepared.analysis.symbols
    assert [symbols[i].name for i in callees_of(prepared)] == ["apply_discount", "total"]
    fake_openai.on("Symbol: total\n", ok("Adds up the prices of the items."))
    fake_openai.on("Symbol: apply_discount\n", ok("Takes a percentage off an amount."))
    result = await evaluate(prepared, "callees", make_engine())
    assert result.generated == 3 and [r.name for r in result.records] == ["shop.cart.Cart.checkout"]
    prompts = [r["body"]["messages"][-1]["content"] for r in fake_openai.chat_requests()]
    assert "Symbol: checkout\n" in prompts[-1]  # the caller comes last, in its own wave
    assert "What its callees do" in prompts[-1]
    assert "Adds up the prices of the items." in prompts[-1]
    assert "Takes a percentage off an amount." in prompts[-1]
    (record,) = result.records
    assert record.summary == "Documents the method checkout." and record.input_tokens > 0


async def test_the_bare_option_shows_no_callee_summaries(
    shop: Path, fake_openai: FakeOpenAIServer, make_engine: Any
) -> None:
    prepared = only(prepare(SHOP, shop, limit=8, seed=7), "shop.cart.Cart.checkout")
    result = await evaluate(prepared, "bare", make_engine())
    assert result.generated == 1
    # Each symbol's time and the run's CPU time are kept for the report.
    assert result.records[0].seconds is not None and 0 < result.records[0].seconds <= result.seconds
    assert result.cpu_seconds > 0
    (request,) = fake_openai.chat_requests()
    assert "What its callees do" not in request["body"]["messages"][-1]["content"]


async def test_grounded_asks_again_and_scores_the_second_answer(
    shop: Path, fake_openai: FakeOpenAIServer, make_engine: Any
) -> None:
    prepared = only(prepare(SHOP, shop, limit=8, seed=7), "shop.pricing.total")
    fake_openai.on("Symbol: total\n", ok("Sums prices with `ghost_helper`."), times=1)
    result = await evaluate(prepared, "grounded", make_engine())
    (record,) = result.records
    assert len(fake_openai.chat_requests()) == 2
    assert "`ghost_helper`" in fake_openai.chat_requests()[1]["body"]["messages"][-1]["content"]
    assert record.reasked and record.ungrounded == []
    assert record.summary is not None and "ghost_helper" not in record.summary

    # Without the option the made-up name stays, and the harness's own check finds it.
    fake_openai.on("Symbol: total\n", ok("Sums prices with `ghost_helper`."), times=1)
    plain = await evaluate(prepared, "bare", make_engine())
    assert plain.records[0].ungrounded == ["ghost_helper"] and not plain.records[0].reasked


async def test_grouped_asks_each_sampled_symbol_with_its_file_as_a_build_does(
    shop: Path, fake_openai: FakeOpenAIServer, make_engine: Any
) -> None:
    prepared = only(prepare(SHOP, shop, limit=8, seed=7), "shop.cart.Cart.checkout")
    symbols = prepared.analysis.symbols
    engine = make_engine(doctown_group_size=3)
    neighbours = [
        symbols[i].qualified_name for i in grouped_with(prepared, OPTIONS["grouped"], engine)
    ]
    # cart.py's symbols in a build's order, three per request: checkout shares the second.
    assert neighbours == ["shop.cart.Cart.add", "shop.cart.Cart.checkout"]
    result = await evaluate(prepared, "grouped", engine)
    (request,) = fake_openai.chat_requests()
    asked = request["body"]["messages"][-1]["content"]
    assert asked.startswith(
        "File: <untrusted-path>shop/cart.py</untrusted-path> (python)\n[1]\nSymbol: add\n"
    )
    assert "[2]\nSymbol: checkout\n" in asked and "<untrusted-source>" in asked
    assert "Total the cart" not in asked  # docstrings stay hidden, the neighbours' too
    # Only the sample is scored, with its share of the request.
    assert result.generated == 2 and [r.name for r in result.records] == ["shop.cart.Cart.checkout"]
    (record,) = result.records
    assert record.summary == "Documents the method checkout."
    assert 0 < record.input_tokens < request_tokens(fake_openai)


def request_tokens(server: FakeOpenAIServer) -> int:
    """The prompt tokens the fake server counted for its only chat request."""
    from doctown.tokens import TokenCounter

    (request,) = server.chat_requests()
    return TokenCounter("gpt-5-nano").count_messages(request["body"]["messages"])

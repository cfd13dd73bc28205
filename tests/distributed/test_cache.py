"""The workers' Redis summary cache: what a redelivered shard and a later build find in it."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from redis.asyncio import Redis

from doctown.backends.base import Completion
from doctown.backends.formats import OutputFormat
from doctown.distributed.cache import RedisCachingBackend, RedisSummaryCache
from doctown.model_catalog import Price
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput, GroupOutput
from doctown.usage import Usage
from tests.distributed.processes import Cluster


class CountingBackend:
    """Answers every prompt with the same summary, counting the calls."""

    name = "openai"
    model = "gpt-5-nano"
    price = Price(input=Decimal(0), cached_input=Decimal(0), output=Decimal(0))
    few_shot = False
    preview = False
    supports_groups = False
    max_completion_tokens = 300

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, prompt: Prompt) -> Completion:
        self.calls += 1
        # Read from a server that ignores formats: the answer's bare text.
        summary = DocumentationOutput(summary="Adds two numbers.")
        return Completion(summary, Usage(40, 0, 8, 0, 1), output_format=OutputFormat.TEXT)

    async def readiness(self) -> str | None:
        return None

    async def aclose(self) -> None:
        return None


def test_a_redelivered_shard_reports_what_was_paid_and_a_later_build_pays_nothing(
    cluster: Cluster,
) -> None:
    cluster.reset()
    prompt = Prompt(
        messages=[{"role": "user", "content": "Symbol: add"}], prompt_tokens=40, truncated=False
    )

    async def scenario() -> list[Completion]:
        client = Redis.from_url(cluster.redis_url)
        try:
            cache = RedisSummaryCache(client, seconds=60)
            backend = CountingBackend()
            first = RedisCachingBackend(backend, cache, build="build-a")
            answers = [await first.complete(prompt)]
            answers.append(
                await RedisCachingBackend(backend, cache, build="build-a").complete(prompt)
            )
            answers.append(
                await RedisCachingBackend(backend, cache, build="build-b").complete(prompt)
            )
            assert backend.calls == 1
            await client.set("doctown:summary:damaged", b"not json")
            assert await cache.get("damaged") is None
            return answers
        finally:
            await client.aclose()

    paid, redelivered, later = asyncio.run(scenario())
    assert paid.usage == redelivered.usage == Usage(40, 0, 8, 0, 1)
    assert not redelivered.cached and redelivered.output.summary == "Adds two numbers."
    assert later.cached and later.usage == Usage() and later.attempts == 0
    # Each still says how it was read, and the later build's hit what making it cost.
    assert {a.output_format for a in (paid, redelivered, later)} == {OutputFormat.TEXT}
    assert later.original_usage == Usage(40, 0, 8, 0, 1) and later.cost_to_make == paid.usage


def test_a_group_s_answer_is_kept_whole_under_the_request_s_key(cluster: Cluster) -> None:
    cluster.reset()
    prompt = Prompt(
        messages=[{"role": "user", "content": "[1]\nSymbol: a\n[2]\nSymbol: b"}],
        prompt_tokens=30,
        truncated=False,
        symbols=2,
    )
    answer = GroupOutput(summaries={"1": "Adds.", "2": "Subtracts."})

    class GroupBackend(CountingBackend):
        async def complete(self, prompt: Prompt) -> Completion:
            self.calls += 1
            return Completion(answer, Usage(30, 0, 12, 0, 1))

    async def scenario() -> tuple[Completion, Completion, int]:
        client = Redis.from_url(cluster.redis_url)
        try:
            cache = RedisSummaryCache(client, seconds=60)
            backend = GroupBackend()
            first = await RedisCachingBackend(backend, cache, build="b1").complete(prompt)
            again = await RedisCachingBackend(backend, cache, build="b2").complete(prompt)
            return first, again, backend.calls
        finally:
            await client.aclose()

    first, again, calls = asyncio.run(scenario())
    assert calls == 1 and first.output == again.output == answer
    assert again.cached and again.usage == Usage()

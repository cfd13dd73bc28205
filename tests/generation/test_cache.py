"""The summary cache: a real SQLite file, free hits, keys that change with the prompt."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from doctown.generation import GenerationEngine
from doctown.generation.cache import SummaryCache, lease_owner
from doctown.testing import FakeOpenAIServer, refusal
from doctown.usage import Usage
from tests.conftest import symbol

MakeEngine = Callable[..., GenerationEngine]


async def generate(engine: GenerationEngine, symbols):  # type: ignore[no-untyped-def]
    try:
        return await engine.generate("job", symbols)
    finally:
        await engine.backend.aclose()


async def test_a_second_run_is_served_from_the_cache(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    symbols = [symbol("a", "alpha"), symbol("b", "beta")]
    first = await generate(make_engine(cache=cache), symbols)
    assert len(fake_openai.chat_requests()) == 2 and first.total_cost > 0
    second = await generate(make_engine(cache=cache), symbols)
    assert len(fake_openai.chat_requests()) == 2  # no new call
    assert [d.summary for d in second.documented_symbols] == [
        d.summary for d in first.documented_symbols
    ]
    assert all(d.cached and d.tokens_used == 0 for d in second.documented_symbols)
    assert second.total_cost == 0 and second.usage.requests == 0


async def test_a_changed_context_is_asked_again(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    await generate(make_engine(cache=cache), [symbol("a", "alpha"), symbol("b", "beta")])
    changed = [symbol("a", "alpha"), symbol("b", "beta", calls=["new_helper"])]
    result = await generate(make_engine(cache=cache), changed)
    assert len(fake_openai.chat_requests()) == 3
    assert [d.cached for d in result.documented_symbols] == [True, False]


async def test_failures_are_not_cached(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    fake_openai.on("Symbol: alpha\n", refusal(), times=1)
    first = await generate(make_engine(cache=cache), [symbol("a", "alpha")])
    assert first.failed_symbols and cache.stats().entries == 0
    second = await generate(make_engine(cache=cache), [symbol("a", "alpha")])
    assert second.documented_symbols and len(fake_openai.chat_requests()) == 2


async def test_the_model_is_part_of_the_key(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    await generate(make_engine(cache=cache), [symbol("a", "alpha")])
    await generate(make_engine(cache=cache, model_name="gpt-5-mini"), [symbol("a", "alpha")])
    assert len(fake_openai.chat_requests()) == 2
    assert cache.stats().by_model == {"openai/gpt-5-mini": 1, "openai/gpt-5-nano": 1}


def test_entries_are_committed_at_once_and_can_be_cleared(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    cache = SummaryCache(path)
    cache.put("k", backend="openai", model="m", summary="Does things.", usage=Usage(10, 0, 5, 0, 1))
    # Another connection (another process, after a crash) sees the row immediately.
    rows = sqlite3.connect(path).execute("SELECT key, summary FROM summaries").fetchall()
    assert rows == [("k", "Does things.")]
    assert cache.get("k") == ("Does things.", Usage(10, 0, 5, 0, 1))
    assert cache.clear() == 1 and cache.get("k") is None


def test_a_lease_is_held_by_one_owner_until_released_or_lapsed(tmp_path: Path) -> None:
    first, second = SummaryCache(tmp_path / "c.sqlite3"), SummaryCache(tmp_path / "c.sqlite3")
    assert first.lease("k", "a") and first.lease("k", "a")  # its holder may take it again
    assert not second.lease("k", "b") and second.leased_by_another("k", "b")
    first.release("k", "a")
    assert second.lease("k", "b", seconds=0.0)  # taken, but lapses at once
    assert first.lease("k", "a") and not first.leased_by_another("k", "a")

    # A lease left by a process of this machine that died (kill -9) is taken over at once.
    ended = subprocess.Popen(["true"])
    ended.wait()
    assert second.lease("j", f"{socket.gethostname()}/{ended.pid}/x", seconds=600)
    assert not first.leased_by_another("j", lease_owner()) and first.lease("j", "a")


async def test_jobs_sharing_a_cache_ask_a_prompt_in_flight_only_once(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, tmp_path: Path
) -> None:
    fake_openai.latency = 0.2
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    symbols = [symbol(str(i), f"name_{i}") for i in range(6)]
    engines = [make_engine(cache=cache) for _ in range(3)]
    results = await asyncio.gather(*(generate(engine, symbols) for engine in engines))
    assert len(fake_openai.chat_requests()) == len(symbols)
    assert all(len(result.documented_symbols) == len(symbols) for result in results)
    assert sum(d.cached for result in results for d in result.documented_symbols) == 12

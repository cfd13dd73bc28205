"""The summary cache: a real SQLite file, free hits, keys that change with the prompt."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from doctown import pricing
from doctown.backends.base import Completion
from doctown.backends.formats import OutputFormat
from doctown.generation import GenerationEngine
from doctown.generation.cache import CachedSummary, CachingBackend, SummaryCache, lease_owner
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput
from doctown.testing import FakeOpenAIServer, FunctionBackend, refusal
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
    assert len(fake_openai.chat_requests()) == 1 and first.total_cost > 0  # one request for both
    second = await generate(make_engine(cache=cache), symbols)
    assert len(fake_openai.chat_requests()) == 1  # no new call
    assert [d.summary for d in second.documented_symbols] == [
        d.summary for d in first.documented_symbols
    ]
    assert all(d.cached and d.tokens_used == 0 for d in second.documented_symbols)
    assert second.total_cost == 0 and second.usage.requests == 0
    # What each summary cost to make is returned from the cache with it.
    for paid, free in zip(first.documented_symbols, second.documented_symbols, strict=True):
        assert paid.original_usage is None and free.original_usage is not None
        assert (free.original_usage.input_tokens, free.original_usage.output_tokens) == (
            paid.input_tokens,
            paid.output_tokens,
        )
        assert free.original_usage.cost == paid.cost > 0


async def test_an_identical_prompt_asked_once_still_says_what_it_cost(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine
) -> None:
    result = await generate(make_engine(), [symbol("a", "alpha"), symbol("b", "alpha")])
    first, again = result.documented_symbols
    assert len(fake_openai.chat_requests()) == 1 and again.reused_from == "a"
    assert again.cost == 0 and again.original_usage is not None
    assert again.original_usage.cost == first.cost > 0


async def test_a_changed_context_is_asked_again(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    await generate(make_engine(cache=cache), [symbol("a", "alpha"), symbol("b", "beta")])
    changed = [symbol("a", "alpha"), symbol("b", "beta", calls=["new_helper"])]
    result = await generate(make_engine(cache=cache), changed)
    # They shared a request; each summary was cached under its own prompt, so only the changed
    # one is asked again, alone.
    requests = fake_openai.chat_requests()
    assert (
        len(requests) == 2 and requests[1]["body"]["messages"][-1]["content"].count("Symbol:") == 1
    )
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
    assert cache.get("k") == CachedSummary("Does things.", Usage(10, 0, 5, 0, 1), None)
    assert cache.contains(["k", "other"]) == {"k"}
    assert cache.clear() == 1 and cache.get("k") is None


def test_the_output_format_is_kept_and_older_files_gain_its_column(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE summaries (key TEXT PRIMARY KEY, backend TEXT NOT NULL, model TEXT NOT NULL, "
        "prompt_version TEXT NOT NULL, summary TEXT NOT NULL, input_tokens INTEGER NOT NULL, "
        "cached_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, "
        "reasoning_tokens INTEGER NOT NULL, created_at REAL NOT NULL)"
    )
    old.execute("INSERT INTO summaries VALUES ('old', 'openai', 'm', '2', 'Old.', 1, 0, 1, 0, 0)")
    old.commit()
    old.close()
    cache = SummaryCache(path)
    assert cache.get("old") == CachedSummary("Old.", Usage(1, 0, 1, 0, 1), None)
    usage = Usage(10, 0, 5, 0, 1)
    cache.put(
        "new",
        backend="openai",
        model="m",
        summary="New.",
        usage=usage,
        output_format=OutputFormat.TEXT,
    )
    assert cache.get("new") == CachedSummary("New.", usage, OutputFormat.TEXT)


def test_a_batch_answer_is_marked_and_files_without_the_mark_still_read(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    old = sqlite3.connect(path)  # a file written before the batch mark was kept
    old.execute(
        "CREATE TABLE summaries (key TEXT PRIMARY KEY, backend TEXT NOT NULL, model TEXT NOT NULL, "
        "prompt_version TEXT NOT NULL, summary TEXT NOT NULL, input_tokens INTEGER NOT NULL, "
        "cached_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, "
        "reasoning_tokens INTEGER NOT NULL, created_at REAL NOT NULL, output_format TEXT)"
    )
    old.execute(
        "INSERT INTO summaries VALUES ('old', 'openai', 'm', '2', 'Old.', 1, 0, 1, 0, 0, 'text')"
    )
    old.commit()
    old.close()
    cache = SummaryCache(path)
    assert cache.get("old") == CachedSummary("Old.", Usage(1, 0, 1, 0, 1), OutputFormat.TEXT)
    usage = Usage(10, 0, 5, 0, 1)
    cache.put("new", backend="openai", model="m", summary="New.", usage=usage, batch=True)
    found = cache.get("new")
    assert found is not None and found.batch and not cache.get("old").batch  # type: ignore[union-attr]


async def test_a_cached_batch_answer_keeps_its_batch_price(
    fake_openai: FakeOpenAIServer, make_engine: MakeEngine, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    engine = make_engine(cache=cache)
    alpha = symbol("a", "alpha")
    prompt = engine.prompt_builder.build(alpha.context)
    made = Usage(100, 0, 20, 0, 1)
    cache.put(
        SummaryCache.key(engine.backend.name, engine.backend.model, prompt),
        backend=engine.backend.name,
        model=engine.backend.model,
        summary="Adds the numbers of a list.",
        usage=made,
        output_format=OutputFormat.JSON_OBJECT,
        batch=True,  # answered through the Batch API
    )
    (hit,) = (await generate(engine, [alpha])).documented_symbols
    assert fake_openai.chat_requests() == []
    assert hit.cached and hit.batch and hit.output_format == "json_object" and hit.cost == 0
    assert hit.original_usage is not None
    batch_price = pricing.batch_price(engine.backend.price)
    assert hit.original_usage.cost == pricing.as_float(pricing.cost(made, batch_price)) > 0


async def test_stores_from_async_code_are_committed_before_they_return(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite3"
    cache = SummaryCache(path)
    reader = sqlite3.connect(path)

    async def store(i: int) -> bool:
        await cache.store(
            f"k{i}", backend="openai", model="m", summary=f"S{i}.", usage=Usage(1, 0, 1, 0, 1)
        )
        # Another connection (another process, after a crash) sees it the moment store returns.
        return reader.execute("SELECT 1 FROM summaries WHERE key = ?", (f"k{i}",)).fetchone() == (
            1,
        )

    assert all(await asyncio.gather(*(store(i) for i in range(50))))
    cache.close()
    assert reader.execute("SELECT COUNT(*) FROM summaries").fetchone() == (50,)


async def test_a_store_whose_caller_is_cancelled_is_kept_and_the_writer_goes_on(
    tmp_path: Path,
) -> None:
    cache = SummaryCache(tmp_path / "cache.sqlite3")

    def store(key: str) -> asyncio.Task[None]:
        return asyncio.create_task(
            cache.store(key, backend="openai", model="m", summary="S.", usage=Usage(1, 0, 1, 0, 1))
        )

    gate = threading.Event()
    busy = asyncio.create_task(cache._write(lambda db: gate.wait(10)))  # the writer is busy
    await asyncio.sleep(0.05)
    cancelled, waited = store("paid"), store("other")  # they wait in its queue
    await asyncio.sleep(0.05)
    cancelled.cancel()  # e.g. a job stopped while its answer was being stored
    await asyncio.sleep(0.05)
    gate.set()
    await busy
    await asyncio.wait_for(waited, timeout=10)
    await asyncio.wait_for(store("after"), timeout=10)  # the writer thread is still alive
    assert all(cache.get(key) is not None for key in ("paid", "other", "after"))
    cache.close()


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
    # Each symbol is asked once in all (a file's symbols share a request).
    assert sorted(fake_openai.symbols_asked()) == sorted(s.context.name for s in symbols)
    assert all(len(result.documented_symbols) == len(symbols) for result in results)
    assert sum(d.cached for result in results for d in result.documented_symbols) == 12


async def test_an_answer_that_cost_this_build_nothing_is_stored_with_what_it_cost(
    tmp_path: Path,
) -> None:
    # A distributed build's workers found it in their shared cache: free now, not free to make.
    made = Usage(120, 0, 30, 0, 1)
    found = Completion(
        DocumentationOutput(summary="Adds two numbers."),
        Usage(),
        attempts=0,
        cached=True,
        original_usage=made,
        output_format=OutputFormat.JSON_OBJECT,
        batch=True,
    )
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    prompt = Prompt(
        messages=[{"role": "user", "content": "Symbol: add"}], prompt_tokens=5, truncated=False
    )
    backend = FunctionBackend(lambda _: found)
    assert await CachingBackend(backend, cache).complete(prompt) == found
    again = await CachingBackend(backend, cache).complete(prompt)
    assert len(backend.calls) == 1 and again.cached
    assert (again.original_usage, again.output_format, again.batch) == (
        made,
        OutputFormat.JSON_OBJECT,
        True,
    )

"""The Batch API round trip against the fake server: results, failures, limits and resuming."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from doctown import events
from doctown.backends.base import Completion
from doctown.backends.formats import OutputFormat
from doctown.backends.openai import OpenAIBackend
from doctown.batch import BatchRunner
from doctown.batch.client import BatchClient
from doctown.batch.store import BatchStore
from doctown.errors import (
    BatchExpiredError,
    BatchFailedError,
    JobAbortedError,
    RefusalError,
    RequestRejectedError,
    SymbolFailure,
)
from doctown.generation.cache import SummaryCache
from doctown.generation.grouping import Grouping
from doctown.pricing import resolve_price
from doctown.prompts import Prompt, PromptBuilder
from doctown.testing import FakeOpenAIServer, bad_request, refusal
from doctown.tokens import TokenCounter
from doctown.usage import Usage, total
from tests.conftest import TEST_KEY, symbol

POLL = 0.05


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=TEST_KEY, batch_seconds=0.2) as fake:
        yield fake


@pytest.fixture
async def backend(server: FakeOpenAIServer) -> AsyncIterator[OpenAIBackend]:
    backend = OpenAIBackend(
        api_key=TEST_KEY, model="gpt-5-nano", price=resolve_price("gpt-5-nano"),
        base_url=server.base_url,
    )  # fmt: skip
    yield backend
    await backend.aclose()


def prompts(*names: str) -> dict[str, Prompt]:
    builder = PromptBuilder(TokenCounter("gpt-5-nano"), max_prompt_tokens=2000, few_shot=False)
    built = [builder.build(symbol(name, name).context) for name in names]
    return {prompt.key: prompt for prompt in built}


async def uploaded_then_killed(
    first: BatchRunner, asked: dict[str, Prompt]
) -> tuple[BatchClient, str]:
    """What a build killed right after recording its upload leaves: the file and its record."""
    requests = first.requests(asked)
    groups = {r.prompt.key: [m.key for m in r.members] for r in requests if len(r.members) > 1}
    (request_file,) = first.write_requests(requests)
    client = BatchClient(first.backend.api, model=first.backend.model)
    file_id = await client.upload(request_file.path.name, request_file.path.read_bytes())
    first.store.uploaded(
        file_id, base_url=first.backend.base_url, model=first.backend.model,
        output_format="json_schema", keys=request_file.keys, groups=groups,
    )  # fmt: skip
    return client, file_id


def runner(backend: OpenAIBackend, cache: SummaryCache, seen: list[events.Event], **kw):  # type: ignore[no-untyped-def]
    emitter = events.EventEmitter("job", source="test", subscribers=[seen.append])
    return BatchRunner(backend, cache, emitter=emitter, poll_seconds=POLL, **kw)


async def test_a_batch_round_trip_answers_every_prompt_and_fills_the_cache(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    cache, seen = SummaryCache(tmp_path / "cache.sqlite3"), []
    asked = prompts("alpha", "beta", "gamma")
    answers = await runner(backend, cache, seen).run(asked)
    assert set(answers) == set(asked)
    alpha = next(a for a in answers.values() if "alpha" in a.output.summary)  # type: ignore[union-attr]
    assert isinstance(alpha, Completion) and alpha.batch and alpha.usage.input_tokens > 0
    assert alpha.output_format is OutputFormat.JSON_SCHEMA
    assert server.chat_requests() == []  # nothing was sent synchronously
    assert len(server.requests_to("/v1/files")) == len(server.requests_to("/v1/batches")) == 1
    for key in asked:
        found = cache.get(SummaryCache.key_for("openai", "gpt-5-nano", key))
        assert found is not None and found.output_format is OutputFormat.JSON_SCHEMA
    kinds = [e.type for e in seen]
    assert kinds[0] == events.GENERATION_BATCH_SUBMITTED
    assert events.GENERATION_BATCH_PROGRESS in kinds
    assert kinds[-1] == events.GENERATION_BATCH_COMPLETED
    # The uploaded lines are the requests a synchronous run sends, with the prompt as custom_id.
    upload = next(iter(server.batches.files.values())).content.decode().splitlines()[0]
    assert '"url":"/v1/chat/completions"' in upload and '"response_format"' in upload


async def test_large_builds_are_split_into_several_batches(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    asked = prompts(*(f"f{i}" for i in range(5)))
    cache = SummaryCache(tmp_path / "cache.sqlite3")
    answers = await runner(backend, cache, [], max_requests=2).run(asked)
    assert len(answers) == 5 and len(server.requests_to("/v1/batches")) == 3
    assert all(len(b.lines) <= 2 for b in server.batches.batches.values())


async def test_a_partly_failed_batch_fails_only_its_symbols(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    server.on("Symbol: refused\n", refusal())
    server.on("Symbol: rejected\n", bad_request("messages too long"))
    asked = prompts("fine", "refused", "rejected")
    answers = await runner(backend, SummaryCache(tmp_path / "c.sqlite3"), []).run(asked)
    names = ["fine", "refused", "rejected"]
    by_name = {name: answers[key] for key, name in zip(asked, names, strict=True)}
    assert isinstance(by_name["fine"], Completion)
    assert isinstance(by_name["refused"], RefusalError) and by_name["refused"].batch
    assert by_name["refused"].usage.input_tokens > 0  # answered, so billed
    assert isinstance(by_name["rejected"], RequestRejectedError)
    assert "messages too long" in str(by_name["rejected"])


async def test_an_expired_batch_keeps_what_it_answered(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    server.batches.script_outcomes("expired")
    asked = prompts("a1", "a2", "a3", "a4")
    answers = await runner(backend, SummaryCache(tmp_path / "c.sqlite3"), []).run(asked)
    done = [a for a in answers.values() if isinstance(a, Completion)]
    expired = [a for a in answers.values() if isinstance(a, BatchExpiredError)]
    assert len(done) == 2 and len(expired) == 2
    assert expired[0].reason == "batch_expired"


async def test_a_failed_batch_fails_every_symbol_and_a_rerun_submits_again(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    server.batches.script_outcomes("failed")
    cache = SummaryCache(tmp_path / "c.sqlite3")
    asked = prompts("b1", "b2")
    failed = await runner(backend, cache, []).run(asked)
    assert all(isinstance(a, BatchFailedError) for a in failed.values())
    assert "token_limit_exceeded" in str(next(iter(failed.values())))
    again = await runner(backend, cache, []).run(asked)
    assert all(isinstance(a, Completion) for a in again.values())
    assert len(server.requests_to("/v1/batches")) == 2


async def test_a_batch_whose_creation_answer_was_lost_is_found_not_paid_twice(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "c.sqlite3")
    asked = prompts("c1", "c2")
    # A build killed right after POST /v1/batches: uploaded and recorded, the batch created,
    # but its id never stored.
    client, file_id = await uploaded_then_killed(runner(backend, cache, []), asked)
    await client.create(file_id)
    answers = await runner(backend, cache, []).run(asked)
    assert all(isinstance(a, Completion) for a in answers.values()) and len(answers) == 2
    assert len(server.requests_to("/v1/batches")) == 1  # the lost one, adopted
    assert len(server.requests_to("/v1/files")) == 1


async def test_a_server_without_the_batch_api_is_named(tmp_path: Path) -> None:
    with FakeOpenAIServer(api_key=TEST_KEY) as server:
        backend = OpenAIBackend(
            api_key=TEST_KEY, model="gpt-5-nano", price=resolve_price("gpt-5-nano"),
            base_url=server.base_url + "/nowhere",
        )  # fmt: skip
        try:
            with pytest.raises(JobAbortedError, match="no Batch API"):
                await runner(backend, SummaryCache(tmp_path / "c.sqlite3"), []).run(prompts("d"))
        finally:
            await backend.aclose()


def grouped(backend: OpenAIBackend, cache: SummaryCache, seen: list[events.Event]) -> BatchRunner:
    return runner(backend, cache, seen, grouping=Grouping(TokenCounter("gpt-5-nano")))


async def test_a_file_s_symbols_share_a_batch_line_and_are_cached_one_by_one(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "c.sqlite3")
    asked = prompts("alpha", "beta", "gamma")
    answers = await grouped(backend, cache, []).run(asked)
    (batch,) = server.batches.batches.values()
    assert len(batch.lines) == 1  # one request for the three
    line = json.loads(next(iter(server.batches.files.values())).content)
    assert line["body"]["response_format"]["json_schema"]["name"] == "DocumentationGroup"
    assert line["body"]["max_completion_tokens"] == 2048 + 2 * 160
    summaries = {key: answer.summary for key, answer in answers.items()}  # type: ignore[union-attr]
    names = ["alpha", "beta", "gamma"]
    assert [summaries[key] for key in asked] == [f"Documents the function {n}." for n in names]
    assert all(isinstance(a, Completion) and a.batch for a in answers.values())
    shares = [answer.usage for answer in answers.values()]  # type: ignore[union-attr]
    billed = TokenCounter("gpt-5-nano").count_messages(line["body"]["messages"])
    assert total(shares).input_tokens == billed and total(shares).requests == 1
    for key in asked:
        found = cache.get(SummaryCache.key_for("openai", "gpt-5-nano", key))
        assert found is not None and found.summary == summaries[key]


async def test_a_group_line_that_failed_fails_each_of_its_symbols_with_its_share(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    server.on("Symbol: refused\n", refusal())
    asked = prompts("fine", "refused")
    answers = await grouped(backend, SummaryCache(tmp_path / "c.sqlite3"), []).run(asked)
    failures = list(answers.values())
    assert all(isinstance(f, SymbolFailure) and f.reason == "refusal" for f in failures)
    assert all(f.batch and f.usage.input_tokens > 0 for f in failures)  # type: ignore[union-attr]


async def test_a_killed_grouped_build_resumes_its_batch_and_splits_the_answer(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "c.sqlite3")
    asked = prompts("g1", "g2")
    # Killed right after the upload was recorded: the batch was never created.
    await uploaded_then_killed(grouped(backend, cache, []), asked)
    answers = await grouped(backend, cache, []).run(asked)
    assert set(answers) == set(asked) and all(isinstance(a, Completion) for a in answers.values())
    assert len(server.requests_to("/v1/files")) == 1  # its members were covered: not re-sent


async def test_overview_prompts_go_through_a_batch_with_their_schema(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    from doctown.backends.base import stored_text
    from doctown.overviews.prompts import OverviewPromptBuilder
    from doctown.overviews.schemas import ModuleOverviewOutput, OverviewContext, OverviewItem

    builder = OverviewPromptBuilder(TokenCounter("gpt-5-nano"), max_prompt_tokens=3000)
    context = OverviewContext(
        level="module",
        subject="module:a.py",
        title="a.py",
        items=[OverviewItem(ref="a.py::f", name="a.f", kind="function", summary="Does f.")],
    )
    prompt = builder.build(context)
    cache, seen = SummaryCache(tmp_path / "cache.sqlite3"), []
    answers = await runner(backend, cache, seen).run({prompt.key: prompt})
    answer = answers[prompt.key]
    assert isinstance(answer, Completion) and isinstance(answer.output, ModuleOverviewOutput)
    assert answer.batch and answer.output.public_api == ["a.py::f"]
    upload = next(iter(server.batches.files.values())).content.decode()
    assert '"name":"ModuleOverview"' in upload
    stored = cache.get(SummaryCache.key_for("openai", "gpt-5-nano", prompt.key))
    assert stored is not None and stored.summary == stored_text(answer.output)


async def test_another_build_s_open_batch_is_left_alone(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "c.sqlite3")
    theirs, ours = prompts("other1", "other2"), prompts("mine1", "mine2")
    # Another build on the same cache file uploaded its requests and was stopped before
    # creating the batch: that build resumes it, not this one.
    _, their_file = await uploaded_then_killed(runner(backend, cache, []), theirs)
    answers = await runner(backend, cache, []).run(ours)
    assert set(answers) == set(ours) and all(isinstance(a, Completion) for a in answers.values())
    assert len(server.requests_to("/v1/batches")) == 1  # ours only: theirs was never created
    (still_open,) = BatchStore(cache.path).open(base_url=backend.base_url, model=backend.model)
    assert still_open.input_file_id == their_file and still_open.batch_id is None
    assert not cache.contains(SummaryCache.key_for("openai", "gpt-5-nano", k) for k in theirs)
    # Run by its own build, it is resumed, not submitted again.
    resumed = await runner(backend, cache, []).run(theirs)
    assert set(resumed) == set(theirs) and len(server.requests_to("/v1/files")) == 2


async def test_a_summary_another_build_stored_meanwhile_is_not_overwritten(
    server: FakeOpenAIServer, backend: OpenAIBackend, tmp_path: Path
) -> None:
    cache = SummaryCache(tmp_path / "c.sqlite3")
    asked = prompts("raced", "alone")
    raced, alone = (SummaryCache.key_for("openai", "gpt-5-nano", key) for key in asked)
    server.batches.hold = True
    submitted = asyncio.Event()
    emitter = events.EventEmitter("job", source="test", subscribers=[lambda _: submitted.set()])
    batches = BatchRunner(backend, cache, emitter=emitter, poll_seconds=POLL)
    running = asyncio.create_task(batches.run(asked))
    await submitted.wait()
    # While the batch runs, a synchronous build of the same prompt stores its own answer.
    cache.put(raced, backend="openai", model="gpt-5-nano", summary="Written first.", usage=Usage())
    server.batches.hold = False
    await running
    first = cache.get(raced)
    assert first is not None and first.summary == "Written first." and not first.batch
    later = cache.get(alone)
    assert later is not None and later.summary == "Documents the function alone."

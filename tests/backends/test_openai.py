"""The OpenAI backend against the fake server, through the real `openai` client over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from doctown.backends import make_backend
from doctown.backends.openai import OpenAIBackend, retry_after_seconds
from doctown.errors import (
    AuthenticationFailedError,
    InsufficientQuotaError,
    InvalidOutputError,
    ModelNotFoundError,
    RefusalError,
    RequestRejectedError,
    TransientError,
    TruncatedOutputError,
)
from doctown.prompts import PromptBuilder, group_prompt
from doctown.schemas import GroupOutput
from doctown.testing import (
    FakeOpenAIServer,
    bad_request,
    insufficient_quota,
    malformed,
    ok,
    rate_limited,
    refusal,
    server_error,
    stall,
    status_error,
    text,
    truncated,
)
from doctown.tokens import TokenCounter
from tests.conftest import TEST_KEY, openai_settings, symbol


@pytest.fixture(autouse=True)
async def close_backends() -> AsyncIterator[None]:
    yield
    while _open:
        await _open.pop().aclose()


_open: list[OpenAIBackend] = []


def backend_for(server: FakeOpenAIServer, **overrides: object) -> OpenAIBackend:
    backend = make_backend(openai_settings(server, **overrides))
    assert isinstance(backend, OpenAIBackend)
    _open.append(backend)
    return backend


def prompt(name: str = "calculate_total"):  # type: ignore[no-untyped-def]
    return PromptBuilder(TokenCounter("gpt-5-nano"), max_prompt_tokens=2000, few_shot=False).build(
        symbol("s1", name).context
    )


async def test_gpt5_requests_send_what_reasoning_models_accept(
    fake_openai: FakeOpenAIServer,
) -> None:
    completion = await backend_for(fake_openai).complete(prompt())
    body = fake_openai.chat_requests()[0]["body"]
    assert body["model"] == "gpt-5-nano"
    assert body["max_completion_tokens"] >= 1024  # room for reasoning and the answer
    assert body["reasoning_effort"] == "minimal"
    assert "max_tokens" not in body and "temperature" not in body and "top_p" not in body
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["summary"]
    assert completion.output.summary == "Documents the function calculate_total."


async def test_other_models_get_max_tokens_and_temperature(fake_openai: FakeOpenAIServer) -> None:
    await backend_for(fake_openai, model_name="gpt-4o-mini").complete(prompt())
    body = fake_openai.chat_requests()[0]["body"]
    assert body["max_tokens"] == 300 and body["temperature"] == 0.2
    assert "reasoning_effort" not in body and "max_completion_tokens" not in body


async def test_configured_cap_and_effort_are_sent(fake_openai: FakeOpenAIServer) -> None:
    backend = backend_for(fake_openai, max_completion_tokens=4000, reasoning_effort="low")
    await backend.complete(prompt())
    body = fake_openai.chat_requests()[0]["body"]
    assert body["max_completion_tokens"] == 4000 and body["reasoning_effort"] == "low"


async def test_usage_is_read_from_the_api_response(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.reasoning_tokens = 64
    fake_openai.cached_tokens = 100
    p = prompt()
    completion = await backend_for(fake_openai).complete(p)
    assert completion.usage.input_tokens == p.prompt_tokens  # our count agrees with the server's
    assert completion.usage.cached_tokens == 100
    assert completion.usage.reasoning_tokens == 64
    assert completion.usage.output_tokens > 64  # reasoning is part of the output tokens


@pytest.mark.parametrize(
    ("reply", "error", "costs_tokens"),
    [
        (refusal(), RefusalError, True),
        (truncated(), TruncatedOutputError, True),
        (malformed(), InvalidOutputError, True),
        (malformed('{"title": "no summary field"}'), InvalidOutputError, True),
        (ok(summary="   "), InvalidOutputError, True),
        (ok(summary="word " * 200), InvalidOutputError, True),
        (bad_request(), RequestRejectedError, False),
        (status_error(422, "unprocessable"), RequestRejectedError, False),
    ],
)
async def test_per_symbol_failures_keep_what_they_cost(
    fake_openai: FakeOpenAIServer,
    reply,
    error,
    costs_tokens,  # type: ignore[no-untyped-def]
) -> None:
    fake_openai.script(reply)
    with pytest.raises(error) as caught:
        await backend_for(fake_openai).complete(prompt())
    assert (caught.value.usage.input_tokens > 0) is costs_tokens


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
async def test_transient_statuses(fake_openai: FakeOpenAIServer, status: int) -> None:
    fake_openai.script(rate_limited() if status == 429 else server_error(status))
    with pytest.raises(TransientError):
        await backend_for(fake_openai).complete(prompt())


async def test_retry_after_headers_are_read(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(rate_limited(retry_after=7), rate_limited(retry_after_ms=250, retry_after=9))
    backend = backend_for(fake_openai)
    with pytest.raises(TransientError) as first:
        await backend.complete(prompt())
    assert first.value.retry_after == 7
    with pytest.raises(TransientError) as second:
        await backend.complete(prompt())
    assert second.value.retry_after == 0.25  # retry-after-ms wins, it is more precise


def test_retry_after_as_http_date() -> None:
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


async def test_timeouts_are_transient(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(stall(2.0))
    with pytest.raises(TransientError, match="timed out"):
        await backend_for(fake_openai, request_timeout=0.3).complete(prompt())


async def test_connection_refused_is_transient() -> None:
    server = FakeOpenAIServer(api_key=TEST_KEY).start()
    server.stop()
    with pytest.raises(TransientError, match="connection"):
        await backend_for(server).complete(prompt())


async def test_insufficient_quota_is_not_a_rate_limit(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(insufficient_quota())
    with pytest.raises(InsufficientQuotaError, match="insufficient quota"):
        await backend_for(fake_openai).complete(prompt())


async def test_unknown_model_fails_fast_naming_model_name(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.unknown_models = {"gpt-5-nano"}
    with pytest.raises(ModelNotFoundError, match="MODEL_NAME"):
        await backend_for(fake_openai).complete(prompt())


async def test_wrong_key_is_reported_without_the_key(fake_openai: FakeOpenAIServer) -> None:
    backend = backend_for(fake_openai, openai_api_key="sk-wrong-secret-value-1234")
    with pytest.raises(AuthenticationFailedError) as caught:
        await backend.complete(prompt())
    assert "OPENAI_API_KEY" in str(caught.value)
    assert "secret" not in str(caught.value) and "1234" not in str(caught.value)
    assert "1234" not in (await backend.readiness() or "")


def group(*names: str):  # type: ignore[no-untyped-def]
    builder = PromptBuilder(TokenCounter("gpt-5-nano"), max_prompt_tokens=2000, few_shot=False)
    members = [builder.build(symbol(f"s{i}", name).context) for i, name in enumerate(names)]
    return group_prompt(members, TokenCounter("gpt-5-nano"))


async def test_a_group_is_answered_with_each_summary_under_its_number(
    fake_openai: FakeOpenAIServer,
) -> None:
    completion = await backend_for(fake_openai, model_name="gpt-4o-mini").complete(
        group("alpha", "beta")
    )
    assert completion.output == GroupOutput(
        summaries={"1": "Documents the function alpha.", "2": "Documents the function beta."}
    )
    body = fake_openai.chat_requests()[0]["body"]
    assert body["max_tokens"] == 300 + 160  # room for the second summary
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["1", "2"]
    assert completion.usage.requests == 1 and completion.usage.input_tokens > 0


async def test_a_group_answer_that_is_not_the_object_asked_for_fails_whole(
    fake_openai: FakeOpenAIServer,
) -> None:
    # Scripted replies are taken one per symbol; the first that is not a summary answers.
    fake_openai.script(text('{"summary": "Documents both."}'), ok(), truncated(), ok())
    backend = backend_for(fake_openai)
    with pytest.raises(InvalidOutputError, match="JSON object of 2 summaries") as invalid:
        await backend.complete(group("alpha", "beta"))
    assert invalid.value.usage.input_tokens > 0
    with pytest.raises(TruncatedOutputError, match=r"cap \(2208 tokens\)"):
        await backend.complete(group("alpha", "beta"))

"""The policy wrappers one at a time, around a backend that is a function in this process:
retries, the concurrency bound, the stop after a job-level failure, and the cost cap."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from doctown.errors import (
    BudgetExhaustedError,
    InsufficientQuotaError,
    InvalidOutputError,
    NotAttemptedError,
    RetriesExhaustedError,
    TransientError,
)
from doctown.generation.budget import BudgetBackend
from doctown.generation.limits import ConcurrencyLimitedBackend, StopOnAbortBackend
from doctown.generation.retry import RetryingBackend
from doctown.prompts import Prompt, PromptBuilder
from doctown.testing import FunctionBackend
from doctown.tokens import TokenCounter
from tests.conftest import SleepRecorder, symbol

BUILDER = PromptBuilder(TokenCounter("gpt-5-nano"), max_prompt_tokens=2000, few_shot=False)


def prompt(name: str = "add") -> Prompt:
    return BUILDER.build(symbol(name, name).context)


async def test_transient_faults_are_retried_with_the_server_s_hint_then_given_up() -> None:
    faults = [TransientError("503", retry_after=2.5), TransientError("timeout")]

    def answer(_: Prompt) -> str:
        if faults:
            raise faults.pop(0)
        return "Adds two numbers."

    sleeps = SleepRecorder()
    backend = FunctionBackend(answer)
    retried = RetryingBackend(backend, max_attempts=3, initial_delay=1, sleep=sleeps)
    completion = await retried.complete(prompt())
    assert completion.output.summary == "Adds two numbers." and completion.attempts == 3
    assert sleeps.delays[0] == 2.5 and 0.5 <= sleeps.delays[1] <= 2  # hint, then backoff

    always = RetryingBackend(
        FunctionBackend(lambda _: (_ for _ in ()).throw(TransientError("502"))),
        max_attempts=2,
        sleep=SleepRecorder(),
    )
    with pytest.raises(RetriesExhaustedError, match="gave up after 2 attempts"):
        await always.complete(prompt())


async def test_a_symbol_failure_is_never_retried() -> None:
    def answer(_: Prompt) -> str:
        raise InvalidOutputError("not JSON")

    backend = FunctionBackend(answer)
    with pytest.raises(InvalidOutputError):
        await RetryingBackend(backend, sleep=SleepRecorder()).complete(prompt())
    assert len(backend.calls) == 1


async def test_at_most_limit_calls_are_in_flight() -> None:
    in_flight, most = 0, 0

    async def answer(_: Prompt) -> str:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return "Adds."

    limited = ConcurrencyLimitedBackend(FunctionBackend(answer), limit=3)
    await asyncio.gather(*(limited.complete(prompt(f"f{i}")) for i in range(12)))
    assert most == 3


async def test_after_a_job_level_failure_nothing_more_is_sent() -> None:
    def answer(p: Prompt) -> str:
        if "Symbol: broke" in p.messages[-1]["content"]:
            raise InsufficientQuotaError()
        return "Adds."

    backend = FunctionBackend(answer)
    gate = StopOnAbortBackend(backend)
    await gate.complete(prompt("first"))
    with pytest.raises(InsufficientQuotaError):
        await gate.complete(prompt("broke"))
    with pytest.raises(NotAttemptedError):
        await gate.complete(prompt("later"))
    assert len(backend.calls) == 2  # the third was never sent


async def test_the_cost_cap_refuses_a_request_whose_worst_case_would_pass_it() -> None:
    backend = FunctionBackend(lambda _: "Adds.", max_completion_tokens=100)
    one = prompt()
    worst = (Decimal(one.prompt_tokens) * 1 + 100 * 4) / 1_000_000  # TEST_PRICE: $1 in, $4 out
    capped = BudgetBackend(backend, max_cost=worst * 2)
    await capped.complete(one)  # fits; it really costs 100 in and 10 out
    await capped.complete(one)  # what was spent is counted, not the worst case
    with pytest.raises(BudgetExhaustedError):
        for _ in range(50):
            await capped.complete(one)
    assert 2 < len(backend.calls) < 50

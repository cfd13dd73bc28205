"""Policies every worker applies together, wrapped around its backend.

- TokenRateLimitedBackend: one tokens-per-minute budget for all workers (GCRA, state in Redis).
- SharedPauseBackend: a Retry-After seen by one worker holds back every worker.
- SharedStopBackend: a job-level failure (out of quota, refused key, unknown model) on one
  worker stops the build on all of them.

The shared state lives in Redis (`TokenRateLimit`, `SharedSignals`); the wrappers only ask it
before a request and tell it what came back, so a backend knows nothing of any of this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from doctown.backends.base import Backend, Completion
from doctown.distributed.signals import SharedSignals, Stop
from doctown.errors import JobAbortedError, NotAttemptedError, TransientError
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import Prompt

Sleep = Callable[[float], Awaitable[None]]
# GCRA answers "retry after" to the microsecond; waking a little later avoids a wasted check.
MIN_WAIT_SECONDS = 0.01


class TokenRateLimit:
    """A GCRA limiter over tokens per minute whose state is one Redis key (throttled-py).

    Every process that names the same `scope` draws from the same budget. Bursts up to one
    minute's worth are allowed, as API token limits allow them.
    """

    def __init__(
        self, redis_url: str, *, tokens_per_minute: int, scope: str, sleep: Sleep = asyncio.sleep
    ) -> None:
        from throttled.asyncio import RateLimiterType, RedisStore, Throttled, per_min

        self.tokens_per_minute = tokens_per_minute
        self.key = f"tokens:{scope}"
        self._sleep = sleep
        self._throttle = Throttled(
            using=RateLimiterType.GCRA.value,
            quota=per_min(tokens_per_minute),
            store=RedisStore(server=redis_url),
            key_prefix="doctown",
        )

    async def acquire(self, tokens: int) -> float:
        """Wait until `tokens` may be spent, then spend them; returns the seconds waited.

        A request larger than a whole minute's budget waits for the full budget instead of
        forever.
        """
        cost = max(1, min(tokens, self.tokens_per_minute))
        waited = 0.0
        while True:
            result = await self._throttle.limit(self.key, cost=cost)
            if not result.limited:
                return waited
            delay = max(result.state.retry_after, MIN_WAIT_SECONDS)
            await self._sleep(delay)
            waited += delay


class TokenRateLimitedBackend(WrapperBackend):
    """Spends a request's estimated tokens from the shared budget before sending it.

    The estimate is the prompt's exact token count plus the completion cap: the most the
    request can use, which is what an API's token limit holds back for it.
    """

    def __init__(self, wrapped: Backend, limit: TokenRateLimit) -> None:
        super().__init__(wrapped)
        self.limit = limit

    def weight(self, prompt: Prompt) -> int:
        return prompt.prompt_tokens + self.max_completion_tokens

    async def complete(self, prompt: Prompt) -> Completion:
        await self.limit.acquire(self.weight(prompt))
        return await self.wrapped.complete(prompt)


class SharedPauseBackend(WrapperBackend):
    """Waits out any pause announced for `scope`; announces one when the API says Retry-After.

    The worker that got the answer still retries it after the same delay (the retry layer
    does that); the pause keeps every other worker from spending the same seconds on
    requests that would be refused too.
    """

    def __init__(
        self, wrapped: Backend, signals: SharedSignals, scope: str, *, sleep: Sleep = asyncio.sleep
    ) -> None:
        super().__init__(wrapped)
        self.signals = signals
        self.scope = scope
        self._sleep = sleep

    async def complete(self, prompt: Prompt) -> Completion:
        while (remaining := self.signals.paused_for(self.scope)) > 0:
            await self._sleep(remaining)
        try:
            return await self.wrapped.complete(prompt)
        except TransientError as error:
            if error.retry_after:
                await self.signals.pause(self.scope, error.retry_after)
            raise


class SharedStopBackend(WrapperBackend):
    """Sends nothing for a build that has stopped anywhere; stops it everywhere on a
    job-level failure here. Requests already in flight finish: they are paid for."""

    def __init__(self, wrapped: Backend, signals: SharedSignals, build: str) -> None:
        super().__init__(wrapped)
        self.signals = signals
        self.build = build

    async def complete(self, prompt: Prompt) -> Completion:
        stop = self.signals.stopped(self.build)
        if stop is not None:
            raise NotAttemptedError(stop.error())
        try:
            return await self.wrapped.complete(prompt)
        except JobAbortedError as error:
            await self.signals.stop(self.build, Stop(error.reason, str(error)))
            raise

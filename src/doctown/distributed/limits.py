"""Policies every worker applies together, wrapped around its backend.

- TokenRateLimitedBackend: one tokens-per-minute budget for all workers (GCRA in a Redis Lua
  script, so that checking and spending are one atomic step).
- SharedPauseBackend: a Retry-After seen by one worker holds back every worker.
- SharedStopBackend: a job-level failure (out of quota, refused key, unknown model) on one
  worker stops the build on all of them.

The shared state lives in Redis (`TokenRateLimit`, `SharedSignals`); the wrappers only ask it
before a request and tell it what came back, so a backend knows nothing of any of this.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from doctown.backends.base import Backend, Completion, completion_cap
from doctown.distributed.signals import SharedSignals, Stop
from doctown.errors import JobAbortedError, NotAttemptedError, TransientError
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import Prompt

Sleep = Callable[[float], Awaitable[None]]
# Waking a little after the exact moment avoids a check that comes a microsecond too early.
MIN_WAIT_SECONDS = 0.01


# GCRA over one key: the budget's theoretical arrival time (TAT), in Redis's own clock, so
# every machine reads the same time. A request of n tokens moves the TAT n intervals on; it
# conforms when the new TAT is at most one burst ahead of now. Answers the seconds to wait
# (as a string: Redis would truncate a Lua number), "0" when the tokens were taken.
_GCRA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local clock = redis.call("TIME")
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + tokens * interval
local wait = next_tat - burst - now
if wait > 0 then return tostring(wait) end
redis.call("SET", KEYS[1], string.format("%.6f", next_tat),
           "PX", math.ceil((next_tat - now) * 1000) + 1)
return "0"
"""
TOKENS_KEY = "doctown:tokens:{scope}"


class TokenRateLimit:
    """A GCRA limiter over tokens per minute whose whole state is one Redis key.

    Every process that names the same `scope` draws from the same budget; a burst of up to
    one minute's worth is allowed, as API token limits allow it.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        tokens_per_minute: int,
        scope: str,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.tokens_per_minute = tokens_per_minute
        self.key = TOKENS_KEY.format(scope=scope)
        self._interval = 60.0 / tokens_per_minute
        self._script = redis.register_script(_GCRA)
        self._sleep = sleep

    async def acquire(self, tokens: int) -> float:
        """Wait until `tokens` may be spent, then spend them; returns the seconds waited.

        A request larger than a whole minute's budget waits for the full budget instead of
        forever.
        """
        cost = max(1, min(tokens, self.tokens_per_minute))
        burst = self.tokens_per_minute * self._interval
        waited = 0.0
        while True:
            answer = await self._script(keys=[self.key], args=[self._interval, burst, cost])
            delay = float(answer)
            if delay <= 0:
                return waited
            delay = max(delay, MIN_WAIT_SECONDS)
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
        return prompt.prompt_tokens + completion_cap(self.max_completion_tokens, prompt.symbols)

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

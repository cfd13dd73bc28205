"""The one retry layer: exponential backoff with jitter, honouring the server's Retry-After.

Only transient faults are retried, and backends say which those are by raising TransientError:
408, 409, 429 (but not insufficient_quota), 5xx, timeouts and connection errors. Never retried:
400/401/403/404/422, refusals, truncation and invalid output (SymbolFailure: that symbol
fails), nor insufficient quota, a bad key or an unknown model (JobAbortedError: the job stops).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace

from doctown.backends.base import Backend, Completion
from doctown.errors import RetriesExhaustedError, SymbolFailure, TransientError
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import Prompt

DEFAULT_MAX_ATTEMPTS = 3
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0


def backoff_delay(
    attempt: int, retry_after: float | None, *, initial: float, maximum: float
) -> float:
    """Seconds to wait before attempt `attempt + 1`: the server's hint if it gave one."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER)
    ceiling: float = min(maximum, initial * 2 ** (attempt - 1))
    return ceiling * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not cryptography


class RetryingBackend(WrapperBackend):
    """Retries transient faults up to `max_attempts` attempts in all."""

    def __init__(
        self,
        wrapped: Backend,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        initial_delay: float = INITIAL_RETRY_DELAY,
        max_delay: float = MAX_RETRY_DELAY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(wrapped)
        self.max_attempts = max_attempts
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self._sleep = sleep

    async def complete(self, prompt: Prompt) -> Completion:
        for attempt in range(1, self.max_attempts + 1):
            try:
                completion = await self.wrapped.complete(prompt)
            except SymbolFailure as failure:
                # Attempts made below this layer (a worker's own retries) count too.
                failure.attempts += attempt - 1
                raise
            except TransientError as error:
                if attempt == self.max_attempts:
                    raise RetriesExhaustedError(
                        f"gave up after {attempt} attempts; last error: {error}", attempts=attempt
                    ) from None
                await self._sleep(
                    backoff_delay(
                        attempt,
                        error.retry_after,
                        initial=self.initial_delay,
                        maximum=self.max_delay,
                    )
                )
            else:
                return replace(completion, attempts=completion.attempts + attempt - 1)
        raise AssertionError("unreachable: the loop returns or raises")

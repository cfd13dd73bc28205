"""Policies that bound a job: requests in flight, and stopping once nothing can succeed."""

from __future__ import annotations

import asyncio

from doctown.backends.base import Backend, Completion
from doctown.errors import JobAbortedError, JobCancelledError, NotAttemptedError
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import Prompt


class ConcurrencyLimitedBackend(WrapperBackend):
    """At most `limit` calls in flight; the rest wait their turn in arrival order."""

    def __init__(
        self, wrapped: Backend, *, limit: int, semaphore: asyncio.Semaphore | None = None
    ) -> None:
        super().__init__(wrapped)
        self.limit = limit
        # A semaphore may be shared so that concurrent jobs respect one global bound.
        self._semaphore = semaphore or asyncio.Semaphore(limit)

    async def complete(self, prompt: Prompt) -> Completion:
        async with self._semaphore:
            return await self.wrapped.complete(prompt)


class StopOnAbortBackend(WrapperBackend):
    """After the first JobAbortedError, or once `cancel` is set, every later call is refused
    without being sent.

    Requests already in flight finish and are recorded: they are paid for.
    """

    def __init__(self, wrapped: Backend, *, cancel: asyncio.Event | None = None) -> None:
        super().__init__(wrapped)
        self.stopped: JobAbortedError | None = None
        self._cancel = cancel

    async def complete(self, prompt: Prompt) -> Completion:
        if self.stopped is None and self._cancel is not None and self._cancel.is_set():
            self.stopped = JobCancelledError()
        if self.stopped is not None:
            raise NotAttemptedError(self.stopped)
        try:
            return await self.wrapped.complete(prompt)
        except JobAbortedError as error:
            self.stopped = self.stopped or error
            raise

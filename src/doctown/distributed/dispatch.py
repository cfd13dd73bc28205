"""The coordinator's side of the queue: send shards, hand their results to the event loop.

Celery's client is not safe to share between threads (its Redis result consumer reads one
socket), so one thread does all of it: it sends what was submitted, then waits on the
results of every shard in flight at once.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from doctown.distributed.app import SHARD_TASK

if TYPE_CHECKING:
    from celery import Celery
    from celery.result import AsyncResult

logger = logging.getLogger("doctown.distributed")

# Longest a new shard waits to be sent while the thread waits on results.
POLL_SECONDS = 0.05
RETRY_SECONDS = 0.5


class ShardFailedError(Exception):
    """The shard task itself failed on a worker (not one of its prompts)."""


@dataclass
class _Pending:
    result: AsyncResult[Any]
    future: asyncio.Future[dict[str, Any]]
    loop: asyncio.AbstractEventLoop


class ShardDispatcher:
    """Sends shard payloads as Celery tasks; each `submit` returns a future of the result."""

    def __init__(self, app: Celery) -> None:
        self._app = app
        self._submitted: queue.Queue[
            tuple[dict[str, Any], asyncio.Future[dict[str, Any]], asyncio.AbstractEventLoop]
        ] = queue.Queue()
        self._pending: dict[str, _Pending] = {}
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="doctown-dispatch", daemon=True)

    def start(self) -> ShardDispatcher:
        self._thread.start()
        return self

    def submit(self, payload: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        """Queue a shard; call from the event loop that awaits the future."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._submitted.put((payload, future, loop))
        return future

    def close(self) -> None:
        """Stop waiting on results; shards not collected yet are left to their workers."""
        self._closing.set()
        self._thread.join(timeout=10)

    def _serve(self) -> None:
        while not self._closing.is_set():
            try:
                self._send(wait=not self._pending)
                if self._pending:
                    self._collect()
            except Exception as exc:  # the broker went away: keep trying, Celery reconnects
                logger.warning("dispatch: %s; retrying", type(exc).__name__)
                self._closing.wait(RETRY_SECONDS)

    def _send(self, *, wait: bool) -> None:
        timeout = POLL_SECONDS if wait else None
        while True:
            try:
                item = (
                    self._submitted.get(timeout=timeout) if wait else self._submitted.get_nowait()
                )
            except queue.Empty:
                return
            wait = False
            payload, future, loop = item
            if future.done():  # cancelled while it waited here
                continue
            try:
                result = self._app.send_task(SHARD_TASK, args=[payload])
            except Exception:
                self._submitted.put(item)  # sent again once the broker answers: never dropped
                raise
            self._pending[result.id] = _Pending(result, future, loop)

    def _collect(self) -> None:
        from celery.exceptions import TimeoutError as CeleryTimeout
        from celery.result import ResultSet

        waiting = ResultSet([entry.result for entry in self._pending.values()], app=self._app)
        try:
            for task_id, meta in waiting.iter_native(timeout=POLL_SECONDS, no_ack=True):
                entry = self._pending.pop(task_id, None)
                if entry is not None:
                    self._settle(entry, meta)
        except CeleryTimeout:
            pass

    def _settle(self, entry: _Pending, meta: dict[str, Any]) -> None:
        status = meta.get("status")
        value = meta.get("result")
        if status == "SUCCESS" and isinstance(value, dict):
            entry.loop.call_soon_threadsafe(_set_result, entry.future, value)
        else:
            error = ShardFailedError(f"the shard task ended {status}: {value!r}"[:500])
            entry.loop.call_soon_threadsafe(_set_exception, entry.future, error)
        entry.result.forget()


def _set_result(future: asyncio.Future[dict[str, Any]], value: dict[str, Any]) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[dict[str, Any]], error: Exception) -> None:
    if not future.done():
        future.set_exception(error)

"""`doctown worker`: a Celery worker that documents shards of distributed builds.

One shard at a time per process (Celery's solo pool), its prompts concurrent up to
MAX_CONCURRENT_REQUESTS on an event loop that lives as long as the process, so connections
and the shared signals outlast each shard. For each prompt, outermost first: the shared
Redis cache, the retry layer, the request slots, the shared token budget, the shared pause,
the build's stop, then the backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from doctown.backends import Backend, make_backend
from doctown.backends.base import Completion
from doctown.config import Settings
from doctown.distributed.app import SHARD_TASK, WORKER_KEY, celery_app, redis_url
from doctown.distributed.cache import RedisCachingBackend, RedisSummaryCache
from doctown.distributed.limits import (
    SharedPauseBackend,
    SharedStopBackend,
    TokenRateLimit,
    TokenRateLimitedBackend,
)
from doctown.distributed.signals import SharedSignals, Stop, limit_scope
from doctown.distributed.wire import (
    Outcome,
    ShardRequest,
    ShardResult,
    aborted,
    documented,
    failed,
    from_wire,
    transient,
)
from doctown.errors import ConfigurationError, JobAbortedError, SymbolFailure, TransientError
from doctown.generation.limits import ConcurrencyLimitedBackend
from doctown.generation.retry import RetryingBackend
from doctown.prompts import Prompt

logger = logging.getLogger("doctown.distributed")

HEARTBEAT_SECONDS = 5.0
HEARTBEAT_TTL_SECONDS = 15

T = TypeVar("T")


def default_name() -> str:
    return f"doctown-{os.getpid()}@{socket.gethostname()}"


class ShardWorker:
    """The backend of one worker process, its shared policies and their event loop."""

    def __init__(self, settings: Settings, *, name: str | None = None) -> None:
        self.settings = settings
        self.name = name or default_name()
        self.redis_url = redis_url(settings)
        self.backend: Backend = make_backend(settings)  # refuses a bad configuration now
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        self.scope = limit_scope(
            self.backend.name, self.backend.model, settings.openai_base_url, key
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="doctown-shards", daemon=True
        )
        self._redis: Redis | None = None
        self._signals: SharedSignals | None = None
        self._cache: RedisSummaryCache | None = None
        self._limit: TokenRateLimit | None = None
        self._slots: asyncio.Semaphore | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self.since = time.time()

    # Life cycle (called from the main thread) ----------------------------------------------------

    def start(self) -> ShardWorker:
        """Connect to Redis and start following the shared signals."""
        self._thread.start()
        try:
            self._call(self._open())
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._call(self._close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    def run(self, payload: dict[str, Any], *, redelivered: bool = False) -> dict[str, Any]:
        """The shard task: document one shard, return one outcome per prompt (JSON).

        `redelivered`: the broker gave this shard to another worker before, which died.
        """
        request = ShardRequest.model_validate(payload)
        logger.info(
            "shard of build %s: %d prompts%s",
            request.build_id,
            len(request.prompts),
            " (redelivered: its first worker died)" if redelivered else "",
        )
        started = time.monotonic()
        result = self._call(self._run(request))
        counts = {kind: 0 for kind in ("documented", "failed", "aborted", "transient")}
        for outcome in result.outcomes:
            counts[outcome.kind] += 1
        logger.info(
            "shard of build %s done in %.2f s: %s",
            request.build_id,
            time.monotonic() - started,
            ", ".join(f"{count} {kind}" for kind, count in counts.items() if count),
        )
        return result.model_dump(mode="json")

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _open(self) -> None:
        self._redis = Redis.from_url(self.redis_url)
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise ConfigurationError(
                f"Cannot reach Redis at DOCTOWN_REDIS_URL: {type(exc).__name__}. Start Redis, "
                "or point DOCTOWN_REDIS_URL at it."
            ) from None
        self._signals = SharedSignals(self._redis, url=self.redis_url, node=self.name)
        await self._signals.start(scopes=[self.scope])
        self._cache = RedisSummaryCache(
            self._redis, seconds=self.settings.doctown_redis_cache_seconds
        )
        if self.settings.doctown_rate_limit_tpm:
            self._limit = TokenRateLimit(
                self._redis,
                tokens_per_minute=self.settings.doctown_rate_limit_tpm,
                scope=self.scope,
            )
        self._slots = asyncio.Semaphore(self.settings.max_concurrent_requests)
        await self._beat()
        self._heartbeat = asyncio.create_task(self._keep_beating(), name="doctown-heartbeat")

    async def _close(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
        if self._signals is not None:
            await self._signals.close()
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):  # leaving anyway: the key expires
                await self._redis.delete(WORKER_KEY.format(name=self.name))
            await self._redis.aclose()
        await self.backend.aclose()

    async def _beat(self) -> None:
        """Say this worker is alive, and what it runs (the coordinator checks both)."""
        assert self._redis is not None
        record = {
            "name": self.name,
            "pid": os.getpid(),
            "backend": self.backend.name,
            "model": self.backend.model,
            "concurrency": self.settings.max_concurrent_requests,
            "since": self.since,
        }
        await self._redis.set(
            WORKER_KEY.format(name=self.name), json.dumps(record), ex=HEARTBEAT_TTL_SECONDS
        )

    async def _keep_beating(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self._beat()
            except (RedisError, OSError) as exc:
                logger.warning("heartbeat: Redis is unreachable (%s)", type(exc).__name__)

    # One shard ---------------------------------------------------------------------------------

    def _stack(self, build: str) -> RedisCachingBackend:
        """The policies around the backend for one build's prompts, outermost last."""
        assert self._signals is not None and self._cache is not None
        inner: Backend = SharedStopBackend(self.backend, self._signals, build)
        inner = SharedPauseBackend(inner, self._signals, self.scope)
        if self._limit is not None:
            inner = TokenRateLimitedBackend(inner, self._limit)
        inner = ConcurrencyLimitedBackend(
            inner, limit=self.settings.max_concurrent_requests, semaphore=self._slots
        )
        inner = RetryingBackend(inner, max_attempts=self.settings.max_retries)
        return RedisCachingBackend(inner, self._cache, build)

    async def _run(self, request: ShardRequest) -> ShardResult:
        assert self._signals is not None
        mismatch = self._mismatch(request)
        if mismatch is not None:
            await self._signals.stop(request.build_id, mismatch)
            return ShardResult(
                worker=self.name, outcomes=[aborted(mismatch.error()) for _ in request.prompts]
            )
        await self._signals.refresh_stop(request.build_id)
        stack = self._stack(request.build_id)
        outcomes: dict[int, Outcome] = {}

        async def one(index: int, prompt: Prompt) -> None:
            outcomes[index] = await _outcome(stack, prompt)

        tasks = [
            asyncio.create_task(one(index, from_wire(prompt)))
            for index, prompt in enumerate(request.prompts)
        ]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.settings.doctown_shard_timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        timed_out = transient(
            f"the shard ran past DOCTOWN_SHARD_TIMEOUT ({self.settings.doctown_shard_timeout} s)"
        )
        return ShardResult(
            worker=self.name,
            outcomes=[outcomes.get(index, timed_out) for index in range(len(request.prompts))],
        )

    def _mismatch(self, request: ShardRequest) -> Stop | None:
        if (request.backend, request.model) == (self.backend.name, self.backend.model):
            return None
        return Stop(
            "worker_mismatch",
            f"The worker {self.name} runs {self.backend.name} ({self.backend.model}) but the "
            f"build was planned for {request.backend} ({request.model}). Start every worker "
            "with the DOCTOWN_BACKEND and MODEL_NAME the build uses.",
        )


async def _outcome(backend: Backend, prompt: Prompt) -> Outcome:
    try:
        completion: Completion = await backend.complete(prompt)
    except SymbolFailure as error:
        return failed(error)
    except JobAbortedError as error:
        return aborted(error)
    except TransientError as error:
        return transient(str(error))
    return documented(completion)


def run_worker(settings: Settings, *, name: str | None = None) -> None:
    """Serve shards until stopped (Ctrl-C or SIGTERM finish the current shard first)."""
    from celery import Task
    from celery.signals import worker_ready

    worker = ShardWorker(settings, name=name)
    app = celery_app(settings)

    @app.task(name=SHARD_TASK, bind=True)
    def document_shard(task: Task[Any, Any], payload: dict[str, Any]) -> dict[str, Any]:
        delivery = task.request.delivery_info or {}
        return worker.run(payload, redelivered=bool(delivery.get("redelivered")))

    # Each request is one line from the HTTP client at INFO: too many for a worker's log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    worker.start()
    worker_ready.connect(
        lambda **_: logger.info("doctown worker %s: ready", worker.name), weak=False
    )
    logger.info(
        "doctown worker %s: %s (%s), %d requests in flight, one shard at a time",
        worker.name,
        worker.backend.name,
        worker.backend.model,
        settings.max_concurrent_requests,
    )
    try:
        app.worker_main(
            [
                "worker",
                "--pool=solo",
                f"--queues={app.conf.task_default_queue}",
                "--concurrency=1",
                f"--hostname={worker.name}",
                # Celery's own lines (a result per task) at WARNING; doctown's stay at INFO.
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        worker.close()

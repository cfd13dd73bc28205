"""The coordinator: a build's generation, its prompts sent in shards to `doctown worker`s.

The build runs as it does in one process (waves, the SQLite cache, grounding and its
re-asks, grouping several symbols of a file per request, the cost cap, events), with one
difference: the backend at the bottom of its stack is a `ShardedBackend`, which cuts the
requests that reach it into shards, sends each as a Celery task and answers every request
from its shard's result. Each summary enters the
coordinator's cache as its shard comes back; each also entered the workers' Redis cache the
moment it arrived there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import cast

from pydantic import ValidationError
from redis import Redis
from redis.exceptions import RedisError

from doctown.backends.base import Backend, Completion
from doctown.config import Settings
from doctown.distributed.app import WORKER_KEY, celery_app, redis_url
from doctown.distributed.dispatch import ShardDispatcher, ShardFailedError
from doctown.distributed.signals import CHANNEL, STOP_KEY, STOP_SECONDS
from doctown.distributed.wire import (
    Outcome,
    ShardRequest,
    ShardResult,
    completion_of,
    to_wire,
)
from doctown.errors import ConfigurationError, TransientError
from doctown.generation.engine import GenerationEngine
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import Prompt

logger = logging.getLogger("doctown.distributed")

# How long a partly filled shard waits for more prompts before it is sent.
LINGER_SECONDS = 0.05


@dataclass(frozen=True)
class WorkerInfo:
    """A live `doctown worker`, as its heartbeat describes it."""

    name: str
    backend: str
    model: str
    concurrency: int


class ShardedBackend(WrapperBackend):
    """Answers prompts through shards run by workers.

    It wraps the build's configured backend only for what that backend is (name, model,
    price, completion cap, prompt style) and never calls it.
    """

    def __init__(
        self,
        wrapped: Backend,
        dispatcher: ShardDispatcher,
        *,
        build_id: str,
        shard_size: int,
        linger: float = LINGER_SECONDS,
    ) -> None:
        super().__init__(wrapped)
        self.dispatcher = dispatcher
        self.build_id = build_id
        self.shard_size = shard_size
        self.linger = linger
        self._waiting: list[tuple[Prompt, asyncio.Future[Outcome]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def complete(self, prompt: Prompt) -> Completion:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((prompt, future))
        if len(self._waiting) >= self.shard_size:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.linger, self._flush)
        return completion_of(await future, prompt.output, prompt.symbols)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting:
            batch, self._waiting = (
                self._waiting[: self.shard_size],
                self._waiting[self.shard_size :],
            )
            task = asyncio.create_task(self._send(batch))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[Prompt, asyncio.Future[Outcome]]]) -> None:
        request = ShardRequest(
            build_id=self.build_id,
            backend=self.name,
            model=self.model,
            prompts=[to_wire(prompt) for prompt, _ in batch],
        )
        try:
            raw = await self.dispatcher.submit(request.model_dump(mode="json"))
            result = ShardResult.model_validate(raw)
            if len(result.outcomes) != len(batch):
                raise ValueError(f"{len(result.outcomes)} outcomes for {len(batch)} prompts")
        except (ShardFailedError, ValidationError, ValueError) as exc:
            error = TransientError(f"the shard failed on a worker: {exc}")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), outcome in zip(batch, result.outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)


@dataclass(frozen=True)
class Distributed:
    """How a build sends its generation to `doctown worker` processes (the DOCTOWN_* settings)."""

    settings: Settings

    @classmethod
    def from_settings(cls, settings: Settings) -> Distributed:
        """Raises ConfigurationError when DOCTOWN_REDIS_URL is missing or malformed."""
        redis_url(settings)
        return cls(settings)

    def workers(self) -> list[WorkerInfo]:
        """The workers alive now (each refreshes its record every few seconds)."""
        client = Redis.from_url(redis_url(self.settings))
        try:
            keys = list(client.scan_iter(match=WORKER_KEY.format(name="*"), count=1_000))
            values = cast(list[bytes | None], client.mget(keys)) if keys else []
            records = [raw for raw in values if raw is not None]
        except (RedisError, OSError) as exc:
            raise ConfigurationError(
                f"Cannot reach Redis at DOCTOWN_REDIS_URL ({type(exc).__name__}). Start it, or "
                "point DOCTOWN_REDIS_URL at it."
            ) from None
        finally:
            client.close()
        found = []
        for raw in records:
            try:
                record = json.loads(raw)
                found.append(
                    WorkerInfo(
                        name=str(record["name"]),
                        backend=str(record["backend"]),
                        model=str(record["model"]),
                        concurrency=int(record["concurrency"]),
                    )
                )
            except (ValueError, KeyError, TypeError):
                continue
        return sorted(found, key=lambda worker: worker.name)

    def check_workers(self, backend: Backend) -> list[WorkerInfo]:
        """The live workers, if there is one and all run `backend`'s model; else why not."""
        workers = self.workers()
        if not workers:
            raise ConfigurationError(
                "No doctown worker is running on DOCTOWN_REDIS_URL. Start at least one, with "
                "the same DOCTOWN_REDIS_URL and model settings: doctown worker"
            )
        wrong = [w for w in workers if (w.backend, w.model) != (backend.name, backend.model)]
        if wrong:
            names = ", ".join(f"{w.name} runs {w.backend} ({w.model})" for w in wrong)
            raise ConfigurationError(
                f"This build uses {backend.name} ({backend.model}) but {names}. Start every "
                "worker with the DOCTOWN_BACKEND and MODEL_NAME of the build."
            )
        return workers

    @asynccontextmanager
    async def engine_for(
        self, engine: GenerationEngine, build_id: str
    ) -> AsyncIterator[GenerationEngine]:
        """`engine`, its requests sent to the workers in shards, for one build.

        Yields a GenerationEngine with the same prompts, cache and retries whose backend is
        a ShardedBackend. If the build is interrupted, its shards still queued are called off.
        """
        await asyncio.to_thread(self.check_workers, engine.backend)
        settings = self.settings
        # Unique across coordinators: the key under which workers share this build's stop.
        shard_build = f"{build_id}-{uuid.uuid4().hex[:8]}"
        dispatcher = ShardDispatcher(celery_app(settings)).start()
        backend = ShardedBackend(
            engine.backend, dispatcher, build_id=shard_build, shard_size=settings.doctown_shard_size
        )
        sharded = GenerationEngine(
            backend,
            engine.prompt_builder,
            max_concurrency=settings.doctown_shard_size * settings.doctown_shards_in_flight,
            max_attempts=engine.max_attempts,
            warnings=engine.standing_warnings,
            cache=engine.cache,
            grouping=engine.grouping,
        )
        finished = False
        try:
            yield sharded
            finished = True
        finally:
            if not finished:
                await asyncio.to_thread(self._call_off, shard_build)
            await asyncio.to_thread(dispatcher.close)

    def _call_off(self, build: str) -> None:
        """Stop a build everywhere, so workers skip its shards still in the queue."""
        message = {
            "kind": "stop",
            "build": build,
            "reason": "cancelled",
            "message": "The build was interrupted before this symbol's turn.",
        }
        client = Redis.from_url(redis_url(self.settings))
        try:
            client.set(STOP_KEY.format(build=build), json.dumps(message), ex=STOP_SECONDS, nx=True)
            client.publish(CHANNEL, json.dumps(message | {"origin": "coordinator"}))
        except (RedisError, OSError) as exc:
            logger.warning("could not call off the build's queued shards: %s", exc)
        finally:
            client.close()

"""What every worker must learn at once: a pause after a Retry-After, and a build's stop.

Each signal is a Redis key, so a worker that starts later still finds it, and a message on
one pub/sub channel, so workers already running learn it within milliseconds. Each process
mirrors the signals in memory: checking one before a request costs no round trip.

A pause belongs to a limit scope (one API account and model: see `limit_scope`) and lasts
the seconds the server asked for. A stop belongs to one build (out of quota, a refused key,
an unknown model, or the build was cancelled): every shard of it still queued or running
sends nothing more.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from doctown.errors import JobAbortedError
from doctown.generation.retry import MAX_RETRY_AFTER

logger = logging.getLogger("doctown.distributed")

CHANNEL = "doctown:signals"
PAUSE_KEY = "doctown:pause:{scope}"
STOP_KEY = "doctown:stop:{build}"
# A stopped build's shards may wait in the queue for a long time; its stop must outlive them.
STOP_SECONDS = 7 * 86_400
RECONNECT_SECONDS = 0.5
START_SECONDS = 10.0
# How often the listener looks up from the channel to see whether it should stop.
LISTEN_SECONDS = 0.5
KEPT_STOPS = 1_000


def limit_scope(backend: str, model: str, base_url: str | None, api_key: str | None) -> str:
    """The name of one rate limit: the same account (key and address) asking the same model.

    A one-way digest: the key itself never reaches Redis.
    """
    material = "\n".join((backend, model, base_url or "", api_key or ""))
    return hashlib.sha256(material.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Stop:
    """Why a build stopped, as the worker that stopped it saw it."""

    reason: str
    message: str

    def error(self) -> JobAbortedError:
        error = JobAbortedError(self.message)
        error.reason = self.reason
        return error


class SharedSignals:
    """One process's view of the pauses and stops every process shares through Redis.

    Announcing goes through the process's async client. Listening has a thread and a
    connection of its own: a worker's event loop can be busy for a second parsing a hundred
    answers at once, and a pause must not wait behind them.
    """

    def __init__(self, redis: Redis, *, url: str, node: str) -> None:
        self._redis = redis
        self._url = url
        self.node = node
        self._paused_until: dict[str, float] = {}
        self._stops: OrderedDict[str, Stop] = OrderedDict()
        self._stops_lock = threading.Lock()
        self._scopes: frozenset[str] = frozenset()
        self._listening = threading.Event()
        self._closed = threading.Event()
        self._listener: threading.Thread | None = None

    async def start(self, scopes: Iterable[str] = ()) -> None:
        """Follow the channel; `scopes` are the limits whose pauses this process obeys."""
        self._scopes = frozenset(scopes)
        self._listener = threading.Thread(target=self._listen, name="doctown-signals", daemon=True)
        self._listener.start()
        if not await asyncio.to_thread(self._listening.wait, START_SECONDS):
            raise RedisError("could not subscribe to the signals channel")

    async def close(self) -> None:
        self._closed.set()
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join, START_SECONDS)

    # Reading (no round trip) -------------------------------------------------------------------

    def paused_for(self, scope: str) -> float:
        """Seconds left in the pause of `scope` (0 when none)."""
        return max(0.0, self._paused_until.get(scope, 0.0) - time.monotonic())

    def stopped(self, build: str) -> Stop | None:
        return self._stops.get(build)

    # Announcing ----------------------------------------------------------------------------------

    async def pause(self, scope: str, seconds: float) -> None:
        """Pause `scope` everywhere for `seconds` (at most MAX_RETRY_AFTER), unless a longer
        pause is already on."""
        seconds = min(max(seconds, 0.0), MAX_RETRY_AFTER)
        if seconds <= self.paused_for(scope):
            return
        self._paused_until[scope] = time.monotonic() + seconds
        message = {"kind": "pause", "scope": scope, "seconds": seconds}
        await self._redis.set(
            PAUSE_KEY.format(scope=scope), json.dumps(message), px=max(1, int(seconds * 1000))
        )
        await self._publish(message)
        logger.warning("pause: %.1f s for every worker (the API asked for it)", seconds)

    async def stop(self, build: str, stop: Stop) -> None:
        """Stop `build` everywhere; the first stop of a build is the one that stays."""
        if build in self._stops:
            return
        self._remember(build, stop)
        message = {"kind": "stop", "build": build, "reason": stop.reason, "message": stop.message}
        await self._redis.set(
            STOP_KEY.format(build=build), json.dumps(message), ex=STOP_SECONDS, nx=True
        )
        await self._publish(message)
        logger.warning("stop: build %s stops everywhere (%s)", build, stop.reason)

    async def refresh_stop(self, build: str) -> Stop | None:
        """Read the build's stop from Redis: a shard taken after the stop was announced."""
        if build not in self._stops:
            raw = await self._redis.get(STOP_KEY.format(build=build))
            if raw is not None:
                self._apply(json.loads(raw), announced=False)
        return self._stops.get(build)

    # Following -----------------------------------------------------------------------------------

    async def _publish(self, message: dict[str, Any]) -> None:
        body = message | {"origin": self.node, "sent_at": time.time()}
        await self._redis.publish(CHANNEL, json.dumps(body))

    def _listen(self) -> None:
        client = SyncRedis.from_url(self._url)
        try:
            while not self._closed.is_set():
                try:
                    with client.pubsub() as pubsub:  # type: ignore[no-untyped-call]
                        pubsub.subscribe(CHANNEL)
                        self._reload(client)  # whatever was announced while nobody listened
                        self._listening.set()
                        while not self._closed.is_set():
                            message = pubsub.get_message(timeout=LISTEN_SECONDS)
                            if message is not None and message.get("type") == "message":
                                self._apply(json.loads(message["data"]), announced=True)
                except (RedisError, OSError, ValueError) as exc:
                    logger.warning("signals: lost the Redis channel (%s); reconnecting", exc)
                    self._closed.wait(RECONNECT_SECONDS)
        finally:
            client.close()

    def _reload(self, client: SyncRedis) -> None:
        for scope in self._scopes:
            remaining = client.pttl(PAUSE_KEY.format(scope=scope))
            if remaining > 0:
                until = time.monotonic() + remaining / 1000
                self._paused_until[scope] = max(self._paused_until.get(scope, 0.0), until)

    def _apply(self, message: dict[str, Any], *, announced: bool) -> None:
        if announced and message.get("origin") == self.node:
            return
        kind = message.get("kind")
        reached_ms = (time.time() - float(message.get("sent_at", time.time()))) * 1000
        if kind == "pause" and message.get("scope") in self._scopes:
            seconds = min(float(message["seconds"]), MAX_RETRY_AFTER)
            until = time.monotonic() + seconds
            if until > self._paused_until.get(message["scope"], 0.0):
                self._paused_until[message["scope"]] = until
                logger.warning(
                    "pause: %.1f s, announced by %s; reached this worker in %.1f ms",
                    seconds,
                    message.get("origin"),
                    reached_ms,
                )
        elif kind == "stop" and message.get("build") not in self._stops:
            build = str(message["build"])
            self._remember(build, Stop(str(message["reason"]), str(message["message"])))
            if announced:
                logger.warning(
                    "stop: build %s stopped by %s (%s); reached this worker in %.1f ms",
                    build,
                    message.get("origin"),
                    message["reason"],
                    reached_ms,
                )

    def _remember(self, build: str, stop: Stop) -> None:
        with self._stops_lock:  # the listener thread and the event loop both record stops
            self._stops[build] = stop
            while len(self._stops) > KEPT_STOPS:
                self._stops.popitem(last=False)

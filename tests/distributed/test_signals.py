"""Pauses and stops between processes, through a real Redis (each side its own connection)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from redis.asyncio import Redis

from doctown.distributed.signals import SharedSignals, Stop, limit_scope
from tests.distributed.processes import Cluster


async def _until(condition: Callable[[], bool]) -> float:
    """Seconds until `condition()` holds (at most 2)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(2):
        while not condition():  # noqa: ASYNC110 - the change comes from another connection
            await asyncio.sleep(0.001)
    return loop.time() - started


def test_a_pause_and_a_stop_reach_running_and_late_processes(cluster: Cluster) -> None:
    cluster.reset()

    async def scenario() -> None:
        clients = [Redis.from_url(cluster.redis_url) for _ in range(3)]
        first = SharedSignals(clients[0], url=cluster.redis_url, node="first")
        second = SharedSignals(clients[1], url=cluster.redis_url, node="second")
        try:
            await first.start(scopes=["account"])
            await second.start(scopes=["account"])
            await first.pause("account", 1.0)
            await first.pause("account", 0.2)  # a shorter pause never shortens a longer one
            assert await _until(lambda: second.paused_for("account") > 0.5) < 0.5
            assert first.paused_for("other") == 0
            await second.stop("build-1", Stop("insufficient_quota", "out of credit"))
            await _until(lambda: first.stopped("build-1") is not None)
            stop = first.stopped("build-1")
            assert stop is not None and stop.error().reason == "insufficient_quota"
            # A process that starts later finds both in Redis.
            late = SharedSignals(clients[2], url=cluster.redis_url, node="late")
            await late.start(scopes=["account"])
            assert 0 < late.paused_for("account") <= 1.0
            assert late.stopped("build-1") is None  # learned when one of its shards arrives
            found = await late.refresh_stop("build-1")
            assert found == Stop("insufficient_quota", "out of credit")
            await late.close()
        finally:
            await first.close()
            await second.close()
            for client in clients:
                await client.aclose()

    asyncio.run(scenario())


def test_limit_scopes_separate_accounts_and_models_without_holding_the_key() -> None:
    scope = limit_scope("openai", "gpt-5-nano", None, "sk-secret-key-1")
    assert scope == limit_scope("openai", "gpt-5-nano", None, "sk-secret-key-1")
    assert scope != limit_scope("openai", "gpt-5-nano", None, "sk-secret-key-2")
    assert scope != limit_scope("openai", "gpt-5-mini", None, "sk-secret-key-1")
    assert scope != limit_scope(
        "openai", "gpt-5-nano", "http://127.0.0.1:8000/v1", "sk-secret-key-1"
    )
    assert "secret" not in scope and len(scope) == 16

"""Limits all workers share: a Retry-After pauses all of them, out of quota stops all of them,
and one tokens-per-minute budget (GCRA in Redis) paces them together."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from doctown.distributed.limits import TokenRateLimit
from doctown.docpack import read_docpack
from doctown.events import GENERATION_SYMBOL_DOCUMENTED, read_events
from doctown.testing import insufficient_quota, rate_limited
from tests.distributed.processes import Cluster, build, many_functions

RETRY_AFTER = 1.5
# Time for a pause or a stop to travel from one worker to the others (measured: a few ms).
REACH = 0.25


class NthAnswer:
    """A fake-server rule that matches from its `n`th answer on, recording when it first did."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0
        self.first: float | None = None
        self._lock = threading.Lock()

    def __call__(self, _message: str) -> bool:
        with self._lock:
            self.count += 1
            if self.count < self.n:
                return False
            self.first = self.first or time.time()
            return True


def test_a_retry_after_seen_by_one_worker_pauses_all_three(three: Cluster, tmp_path: Path) -> None:
    trigger = NthAnswer(15)
    three.server.on(trigger, rate_limited(retry_after=RETRY_AFTER), times=1)
    out, log = tmp_path / "many.docpack", tmp_path / "events.jsonl"
    result = build(three, many_functions(tmp_path / "repo"), out, "--events", str(log))
    assert result.returncode == 0, result.stderr
    assert trigger.first is not None
    # The symbol that met the 429 took a second attempt on its worker, and says so.
    attempts = Counter(
        e["payload"]["attempts"]
        for e in read_events(log)
        if e["type"] == GENERATION_SYMBOL_DOCUMENTED
    )
    assert attempts == Counter({1: 55, 2: 1})
    # Nothing reached the server during the pause, from any worker; then work resumed.
    arrivals = [r["time"] for r in three.server.chat_requests()]
    paused = [t for t in arrivals if trigger.first + REACH < t < trigger.first + RETRY_AFTER]
    assert paused == []
    assert any(t >= trigger.first + RETRY_AFTER for t in arrivals)
    logs = [worker.text() for worker in three.alive()]
    assert sum("pause: 1.5 s for every worker" in log for log in logs) == 1
    assert sum("pause: 1.5 s, announced by w" in log for log in logs) == 2
    assert {s.documentation.status for s in read_docpack(out).symbols} == {"documented"}


def test_out_of_quota_on_one_worker_stops_all_three(three: Cluster, tmp_path: Path) -> None:
    trigger = NthAnswer(12)
    three.server.on(trigger, insufficient_quota())
    out = tmp_path / "many.docpack"
    result = build(three, many_functions(tmp_path / "repo"), out)
    assert result.returncode == 4, result.stderr
    assert json.loads(result.stdout)["result"]["status"] == "aborted"
    assert trigger.first is not None
    arrivals = [r["time"] for r in three.server.chat_requests()]
    # Requests already in flight were answered; nothing was sent once the stop had spread.
    assert [t for t in arrivals if t > trigger.first + REACH] == []
    assert trigger.count - trigger.n + 1 <= 3 * 2  # at most every worker's slots in flight
    pack = read_docpack(out)
    kept = [s for s in pack.symbols if s.documentation.status == "documented"]
    assert len(kept) >= trigger.n - 1
    logs = [worker.text() for worker in three.alive()]
    assert sum("stops everywhere (insufficient_quota)" in log for log in logs) >= 1
    assert all("insufficient_quota" in log for log in logs)


@pytest.fixture
def limiter_url(cluster: Cluster) -> Iterator[str]:
    cluster.reset()
    yield cluster.redis_url


def test_one_token_budget_paces_every_process_that_shares_it(limiter_url: str) -> None:
    async def scenario() -> float:
        # Two limiters with their own connections, as on two machines: one budget of 6,000
        # tokens a minute (100 a second), a burst of a whole minute's worth.
        one, two = Redis.from_url(limiter_url), Redis.from_url(limiter_url)
        try:
            first = TokenRateLimit(one, tokens_per_minute=6_000, scope="shared")
            second = TokenRateLimit(two, tokens_per_minute=6_000, scope="shared")
            other = TokenRateLimit(two, tokens_per_minute=600, scope="elsewhere")
            assert await first.acquire(6_000) == 0  # the whole burst
            waited = await second.acquire(50)  # waits for 50 tokens to come back: 0.5 s
            # Another scope has its own budget; a request above a minute's budget counts as
            # the whole budget instead of waiting forever.
            assert await other.acquire(10**9) == 0
            return waited
        finally:
            await one.aclose()
            await two.aclose()

    assert 0.4 <= asyncio.run(scenario()) <= 1.5

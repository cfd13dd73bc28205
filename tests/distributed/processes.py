"""Real processes for distributed tests: a redis-server on loopback and `doctown worker`s.

Every process started here is stopped by its own handle (its pid), never by name.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis import Redis

from doctown.testing import FakeOpenAIServer, RedisServer
from tests.conftest import TEST_KEY

READY_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_redis(folder: Path) -> Iterator[str]:
    """A throwaway redis-server in `folder`; skipped where it is not installed, except in CI
    (DOCTOWN_REQUIRE_REDIS=1), where that fails."""
    if not RedisServer.available():
        if os.environ.get("DOCTOWN_REQUIRE_REDIS"):
            pytest.fail("redis-server is not installed (apt-get install -y redis-server)")
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    with RedisServer(folder) as server:
        yield server.url


@dataclass
class WorkerProcess:
    """One `doctown worker` subprocess and the file its log goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def ready_or_dead(self) -> bool:
        return "ready" in self.text() or self.process.poll() is not None

    def shards_started(self) -> int:
        return self.text().count(" prompts")

    def shards_done(self) -> int:
        return self.text().count(" done in ")

    def kill(self) -> None:
        """kill -9: no clean-up, no acknowledgement, like a machine that vanished."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass
class Cluster:
    """Redis, the fake OpenAI server and any number of workers sharing them."""

    redis_url: str
    server: FakeOpenAIServer
    folder: Path
    env: dict[str, str]
    workers: list[WorkerProcess] = field(default_factory=list)

    def environment(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "XDG_CACHE_HOME")}
        return {
            **base,
            "OPENAI_API_KEY": TEST_KEY,
            "OPENAI_BASE_URL": self.server.base_url,
            "DOCTOWN_REDIS_URL": self.redis_url,
            **self.env,
            **extra,
        }

    def start_workers(self, count: int, **extra: str) -> list[WorkerProcess]:
        started = []
        for _ in range(count):
            name = f"w{len(self.workers) + 1}"
            log = self.folder / f"{name}.log"
            with log.open("w") as stream:
                process = subprocess.Popen(
                    [sys.executable, "-m", "doctown", "worker", "--name", name],
                    env=self.environment(**extra),
                    stdout=stream,
                    stderr=subprocess.STDOUT,
                )
            worker = WorkerProcess(name, process, log)
            self.workers.append(worker)
            started.append(worker)
        for worker in started:
            wait_for(worker.ready_or_dead)
            assert worker.process.poll() is None, worker.text()
        return started

    def alive(self) -> list[WorkerProcess]:
        return [worker for worker in self.workers if worker.process.poll() is None]

    def keep(self, count: int) -> list[WorkerProcess]:
        """Exactly `count` live workers (starting more when some were killed)."""
        alive = self.alive()
        if len(alive) < count:
            alive += self.start_workers(count - len(alive))
        return alive[:count]

    def reset(self) -> None:
        """Forget what earlier tests left: requests, scripted replies, cached summaries."""
        self.server.reset()
        client = Redis.from_url(self.redis_url)
        try:
            for pattern in ("doctown:summary:*", "doctown:pause:*", "doctown:tokens*"):
                keys = list(client.scan_iter(match=pattern))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


def wait_for(condition: Callable[[], bool], timeout: float = READY_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def many_functions(root: Path, *, modules: int = 8, functions: int = 6) -> Path:
    """A repository of `modules` files with `functions` public functions each, no calls."""
    for m in range(modules):
        lines = [f'"""Module number {m}."""', ""]
        for f in range(functions):
            lines += ["", f"def task_{m}_{f}(value: int) -> int:", f"    return value + {f}", ""]
        path = root / "pkg" / f"part_{m}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines))
    return root


def build_command(cluster: Cluster, repo: Path, out: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "doctown",
        "build",
        str(repo),
        "-o",
        str(out),
        "--distributed",
        "--cache",
        str(out.parent / "cache.sqlite3"),
        "--yes",
        "--quiet",
        "--json",
        *args,
    ]


def build(cluster: Cluster, repo: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`doctown build --distributed` as a user runs it, against the cluster."""
    return subprocess.run(
        build_command(cluster, repo, out, *args),
        env=cluster.environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

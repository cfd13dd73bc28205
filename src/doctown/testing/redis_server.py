"""A throwaway redis-server on a free loopback port, for tests and benchmarks of
distributed builds. It needs the `redis-server` program (Debian: apt-get install redis-server).

    with RedisServer(tmp_path) as redis:
        os.environ["DOCTOWN_REDIS_URL"] = redis.url
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

STARTUP_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """A redis-server that keeps nothing on disk, listening on 127.0.0.1 only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self) -> RedisServer:
        from redis import Redis
        from redis.exceptions import RedisError

        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (apt-get install redis-server)")
        port = _free_port()
        with (self.folder / "redis.log").open("w") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.url = f"redis://127.0.0.1:{port}/0"
        client = Redis.from_url(self.url)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        try:
            while True:
                try:
                    client.ping()
                    return self
                except RedisError:
                    if self._process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(
                            f"redis-server did not start; see {self.folder / 'redis.log'}"
                        ) from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

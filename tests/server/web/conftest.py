"""`doctown serve` in its own process with the fake OpenAI server, and repositories to send it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest

from doctown.config import Settings
from doctown.docpack import Manifest
from doctown.schemas import JobError
from doctown.server.app import create_app
from doctown.server.jobs.records import Job, JobSource, JobState
from doctown.server.jobs.store import JobStore
from doctown.testing import FakeOpenAIServer, ThreadedServer
from tests.cli.test_generate import openai_env
from tests.cli.test_serve import free_port
from tests.conftest import openai_settings

READY_SECONDS = 30.0
SETTINGS = frozenset(Settings.model_fields)


def project(name: str, *, functions: int = 4) -> dict[str, str]:
    """A small Python package called `name`: a class, a chain of calls, and two functions the
    tests single out (`slow_audit`, `fragile_report`). Every symbol's docstring names the
    package, so no test finds another's summaries in the worker's cache."""
    chain = "\n\n".join(
        f"def step_{i}(stock: Stock) -> int:\n"
        f'    """Step {i} of counting the {name} stock."""\n'
        f"    return {'step_' + str(i + 1) + '(stock)' if i + 1 < functions else 'stock.count()'}\n"
        for i in range(functions)
    )
    return {
        f"{name}/__init__.py": f'"""The {name} stock: items, counts and reports."""\n',
        f"{name}/stock.py": (
            f'"""Items of the {name} stock."""\n\n\n'
            "class Stock:\n"
            f'    """What the {name} holds."""\n\n'
            "    def __init__(self) -> None:\n"
            f'        """An empty {name} stock."""\n'
            "        self.items: dict[str, int] = {}\n\n"
            "    def add(self, item: str, quantity: int) -> None:\n"
            f'        """Put items in the {name}."""\n'
            "        self.items[item] = self.items.get(item, 0) + quantity\n\n"
            "    def count(self) -> int:\n"
            f'        """Items in the {name}."""\n'
            "        return sum(self.items.values())\n\n\n"
            f"{chain}\n\n"
            "def slow_audit(stock: Stock) -> int:\n"
            f'    """Audit the {name}."""\n'
            "    return step_0(stock)\n\n\n"
            "def fragile_report(stock: Stock) -> str:\n"
            f'    """Report on the {name}."""\n'
            "    return str(slow_audit(stock))\n"
        ),
    }


def zipped(files: dict[str, str]) -> bytes:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as bundle:
        for name, text in sorted(files.items()):
            bundle.writestr(name, text)
    return packed.getvalue()


def the_symbol(name: str):  # type: ignore[no-untyped-def]
    """A fake-server rule matching the prompt about symbol `name` (not those that mention it)."""
    return lambda prompt: f"Symbol: {name}\n" in prompt or f"Symbol: {name} (" in prompt


SEEDED_AT = datetime(2025, 6, 1, tzinfo=UTC)


def seed_job(
    jobs_dir: Path,
    job_id: str,
    *,
    state: JobState,
    source: JobSource,
    pack: Callable[[Path], Manifest] | None = None,
    error: str | None = None,
    created_at: datetime = SEEDED_AT,
) -> None:
    """A finished job as an earlier worker process would have left it in `jobs_dir`: its
    record and, given `pack` (a function writing one to a path), its docpack."""
    (jobs_dir / job_id).mkdir(parents=True)
    manifest = pack(jobs_dir / job_id / "docpack") if pack else None
    record = Job(
        id=job_id,
        state=state,
        source=source,
        docpack_id=manifest.docpack_id if manifest else None,
        created_at=created_at,
        finished_at=created_at,
    )
    if error is not None:
        record.error = JobError(type="input_error", message=error)
    store = JobStore(jobs_dir / "jobs.sqlite3")
    store.save(record)
    store.close()


class Served:
    """A running `doctown serve`: its URL, its jobs folder and its log."""

    def __init__(self, url: str, jobs_dir: Path, log: Path) -> None:
        self.url = url
        self.jobs_dir = jobs_dir
        self.log = log


@contextmanager
def serving(fake: FakeOpenAIServer, folder: Path, **settings: str) -> Iterator[Served]:
    """`doctown serve` on a free port, jobs and caches in `folder`, until the block ends.

    Its log goes to a file, not a pipe: a pipe nobody reads would stop the server once full.
    """
    port = free_port()
    jobs_dir = folder / "jobs"
    log = folder / "serve.log"
    # Started before the per-test isolation may apply: drop the caller's own settings here,
    # and run in `folder`, away from any .env file.
    env = {
        **{name: value for name, value in os.environ.items() if name.lower() not in SETTINGS},
        **openai_env(fake),
        "PORT": str(port),
        "JOBS_DIR": str(jobs_dir),
        "DOCTOWN_CACHE_DIR": str(folder / "cache"),
        **settings,
    }
    with log.open("w") as stream:
        process = subprocess.Popen(
            [sys.executable, "-m", "doctown", "serve"],
            env=env,
            cwd=folder,
            stdout=stream,
            stderr=stream,
        )
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            try:
                httpx2.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, log.read_text()
                time.sleep(0.1)
        yield Served(f"http://127.0.0.1:{port}", jobs_dir, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def worker_at(fake_openai: FakeOpenAIServer) -> Iterator[Callable[..., httpx2.Client]]:
    """Start the worker in this process (settings as keyword arguments); a client bound to it.

    Jobs seeded into JOBS_DIR before the start are the worker's past jobs."""
    started: list[tuple[ThreadedServer, httpx2.Client]] = []

    def start(**settings: object) -> httpx2.Client:
        server = ThreadedServer(create_app(openai_settings(fake_openai, **settings))).start()
        client = httpx2.Client(base_url=server.url, timeout=30)
        started.append((server, client))
        return client

    yield start
    for server, client in started:
        client.close()
        server.stop()

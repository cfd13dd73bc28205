"""A content-addressed store of summaries, so nothing is paid for twice.

Keyed by backend, model, prompt version and the exact prompt. Each summary is committed
before the request that asked for it returns (SQLite in WAL mode), so a run killed at any
instant keeps everything it already paid for, and the next run finds it. Writes from async code
go through one writer thread that commits whatever arrived meanwhile in one transaction, so
hundreds of answers a second cost a few commits and the event loop never waits on the disk.

Builds that share a cache (several processes, or several jobs of one worker) also share
what is in flight: before asking, a build takes a lease on the prompt's key, and a build
that finds another's live lease waits for that answer instead of paying for it again. The
leases a wave asks for in one event-loop turn are taken in one write and answered together,
so its prompts go on together (to the grouping below, which combines what arrives at once). A
lease is renewed while its request runs; the lease of a process that died on this machine
is taken over at once, and any other lapses after LEASE_SECONDS.

A cache that cannot be opened (corrupt) raises StateFileError naming the file; one that
cannot be written is found by `check_writable` before the first paid call. A write that
fails later keeps the answer for this run and says that the next run will pay again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import queue
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, InvalidStateError
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pydantic

from doctown.backends.base import Backend, Completion, restored, stored_text
from doctown.backends.formats import OutputFormat
from doctown.config import cache_dir
from doctown.errors import StateFileError
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import PROMPT_VERSION, Prompt
from doctown.schemas import DocumentationOutput
from doctown.usage import Usage

logger = logging.getLogger("doctown.generation.cache")

LEASE_SECONDS = 30.0
# How long a build waits between two looks at a prompt another build is asking.
WAIT_INITIAL_SECONDS = 0.1
WAIT_MAX_SECONDS = 1.0

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS summaries (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    summary TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    created_at REAL NOT NULL,
    output_format TEXT,
    batch INTEGER
)
""",
    """
CREATE TABLE IF NOT EXISTS leases (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
)
""",
)
# Columns added after the first release, with their type: older files gain them on open.
_ADDED_COLUMNS = {"output_format": "TEXT", "batch": "INTEGER"}
_KEYS_PER_QUERY = 900  # below SQLite's default limit on bound parameters
LADDER_AND_TEXT = frozenset(OutputFormat)


def default_cache_path() -> Path:
    """`summaries.sqlite3` in the cache folder (`config.cache_dir`)."""
    return cache_dir() / "summaries.sqlite3"


_INSERT = "INSERT OR REPLACE INTO summaries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# A batch's answer arrives long after it was asked: another build may have stored one meanwhile.
_INSERT_NEW = "INSERT OR IGNORE INTO summaries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_Row = tuple[str, str, str, str, str, int, int, int, int, float, str | None, int]


def _row(
    key: str,
    backend: str,
    model: str,
    summary: str,
    usage: Usage,
    output_format: OutputFormat | None,
    batch: bool,
) -> _Row:
    return (
        key,
        backend,
        model,
        PROMPT_VERSION,
        summary,
        usage.input_tokens,
        usage.cached_tokens,
        usage.output_tokens,
        usage.reasoning_tokens,
        time.time(),
        output_format.value if output_format else None,
        int(batch),
    )


@dataclass(frozen=True)
class CachedSummary:
    summary: str
    usage: Usage  # what it cost when it was made
    output_format: OutputFormat | None  # None: stored before formats were recorded
    # Answered through the Batch API, so made at the batch price (False in older files).
    batch: bool = False


@dataclass(frozen=True)
class CacheStats:
    path: str
    entries: int
    bytes: int
    by_model: dict[str, int]


_Write = Callable[[sqlite3.Connection], Any]
"""One write for the writer thread: it runs inside a transaction and may return a result."""


def _settle(
    done: Future[Any], *, result: Any = None, exception: BaseException | None = None
) -> None:
    """Give a write's caller its outcome, unless it stopped waiting (its task was cancelled)."""
    if done.cancelled():
        return
    try:
        if exception is not None:
            done.set_exception(exception)
        else:
            done.set_result(result)
    except InvalidStateError:  # cancelled between the check and the call
        pass


class SummaryCache:
    """The SQLite summary store. Safe to share between threads of one process."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_cache_path()
        self._lock = threading.Lock()
        self._pending: queue.SimpleQueue[tuple[_Write, Future[Any]] | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StateFileError(
                f"The summary cache {self.path} cannot be opened ({exc}). Check that its folder "
                "exists and can be written, or pass --cache with another file."
            ) from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process
            for statement in _SCHEMA:
                self._db.execute(statement)
            present = {row[1] for row in self._db.execute("PRAGMA table_info(summaries)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in present:
                    self._db.execute(f"ALTER TABLE summaries ADD COLUMN {column} {kind}")
        except sqlite3.Error as exc:
            self._db.close()
            raise self._unusable(exc) from None

    def _unusable(self, exc: sqlite3.Error) -> StateFileError:
        """The error for a cache SQLite refuses, saying which file and what to do."""
        problem = str(exc)
        if "readonly" in problem:
            advice = "is read-only; make it writable"
        elif isinstance(exc, sqlite3.OperationalError):
            advice = "cannot be written; free disk space or fix its permissions"
        else:
            advice = (
                "is corrupt; move it aside or delete it (only cached summaries are lost: they "
                "would be paid for again)"
            )
        return StateFileError(
            f"The summary cache {self.path} {advice}, or pass --cache with another file "
            f"(or --no-cache). SQLite said: {problem}."
        )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction under the lock, rolled back if anything in it fails."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    @staticmethod
    def key(backend: str, model: str, prompt: Prompt) -> str:
        return SummaryCache.key_for(backend, model, prompt.key)

    @staticmethod
    def key_for(backend: str, model: str, prompt_key: str) -> str:
        """The cache key of the prompt whose `Prompt.key` is `prompt_key`."""
        material = f"{backend}\n{model}\n{PROMPT_VERSION}\n{prompt_key}"
        return hashlib.sha256(material.encode()).hexdigest()

    def get(self, key: str) -> CachedSummary | None:
        with self._lock:
            row = self._db.execute(
                "SELECT summary, input_tokens, cached_tokens, output_tokens, reasoning_tokens, "
                "output_format, batch FROM summaries WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        return CachedSummary(
            summary=row[0],
            usage=Usage(row[1], row[2], row[3], row[4], 1),
            output_format=OutputFormat(row[5]) if row[5] in LADDER_AND_TEXT else None,
            batch=bool(row[6]),
        )

    def contains(self, keys: Iterable[str]) -> set[str]:
        """Which of `keys` are cached, in one query per thousand keys."""
        wanted = list(keys)
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(wanted), _KEYS_PER_QUERY):
                chunk = wanted[start : start + _KEYS_PER_QUERY]
                marks = ",".join("?" * len(chunk))
                found.update(
                    row[0]
                    for row in self._db.execute(
                        f"SELECT key FROM summaries WHERE key IN ({marks})",  # noqa: S608
                        chunk,
                    )
                )
        return found

    def put(
        self,
        key: str,
        *,
        backend: str,
        model: str,
        summary: str,
        usage: Usage,
        output_format: OutputFormat | None = None,
        batch: bool = False,
        release: str | None = None,
        overwrite: bool = True,
    ) -> bool:
        """Store a summary; with `release`, drop that owner's lease on it in the same commit.
        Without `overwrite`, a summary `key` already holds is kept (another build's answer,
        which builds may already have packed). Whether it was stored."""
        row = _row(key, backend, model, summary, usage, output_format, batch)
        with self._transaction():
            if not overwrite:
                return self._db.execute(_INSERT_NEW, row).rowcount == 1
            _insert(self._db, row, release)
            return True

    async def store(
        self,
        key: str,
        *,
        backend: str,
        model: str,
        summary: str,
        usage: Usage,
        output_format: OutputFormat | None = None,
        batch: bool = False,
        release: str | None = None,
    ) -> None:
        """`put` from async code: returns once the row is committed, without the event loop
        waiting on the disk."""
        row = _row(key, backend, model, summary, usage, output_format, batch)
        await self._write(lambda db: _insert(db, row, release))

    async def acquire(self, key: str, owner: str, *, seconds: float = LEASE_SECONDS) -> bool:
        """`lease` from async code, committed with the writes around it."""
        return bool(await self._write(lambda db: _take_lease(db, key, owner, seconds)))

    async def acquire_all(
        self, keys: Sequence[str], owner: str, *, seconds: float = LEASE_SECONDS
    ) -> dict[str, bool]:
        """`acquire` for several keys in one write: whether each lease was taken."""
        taken: dict[str, bool] = await self._write(
            lambda db: {key: _take_lease(db, key, owner, seconds) for key in keys}
        )
        return taken

    async def _write(self, write: _Write) -> Any:
        done: Future[Any] = Future()
        with self._writer_lock:  # not the database lock: the loop never waits on a write
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_pending, name="doctown-cache-writer", daemon=True
                )
                self._writer.start()
        self._pending.put((write, done))
        return await asyncio.wrap_future(done)

    def _write_pending(self) -> None:
        while True:
            first = self._pending.get()
            if first is None:
                return
            batch = [first]
            while not self._pending.empty():
                item = self._pending.get()
                if item is None:
                    self._pending.put(None)  # finish this batch, then stop
                    break
                batch.append(item)
            # Every write runs, even one whose caller was cancelled meanwhile (an answer paid
            # for is stored all the same); the thread never dies, or later writes would hang.
            try:
                with self._transaction():
                    results = [write(self._db) for write, _ in batch]
            except Exception as exc:  # handed to each caller, never lost
                for _, done in batch:
                    _settle(done, exception=exc)
            else:
                for (_, done), result in zip(batch, results, strict=True):
                    _settle(done, result=result)

    def check_writable(self) -> None:
        """Write a row and remove it, both committed; StateFileError if the cache cannot."""
        try:
            with self._lock:
                self._db.execute("INSERT OR REPLACE INTO leases VALUES ('probe', '', 0)")
                self._db.execute("DELETE FROM leases WHERE key = 'probe' AND owner = ''")
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None

    def lease(self, key: str, owner: str, *, seconds: float = LEASE_SECONDS) -> bool:
        """Take the lease on `key` unless another owner holds a live one; whether it was."""
        with self._transaction():
            return _take_lease(self._db, key, owner, seconds)

    def leased_by_another(self, key: str, owner: str) -> bool:
        """Whether another owner holds a live lease on `key` (a read: takes no lock)."""
        with self._lock:
            row = self._db.execute(
                "SELECT owner, expires FROM leases WHERE key = ?", (key,)
            ).fetchone()
        return row is not None and row[0] != owner and _live(row[0], row[1], time.time())

    def renew(self, keys: list[str], owner: str, *, seconds: float = LEASE_SECONDS) -> None:
        """Push back the expiry of the leases `owner` holds on `keys`."""
        expires = time.time() + seconds
        with self._lock:
            self._db.executemany(
                "UPDATE leases SET expires = ? WHERE key = ? AND owner = ?",
                [(expires, key, owner) for key in keys],
            )

    def release(self, key: str, owner: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM leases WHERE key = ? AND owner = ?", (key, owner))

    def stats(self) -> CacheStats:
        try:
            with self._lock:
                entries = self._db.execute("SELECT COUNT(*) FROM summaries").fetchone()[0]
                by_model = dict(
                    self._db.execute(
                        "SELECT backend || '/' || model, COUNT(*) FROM summaries "
                        "GROUP BY 1 ORDER BY 1"
                    ).fetchall()
                )
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        return CacheStats(path=str(self.path), entries=entries, bytes=size, by_model=by_model)

    def clear(self) -> int:
        try:
            with self._lock:
                removed: int = self._db.execute("DELETE FROM summaries").rowcount
                self._db.execute("DELETE FROM leases")
                self._db.execute("VACUUM")
        except sqlite3.Error as exc:
            raise self._unusable(exc) from None
        return removed

    def close(self) -> None:
        if self._writer is not None:
            self._pending.put(None)
            self._writer.join()
        with self._lock:
            self._db.close()


def _insert(db: sqlite3.Connection, row: _Row, release: str | None) -> None:
    db.execute(_INSERT, row)
    if release is not None:
        db.execute("DELETE FROM leases WHERE key = ? AND owner = ?", (row[0], release))


def _take_lease(db: sqlite3.Connection, key: str, owner: str, seconds: float) -> bool:
    now = time.time()
    row = db.execute("SELECT owner, expires FROM leases WHERE key = ?", (key,)).fetchone()
    taken = row is None or row[0] == owner or not _live(row[0], row[1], now)
    if taken:
        db.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?)", (key, owner, now + seconds))
    return taken


def lease_owner() -> str:
    """A new lease owner's name: this machine, this process, and a unique part."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex}"


def _live(owner: str, expires: float, now: float) -> bool:
    """Whether a lease still holds: not expired, and not owned by a dead local process."""
    if expires < now:
        return False
    host, _, rest = owner.partition("/")
    pid = rest.partition("/")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's process: only its expiry can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, under another user
    return True


class CachingBackend(WrapperBackend):
    """Answers from the cache when it can; stores every new summary before returning it.

    A prompt another build is asking (its lease is live) is waited for, not asked again.
    A failed write keeps the answer for this run; `warnings` says what the cache lost.
    """

    def __init__(self, wrapped: Backend, cache: SummaryCache) -> None:
        super().__init__(wrapped)
        self.cache = cache
        self.owner = lease_owner()
        self.unsaved = 0
        self.unreadable = 0
        self._held: set[str] = set()
        self._renewer: asyncio.Task[None] | None = None
        self._wanted: list[tuple[str, asyncio.Future[bool]]] = []  # leases this turn asks for
        self._acquiring: set[asyncio.Task[dict[str, bool]]] = set()

    @property
    def warnings(self) -> list[str]:
        """What went wrong with the cache in this run, for the job's warnings."""
        found = []
        if self.unsaved:
            found.append(
                f"The summary cache {self.cache.path} could not be written: {self.unsaved} "
                "answers are in this run's result but not in the cache, so the next run will "
                "pay for them again. Free disk space or fix the file's permissions."
            )
        if self.unreadable:
            found.append(
                f"The summary cache {self.cache.path} could not be read {self.unreadable} "
                "times; those prompts were asked again. It may be damaged: move it aside."
            )
        return found

    async def complete(self, prompt: Prompt) -> Completion:
        key = SummaryCache.key(self.name, self.model, prompt)
        found = self._cached(key, prompt)
        if found is not None:
            return found
        delay = WAIT_INITIAL_SECONDS
        while not await self._lease(key):
            # Another build is asking this very prompt: wait for its answer (or for its
            # lease to lapse, if it died) rather than pay for the same answer twice.
            await asyncio.sleep(delay)
            delay = min(delay * 2, WAIT_MAX_SECONDS)
            found = self._cached(key, prompt)
            if found is not None:
                return found
        try:
            completion = await self.wrapped.complete(prompt)
            if await self._store(key, completion):
                self._held.discard(key)  # released with the summary, in one commit
            return completion
        finally:
            self._unlease(key)

    def _cached(self, key: str, prompt: Prompt) -> Completion | None:
        try:
            found = self.cache.get(key)
        except sqlite3.Error as exc:
            self.unreadable += 1
            if self.unreadable == 1:
                logger.warning("the summary cache %s cannot be read: %s", self.cache.path, exc)
            return None
        output = cached_answer(found.summary, prompt) if found is not None else None
        if found is None or output is None:
            return None
        # Nothing is paid now: the run's usage for a cached answer is zero.
        return Completion(
            output,
            Usage(),
            attempts=0,
            cached=True,
            original_usage=found.usage,
            output_format=found.output_format or OutputFormat.JSON_SCHEMA,
            batch=found.batch,
        )

    async def _lease(self, key: str) -> bool:
        """Whether this build may ask `key` now (it holds the lease, or no lease can be kept)."""
        try:
            if not await self._acquire(key):
                return False
        except sqlite3.Error:
            return True  # leases cannot be kept: ask, as a build without a cache would
        self._held.add(key)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_leases())
        return True

    def _acquire(self, key: str) -> asyncio.Future[bool]:
        """Whether the lease on `key` was taken. Every lease asked for in one event-loop turn is
        taken in one write and answered at once, so the prompts of a wave that the cache could
        not answer go on together: the grouping below combines the prompts that reach it in
        one turn."""
        loop = asyncio.get_running_loop()
        if not self._wanted:
            loop.call_soon(self._acquire_wanted)
        future: asyncio.Future[bool] = loop.create_future()
        self._wanted.append((key, future))
        return future

    def _acquire_wanted(self) -> None:
        wanted, self._wanted = self._wanted, []
        keys = [key for key, _ in wanted]
        task = asyncio.create_task(self.cache.acquire_all(keys, self.owner))
        self._acquiring.add(task)
        task.add_done_callback(self._acquiring.discard)
        task.add_done_callback(partial(_answer_leases, wanted))

    def _unlease(self, key: str) -> None:
        if key not in self._held:
            return
        self._held.discard(key)
        with contextlib.suppress(sqlite3.Error):  # if it cannot be released, it lapses
            self.cache.release(key, self.owner)

    async def _renew_leases(self) -> None:
        """Keep this build's leases alive while their requests run."""
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            if not self._held:
                return
            try:
                self.cache.renew(sorted(self._held), self.owner)
            except sqlite3.Error:
                return

    async def _store(self, key: str, completion: Completion) -> bool:
        """Cache the answer (and release its lease); whether that worked."""
        try:
            await self.cache.store(
                key,
                backend=self.name,
                model=self.model,
                summary=stored_text(completion.single_output),
                # What making it cost: an answer a distributed build's workers found in their
                # shared cache costs this build nothing, but its entry keeps the original price.
                usage=completion.cost_to_make,
                output_format=completion.output_format,
                batch=completion.batch,
                release=self.owner if key in self._held else None,
            )
        except sqlite3.Error as exc:
            self.unsaved += 1
            if self.unsaved == 1:
                logger.warning(
                    "the summary cache %s cannot be written (%s); answers are kept for this "
                    "run only",
                    self.cache.path,
                    exc,
                )
            return False
        return True


def _answer_leases(
    wanted: list[tuple[str, asyncio.Future[bool]]], taking: asyncio.Future[dict[str, bool]]
) -> None:
    """Tell each prompt that asked for a lease whether it got it (or why none could be kept)."""
    error = None if taking.cancelled() else taking.exception()
    for key, future in wanted:
        if future.done():  # its prompt was cancelled meanwhile
            continue
        if taking.cancelled():
            future.cancel()
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(taking.result()[key])


def cached_answer(text: str, prompt: Prompt) -> DocumentationOutput | None:
    """The cached answer, or None when it no longer fits its schema (asked again, then)."""
    try:
        return restored(text, prompt.output)
    except pydantic.ValidationError:
        return None

"""A content-addressed store of summaries, so nothing is paid for twice.

Keyed by backend, model, prompt version and the exact prompt. Each summary is committed the
moment it arrives (SQLite in WAL mode), so a run killed at any instant keeps everything it
already paid for, and the next run finds it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import pydantic

from doctown.backends.base import Backend, Completion, restored, stored_text
from doctown.backends.formats import OutputFormat
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import PROMPT_VERSION, Prompt
from doctown.schemas import DocumentationOutput
from doctown.usage import Usage

_SCHEMA = """
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
    output_format TEXT
)
"""
# Columns added after the first release, with their type: older files gain them on open.
_ADDED_COLUMNS = {"output_format": "TEXT"}
_KEYS_PER_QUERY = 900  # below SQLite's default limit on bound parameters
LADDER_AND_TEXT = frozenset(OutputFormat)


def default_cache_path() -> Path:
    """`$DOCTOWN_CACHE_DIR/summaries.sqlite3`, else under the user cache directory."""
    base = os.environ.get("DOCTOWN_CACHE_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "doctown"
    )
    return Path(base) / "summaries.sqlite3"


_INSERT = "INSERT OR REPLACE INTO summaries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_Row = tuple[str, str, str, str, str, int, int, int, int, float, str | None]


def _row(
    key: str,
    backend: str,
    model: str,
    summary: str,
    usage: Usage,
    output_format: OutputFormat | None,
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
    )


@dataclass(frozen=True)
class CachedSummary:
    summary: str
    usage: Usage  # what it cost when it was made
    output_format: OutputFormat | None  # None: stored before formats were recorded


@dataclass(frozen=True)
class CacheStats:
    path: str
    entries: int
    bytes: int
    by_model: dict[str, int]


class SummaryCache:
    """The SQLite summary store. Safe to share between threads of one process."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._pending: queue.SimpleQueue[tuple[_Row, Future[None]] | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process
        self._db.execute(_SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(summaries)")}
        for column, kind in _ADDED_COLUMNS.items():
            if column not in present:
                self._db.execute(f"ALTER TABLE summaries ADD COLUMN {column} {kind}")

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
                "output_format FROM summaries WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        return CachedSummary(
            summary=row[0],
            usage=Usage(row[1], row[2], row[3], row[4], 1),
            output_format=OutputFormat(row[5]) if row[5] in LADDER_AND_TEXT else None,
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
    ) -> None:
        row = _row(key, backend, model, summary, usage, output_format)
        with self._lock:
            self._db.execute(_INSERT, row)

    async def store(
        self,
        key: str,
        *,
        backend: str,
        model: str,
        summary: str,
        usage: Usage,
        output_format: OutputFormat | None = None,
    ) -> None:
        """`put` from async code: returns once the row is committed, without the event loop
        waiting on the disk. The cache's writer thread commits the rows stored meanwhile in
        one transaction, so hundreds of answers a second cost a few commits, not hundreds."""
        done: Future[None] = Future()
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_pending, name="doctown-cache-writer", daemon=True
                )
                self._writer.start()
        self._pending.put((_row(key, backend, model, summary, usage, output_format), done))
        await asyncio.wrap_future(done)

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
            try:
                with self._lock:
                    self._db.execute("BEGIN")
                    self._db.executemany(_INSERT, [row for row, _ in batch])
                    self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                with self._lock:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for _, done in batch:
                    done.set_result(None)

    def stats(self) -> CacheStats:
        with self._lock:
            entries = self._db.execute("SELECT COUNT(*) FROM summaries").fetchone()[0]
            by_model = dict(
                self._db.execute(
                    "SELECT backend || '/' || model, COUNT(*) FROM summaries GROUP BY 1 ORDER BY 1"
                ).fetchall()
            )
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*"))
        return CacheStats(path=str(self.path), entries=entries, bytes=size, by_model=by_model)

    def clear(self) -> int:
        with self._lock:
            removed: int = self._db.execute("DELETE FROM summaries").rowcount
            self._db.execute("VACUUM")
        return removed

    def close(self) -> None:
        if self._writer is not None:
            self._pending.put(None)
            self._writer.join()
        with self._lock:
            self._db.close()


class CachingBackend(WrapperBackend):
    """Answers from the cache when it can; stores every new summary before returning it."""

    def __init__(self, wrapped: Backend, cache: SummaryCache) -> None:
        super().__init__(wrapped)
        self.cache = cache

    async def complete(self, prompt: Prompt) -> Completion:
        key = SummaryCache.key(self.name, self.model, prompt)
        found = self.cache.get(key)
        output = cached_answer(found.summary, prompt) if found is not None else None
        if found is not None and output is not None:
            # Nothing is paid now: the run's usage for a cached answer is zero.
            return Completion(
                output,
                Usage(),
                attempts=0,
                cached=True,
                original_usage=found.usage,
                output_format=found.output_format or OutputFormat.JSON_SCHEMA,
            )
        completion = await self.wrapped.complete(prompt)
        await self.cache.store(
            key,
            backend=self.name,
            model=self.model,
            summary=stored_text(completion.output),
            usage=completion.usage,
            output_format=completion.output_format,
        )
        return completion


def cached_answer(text: str, prompt: Prompt) -> DocumentationOutput | None:
    """The cached answer, or None when it no longer fits its schema (asked again, then)."""
    try:
        return restored(text, prompt.output)
    except pydantic.ValidationError:
        return None

"""A content-addressed store of summaries, so nothing is paid for twice.

Keyed by backend, model, prompt version and the exact prompt. Each summary is committed the
moment it arrives (SQLite in WAL mode), so a run killed at any instant keeps everything it
already paid for, and the next run finds it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from doctown.backends.base import Backend, Completion
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
    created_at REAL NOT NULL
)
"""


def default_cache_path() -> Path:
    """`$DOCTOWN_CACHE_DIR/summaries.sqlite3`, else under the user cache directory."""
    base = os.environ.get("DOCTOWN_CACHE_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "doctown"
    )
    return Path(base) / "summaries.sqlite3"


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
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process
        self._db.execute(_SCHEMA)

    @staticmethod
    def key(backend: str, model: str, prompt: Prompt) -> str:
        material = f"{backend}\n{model}\n{PROMPT_VERSION}\n{prompt.key}"
        return hashlib.sha256(material.encode()).hexdigest()

    def get(self, key: str) -> tuple[str, Usage] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT summary, input_tokens, cached_tokens, output_tokens, reasoning_tokens "
                "FROM summaries WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        return row[0], Usage(row[1], row[2], row[3], row[4], 1)

    def put(self, key: str, *, backend: str, model: str, summary: str, usage: Usage) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO summaries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
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
                ),
            )

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
        if found is not None:
            summary, cost_when_made = found
            # Nothing is paid now: the run's usage for a cached answer is zero.
            return Completion(
                DocumentationOutput(summary=summary),
                Usage(),
                attempts=0,
                cached=True,
                original_usage=cost_when_made,
            )
        completion = await self.wrapped.complete(prompt)
        self.cache.put(
            key,
            backend=self.name,
            model=self.model,
            summary=completion.output.summary,
            usage=completion.usage,
        )
        return completion

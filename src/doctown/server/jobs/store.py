"""The job records: one SQLite row per job, the record itself kept as JSON.

Keeping the record as JSON lets it gain fields without a migration; only what is queried
(the state) has a column of its own. Each save is committed at once, so a killed worker
leaves every job as it last stood.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from doctown.errors import InputError, StateFileError
from doctown.server.jobs.records import ACTIVE_STATES, Job

_ACTIVE = tuple(sorted(ACTIVE_STATES))

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
)
""",
    "CREATE INDEX IF NOT EXISTS jobs_by_age ON jobs (created_at, id)",
)


class JobStore:
    """Job records in one SQLite file. Safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()
        except sqlite3.Error as exc:
            self._db.close()
            raise StateFileError(
                f"The job records {path} cannot be read ({exc}). Stop the worker, move the "
                "file aside (the records of past jobs go with it; summaries already paid for "
                "stay in the summary cache beside it), and start the worker again."
            ) from None

    def save(self, job: Job) -> None:
        """Insert or replace the record of `job`."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?)",
                (job.id, job.state, job.created_at.isoformat(), job.model_dump_json()),
            )

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT record FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else Job.model_validate_json(row[0])

    def page(self, *, limit: int, before: str | None = None) -> list[Job]:
        """Up to `limit` jobs, newest first; only those older than the job `before` if given.

        InputError when `before` names no job.
        """
        with self._lock:
            if before is None:
                rows = self._db.execute(
                    "SELECT record FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?", (limit,)
                ).fetchall()
            else:
                anchor = self._db.execute(
                    "SELECT created_at FROM jobs WHERE id = ?", (before,)
                ).fetchone()
                if anchor is None:
                    raise InputError(f"before: this worker has no job {before!r}")
                rows = self._db.execute(
                    "SELECT record FROM jobs WHERE created_at < ? OR (created_at = ? AND id < ?) "
                    "ORDER BY created_at DESC, id DESC LIMIT ?",
                    (anchor[0], anchor[0], before, limit),
                ).fetchall()
        return [Job.model_validate_json(row[0]) for row in rows]

    def active(self) -> list[Job]:
        """Jobs still queued or running, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM jobs WHERE state IN (?, ?) ORDER BY created_at", _ACTIVE
            ).fetchall()
        return [Job.model_validate_json(row[0]) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

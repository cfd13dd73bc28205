"""Which batches a build has submitted, kept in the build's summary cache file.

A batch is recorded the moment its request file is uploaded (before the batch is created), and
its id the moment the API names it, so a build killed at any point, `kill -9` included, finds
on its next run what it already paid for and polls it instead of submitting it again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    input_file_id TEXT PRIMARY KEY,
    batch_id TEXT,
    base_url TEXT NOT NULL,
    model TEXT NOT NULL,
    output_format TEXT NOT NULL,
    keys TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
)
"""
# The symbols' prompt keys behind each request that asks about several (custom_id -> keys, in
# number order), so that a resumed build splits their answers and knows what they cover.
_GROUPS_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch_groups (
    custom_id TEXT PRIMARY KEY,
    members TEXT NOT NULL
)
"""
COLLECTED = "collected"  # its results are in the summary cache; nothing more to do


@dataclass(frozen=True)
class BatchRecord:
    input_file_id: str
    batch_id: str | None  # None: uploaded, the create call's answer never arrived
    output_format: str  # the response_format rung its requests asked for
    keys: list[str]  # custom_ids (prompt keys) of its requests
    status: str
    # custom_id -> the prompt keys of the symbols it asks about, for requests about several
    groups: dict[str, list[str]] = field(default_factory=dict)

    def covers(self) -> set[str]:
        """The prompt keys of every symbol its requests ask about."""
        return {member for key in self.keys for member in self.groups.get(key, [key])}


class BatchStore:
    """The `batches` table of a summary cache file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._db.execute(_GROUPS_SCHEMA)

    def uploaded(
        self,
        input_file_id: str,
        *,
        base_url: str,
        model: str,
        output_format: str,
        keys: list[str],
        groups: dict[str, list[str]] | None = None,
    ) -> BatchRecord:
        """Record an uploaded request file: its custom_ids and, for requests about several
        symbols, their members (one transaction)."""
        now = time.time()
        groups = groups or {}
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO batches VALUES (?, NULL, ?, ?, ?, ?, 'uploaded', ?, ?)",
                (input_file_id, base_url, model, output_format, json.dumps(keys), now, now),
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO batch_groups VALUES (?, ?)",
                [(custom_id, json.dumps(members)) for custom_id, members in groups.items()],
            )
            self._db.execute("COMMIT")
        return BatchRecord(input_file_id, None, output_format, keys, "uploaded", groups)

    def update(self, input_file_id: str, *, status: str, batch_id: str | None = None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE batches SET status = ?, batch_id = COALESCE(?, batch_id), updated_at = ? "
                "WHERE input_file_id = ?",
                (status, batch_id, time.time(), input_file_id),
            )

    def open(self, *, base_url: str, model: str) -> list[BatchRecord]:
        """Batches for this server and model whose results are not collected yet, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT input_file_id, batch_id, output_format, keys, status FROM batches "
                "WHERE base_url = ? AND model = ? AND status != ? ORDER BY created_at",
                (base_url, model, COLLECTED),
            ).fetchall()
        records = []
        for row in rows:
            keys = json.loads(row[3])
            records.append(BatchRecord(row[0], row[1], row[2], keys, row[4], self._groups(keys)))
        return records

    def _groups(self, keys: list[str]) -> dict[str, list[str]]:
        groups = {}
        with self._lock:
            for key in keys:
                row = self._db.execute(
                    "SELECT members FROM batch_groups WHERE custom_id = ?", (key,)
                ).fetchone()
                if row is not None:
                    groups[key] = json.loads(row[0])
        return groups

    def close(self) -> None:
        with self._lock:
            self._db.close()

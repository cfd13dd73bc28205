"""The analysis cache: each file's facts, keyed by its content hash, in one SQLite file.

A file whose bytes did not change is not parsed again, wherever it moved. The key also holds
a hash of the analysis code and queries, so changing either invalidates old facts. The same
directory holds one snapshot of the latest whole analysis per root (see `snapshot.py`).
Facts are stored with `marshal`, which reads only plain values (no code runs on load); a
damaged entry is treated as missing.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import sqlite3
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, cast

from doctown.analysis.facts import Binding, CallSite, Definition, FileFacts, ImportFact
from doctown.config import cache_dir

# Bump when the shape or meaning of the facts changes.
FACTS_VERSION = "1"
_BATCH = 500


def default_cache_dir() -> Path:
    """The cache folder (`config.cache_dir`): the facts live in analysis.sqlite there."""
    return cache_dir()


@functools.cache
def code_version() -> str:
    """A hash of the analysis code and queries: results made by other code are not reused."""
    digest = hashlib.sha256(FACTS_VERSION.encode())
    package = resources.files("doctown.analysis")
    for entry in sorted(
        (*package.iterdir(), *package.joinpath("queries").iterdir()), key=lambda e: e.name
    ):
        if entry.name.endswith((".py", ".scm")):
            digest.update(entry.name.encode())
            digest.update(entry.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(sha256: str, language: str) -> str:
    """The key of a file's facts: its content, its language and the analysis code."""
    return f"{sha256}:{language}:{code_version()}"


def encode_facts(facts: FileFacts) -> bytes:
    """Facts as bytes: for the cache, and for the trip back from a parser process."""
    plain = (
        facts.language,
        tuple(tuple(d) for d in facts.definitions),
        tuple(tuple(c) for c in facts.calls),
        tuple(tuple(i) for i in facts.imports),
        tuple(tuple(b) for b in facts.bindings),
        facts.implementations,
        facts.package,
        facts.module_doc,
        facts.default_exports,
        facts.syntax_errors,
        facts.failure,
    )
    return marshal.dumps(cast(Any, plain))


def decode_facts(data: bytes) -> FileFacts:
    """Facts from `encode_facts` bytes."""
    plain = marshal.loads(data)  # noqa: S302 - plain values only; see the module docstring
    return FileFacts(
        plain[0],
        tuple(Definition._make(d) for d in plain[1]),
        tuple(CallSite._make(c) for c in plain[2]),
        tuple(ImportFact._make(i) for i in plain[3]),
        tuple(Binding._make(b) for b in plain[4]),
        *plain[5:],
    )


class FactsCache:
    """Facts by cache key, in `<directory>/analysis.sqlite`."""

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or default_cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "analysis.sqlite"
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, data BLOB)")
        # One snapshot file per root: the latest analysis of that tree. Plain files, because
        # a snapshot is tens of megabytes written and read whole.
        self.snapshots = directory / "snapshots"
        # Facts made by other analysis code can never be read again: drop them.
        with self._db:
            self._db.execute(
                "DELETE FROM facts WHERE substr(key, -?) != ?",
                (len(code_version()), code_version()),
            )

    def get_many(self, keys: Iterable[str]) -> dict[str, FileFacts]:
        """The cached facts among `keys`; damaged entries are left out."""
        found: dict[str, FileFacts] = {}
        for batch in _batches(list(keys)):
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(f"SELECT key, data FROM facts WHERE key IN ({marks})", batch)  # noqa: S608 - placeholders only
            for key, data in rows:
                try:
                    found[key] = decode_facts(data)
                except (ValueError, EOFError, TypeError, IndexError):
                    continue
        return found

    def put_many(self, entries: Iterable[tuple[str, bytes]]) -> None:
        """Store encoded facts (see `encode_facts`); an entry already there is replaced."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO facts (key, data) VALUES (?, ?)", entries)

    def _snapshot_path(self, root: str) -> Path:
        return self.snapshots / f"{hashlib.sha256(root.encode()).hexdigest()[:32]}.snapshot"

    def get_snapshot(self, root: str, key: str) -> bytes | None:
        """The snapshot of `root` if it was taken with this fingerprint."""
        return _read_keyed(self._snapshot_path(root), key)

    def put_snapshot(self, root: str, key: str, data: bytes) -> None:
        """Replace the snapshot of `root`, atomically."""
        self._write_keyed(self._snapshot_path(root), key, data)

    def get_state(self, root: str) -> bytes | None:
        """What the last analysis of `root` kept for the next (see `incremental.py`)."""
        return _read_keyed(self._snapshot_path(root).with_suffix(".resolutions"), code_version())

    def put_state(self, root: str, data: bytes) -> None:
        """Replace what the last analysis of `root` kept, atomically."""
        path = self._snapshot_path(root).with_suffix(".resolutions")
        self._write_keyed(path, code_version(), data)

    def _write_keyed(self, path: Path, key: str, data: bytes) -> None:
        self.snapshots.mkdir(exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        with partial.open("wb") as stream:
            stream.write(key.encode() + b"\n")
            stream.write(data)
        partial.replace(path)

    def close(self) -> None:
        self._db.close()


def _read_keyed(path: Path, key: str) -> bytes | None:
    """The data of a file written by `_write_keyed` with this key, else None."""
    try:
        with path.open("rb") as stream:
            if stream.readline().rstrip(b"\n") != key.encode():
                return None
            return stream.read()
    except OSError:
        return None


def _batches(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), _BATCH):
        yield keys[start : start + _BATCH]

"""Finding the strongest output format a server supports, once, and remembering it.

The first request to a (base URL, model) probes: it asks for the top rung and steps down each
time the server refuses the format, while every other request waits for the answer. The rung
that produced an answer is kept in process and in a small SQLite file beside the summary cache,
so a restarted worker or the next `doctown build` asks for it straight away. A remembered rung
is probed again after `REPROBE_AFTER_SECONDS`, in case the server was upgraded.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar, TypeVar

from doctown.backends.base import Completion
from doctown.backends.formats import LADDER, OutputFormat, next_rung
from doctown.errors import (
    FormatUnsupportedError,
    InvalidOutputError,
    RefusalError,
    TruncatedOutputError,
)

logger = logging.getLogger("doctown.backends")

REPROBE_AFTER_SECONDS = 7 * 24 * 3600
MEMORY_FILE_NAME = "structured_output.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS formats (
    base_url TEXT NOT NULL,
    model TEXT NOT NULL,
    format TEXT NOT NULL,
    probed_at REAL NOT NULL,
    PRIMARY KEY (base_url, model)
)
"""

# Failures that come from a 200 answer: the server accepted the format.
_ANSWERED = (RefusalError, TruncatedOutputError, InvalidOutputError)

T = TypeVar("T", bound=Completion)


class FormatMemory:
    """The rung each (base URL, model) answered at: in process, and in `path` when given.

    The file is an optimisation: when it cannot be read or written, probing simply happens
    again in the next process.
    """

    # Shared by every backend of the process: a second engine does not probe again.
    _known: ClassVar[dict[tuple[str, str, str], tuple[OutputFormat, float]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def _key(self, base_url: str, model: str) -> tuple[str, str, str]:
        return (str(self.path), base_url, model)

    def recall(self, base_url: str, model: str) -> OutputFormat | None:
        with self._lock:
            found = self._known.get(self._key(base_url, model))
        if found is None and self.path is not None and self.path.is_file():
            found = self._read(base_url, model)
        if found is None or time.time() - found[1] > REPROBE_AFTER_SECONDS:
            return None
        return found[0]

    def remember(self, base_url: str, model: str, rung: OutputFormat) -> None:
        now = time.time()
        with self._lock:
            self._known[self._key(base_url, model)] = (rung, now)
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(self.path, timeout=5) as db:
                db.execute(_SCHEMA)
                db.execute(
                    "INSERT OR REPLACE INTO formats VALUES (?, ?, ?, ?)",
                    (base_url, model, rung.value, now),
                )
            db.close()
        except (OSError, sqlite3.Error) as exc:
            logger.debug("could not record the output format in %s: %s", self.path, exc)

    def _read(self, base_url: str, model: str) -> tuple[OutputFormat, float] | None:
        assert self.path is not None
        try:
            with sqlite3.connect(self.path, timeout=5) as db:
                db.execute(_SCHEMA)
                row = db.execute(
                    "SELECT format, probed_at FROM formats WHERE base_url = ? AND model = ?",
                    (base_url, model),
                ).fetchone()
            db.close()
        except (OSError, sqlite3.Error) as exc:
            logger.debug("could not read the output format from %s: %s", self.path, exc)
            return None
        if row is None or row[0] not in LADDER:
            return None
        return OutputFormat(row[0]), float(row[1])


class FormatLadder:
    """The rung one backend asks for: probed by the first request, then shared by all."""

    def __init__(self, memory: FormatMemory, *, base_url: str, model: str) -> None:
        self.memory = memory
        self.base_url = base_url
        self.model = model
        remembered = memory.recall(base_url, model)
        self.rung = remembered or LADDER[0]
        self.confirmed = remembered is not None
        self._probe = asyncio.Lock()

    async def run(self, attempt: Callable[[OutputFormat, bool], Awaitable[T]]) -> T:
        """`attempt(rung, probing)` at the current rung, stepping down while it is refused.

        Until a rung is confirmed, requests go one at a time: the others wait for the probe
        instead of each paying for the refusals.
        """
        while True:
            if not self.confirmed:
                async with self._probe:
                    if not self.confirmed:
                        return await self._probing(attempt)
            rung = self.rung
            try:
                return await attempt(rung, False)
            except FormatUnsupportedError as refused:
                self._step_down(rung, refused)

    async def _probing(self, attempt: Callable[[OutputFormat, bool], Awaitable[T]]) -> T:
        while True:
            rung = self.rung
            try:
                completion = await attempt(rung, True)
            except FormatUnsupportedError as refused:
                self._step_down(rung, refused)
                continue
            except _ANSWERED:
                self._confirm(rung)
                raise
            # An answer read below the rung asked for means the server ignored the format.
            read_as = OutputFormat(completion.output_format)
            self._confirm(OutputFormat.JSON_INSTRUCTIONS if read_as not in LADDER else read_as)
            return completion

    def _step_down(self, rung: OutputFormat, refused: FormatUnsupportedError) -> None:
        lower = next_rung(rung)
        if lower is None:  # unreachable: the bottom rung sends no response_format
            raise refused
        if self.rung is rung:
            logger.info(
                "%s at %s does not support response_format %s (%s); asking for %s",
                self.model,
                self.base_url,
                rung.value,
                str(refused).splitlines()[0][:160],
                lower.value,
            )
            self.rung = lower
            if self.confirmed:
                self.memory.remember(self.base_url, self.model, lower)

    def _confirm(self, rung: OutputFormat) -> None:
        self.rung = rung
        self.confirmed = True
        self.memory.remember(self.base_url, self.model, rung)

"""Progress events in the Doctown v1 envelope, delivered to in-process subscribers.

A job's events carry a `sequence` that increases by one per event; only the terminal event
(`*.completed.v1`) carries a `status`. `JsonLinesWriter` is a subscriber that appends each
event as one JSON line.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, Field

from doctown.errors import InputError
from doctown.redaction import redact

ENVELOPE_VERSION = "1.0"

GENERATION_STARTED = "generation.started.v1"
GENERATION_SYMBOL_DOCUMENTED = "generation.symbol_documented.v1"
GENERATION_SYMBOL_FAILED = "generation.symbol_failed.v1"
GENERATION_COMPLETED = "generation.completed.v1"
# doctown build --batch: a Batch API batch was submitted, advanced, or ended.
GENERATION_BATCH_SUBMITTED = "generation.batch_submitted.v1"
GENERATION_BATCH_PROGRESS = "generation.batch_progress.v1"
GENERATION_BATCH_COMPLETED = "generation.batch_completed.v1"
PACK_STARTED = "pack.started.v1"
PACK_COMPLETED = "pack.completed.v1"
JOB_COMPLETED = "job.completed.v1"


class Event(BaseModel):
    envelope_version: str = ENVELOPE_VERSION
    event_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    timestamp: str = Field(
        default_factory=lambda: (
            datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
    )
    job_id: str
    source: str
    type: str
    sequence: int
    status: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None

    def to_json(self) -> str:
        """The event as one line of JSON, with every configured secret taken out."""
        return redact(self.model_dump_json(exclude_none=True))


Subscriber = Callable[[Event], None]


class EventEmitter:
    """Emits one job's events, numbering them, to every subscriber."""

    def __init__(
        self,
        job_id: str,
        *,
        source: str,
        subscribers: list[Subscriber] | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.job_id = job_id
        self.source = source
        self.subscribers = list(subscribers or [])
        self.context = context
        self._sequence = 0
        self._lock = threading.Lock()

    def emit(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        status: str | None = None,
        source: str | None = None,
    ) -> Event:
        """Number and deliver one event; `source` overrides the emitter's for one stage."""
        with self._lock:
            self._sequence += 1
            event = Event(
                job_id=self.job_id,
                source=source or self.source,
                type=type_,
                sequence=self._sequence,
                status=status,
                payload=payload,
                context=self.context,
            )
        for subscriber in self.subscribers:
            subscriber(event)
        return event


class JsonLinesWriter:
    """A subscriber that appends events as JSON lines to a file or stream, flushed per line."""

    def __init__(self, target: str | Path | IO[str]) -> None:
        if isinstance(target, str | Path):
            try:
                self._stream: IO[str] = Path(target).open("a", encoding="utf-8")  # noqa: SIM115
            except OSError as exc:
                raise InputError(
                    f"Cannot write events to {target}: {exc.strerror or exc}; choose a file in "
                    "a folder that exists and that you can write to."
                ) from None
            self._owned = True
        else:
            self._stream = target
            self._owned = False
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        line = event.to_json()
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._owned:
            self._stream.close()


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """Parse a JSON-lines events file."""
    with Path(path).open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]

"""One job's events: appended to `events.jsonl` in the job's folder, and followed live.

The file is what replays a job after a restart; the copy in memory is what live followers
read while the job runs. Events arrive from the event loop and from the thread that runs
the analysis, so appends take a lock and wake the followers through the loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from doctown import events

SOURCE = "doctown.server.jobs"


@dataclass(frozen=True)
class LoggedEvent:
    """One event as the log keeps it: its sequence and type, and its JSON line as sent."""

    sequence: int
    type: str
    json: str


def _parse(line: str) -> LoggedEvent:
    data = json.loads(line)
    return LoggedEvent(data["sequence"], data["type"], line)


def read_log(path: Path, *, after: int = 0) -> Iterator[LoggedEvent]:
    """The events in a job's file with a sequence above `after`; a torn last line is skipped.

    A worker killed mid-write can leave half a line at the end; it never held a whole event.
    """
    if not path.exists():
        return
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            if not line.endswith("\n"):
                return
            event = _parse(line.rstrip("\n"))
            if event.sequence > after:
                yield event


class EventLog:
    """A subscriber that keeps one job's events on disk and in memory, and wakes followers.

    Create it on the event loop. After the terminal event it ignores events: a build thread
    cancelled at shutdown may still emit a few, and none may follow the terminal event.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loop = asyncio.get_running_loop()
        self._events = list(read_log(path))
        self._trim_torn_tail()
        self.finished = bool(self._events) and self._events[-1].type == events.JOB_COMPLETED
        self._stream: IO[str] | None = None if self.finished else path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self._changed = asyncio.Event()

    def _trim_torn_tail(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            self.path.write_bytes(data[: data.rfind(b"\n") + 1])

    def __call__(self, event: events.Event) -> None:
        with self._lock:
            if self.finished:
                return
            self._write(event)
        self._loop.call_soon_threadsafe(self._wake)

    def finish(self, job_id: str, status: str, payload: dict[str, Any]) -> None:
        """End the log with a terminal event, unless the build already wrote its own."""
        with self._lock:
            if self.finished:
                return
            self._write(
                events.Event(
                    job_id=job_id,
                    source=SOURCE,
                    type=events.JOB_COMPLETED,
                    sequence=self._events[-1].sequence + 1 if self._events else 1,
                    status=status,
                    payload=payload,
                )
            )
        self._loop.call_soon_threadsafe(self._wake)

    def _write(self, event: events.Event) -> None:
        assert self._stream is not None, "a finished log takes no more events"
        logged = LoggedEvent(event.sequence, event.type, event.to_json())
        self._stream.write(logged.json + "\n")
        self._stream.flush()
        self._events.append(logged)
        if event.type == events.JOB_COMPLETED:
            self.finished = True
            self._stream.close()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, *, after: int = 0, idle: float) -> AsyncIterator[list[LoggedEvent]]:
        """Every event with a sequence above `after`, then each new one until the last.

        Events come in batches, all that arrived since the last one, so a busy job costs a
        follower one write per wake-up rather than one per event. An empty batch after
        `idle` seconds of quiet lets a stream send a keep-alive.
        """
        index = 0
        while True:
            # Both taken before reading: a wake-up scheduled after the read still reaches
            # us, and a log finished before the read has its last event in the read.
            changed, finished = self._changed, self.finished
            end = len(self._events)
            batch = [event for event in self._events[index:end] if event.sequence > after]
            index = end
            if batch:
                yield batch
            if finished:
                return
            try:
                await asyncio.wait_for(changed.wait(), idle)
            except TimeoutError:
                yield []

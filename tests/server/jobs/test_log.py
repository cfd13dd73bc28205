"""A job's event log: on disk for replay, in memory for live followers, closed once."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from doctown import events
from doctown.server.jobs.log import EventLog, LoggedEvent, read_log


def emitter(log: EventLog) -> events.EventEmitter:
    return events.EventEmitter("job-1", source="test", subscribers=[log])


async def collect(log: EventLog, after: int = 0) -> list[LoggedEvent]:
    return [event async for batch in log.follow(after=after, idle=5) for event in batch]


async def test_followers_get_the_past_then_the_live_events_until_the_last(
    tmp_path: Path,
) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    emit = emitter(log)
    emit.emit("ingest.started.v1", {})
    follower = asyncio.create_task(collect(log))
    late = asyncio.create_task(collect(log, after=2))
    await asyncio.sleep(0)
    emit.emit("generation.started.v1", {})
    await asyncio.sleep(0)
    emit.emit(events.JOB_COMPLETED, {}, status="success")
    emit.emit("ignored.v1", {})  # nothing follows the terminal event
    everything = await asyncio.wait_for(follower, 5)
    assert [(e.sequence, e.type) for e in everything] == [
        (1, "ingest.started.v1"),
        (2, "generation.started.v1"),
        (3, events.JOB_COMPLETED),
    ]
    assert [e.sequence for e in await asyncio.wait_for(late, 5)] == [3]
    assert [e.json for e in read_log(log.path)] == [e.json for e in everything]


async def test_events_emitted_from_another_thread_wake_followers(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    emit = emitter(log)
    follower = asyncio.create_task(collect(log))
    await asyncio.sleep(0)

    def build() -> None:
        for index in range(50):
            emit.emit("ingest.file_detected.v1", {"index": index})
        emit.emit(events.JOB_COMPLETED, {}, status="success")

    thread = threading.Thread(target=build)
    thread.start()
    received = await asyncio.wait_for(follower, 5)
    thread.join()
    assert [e.sequence for e in received] == list(range(1, 52))


async def test_finish_closes_the_log_with_the_next_sequence_once(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    emitter(log).emit("ingest.started.v1", {})
    log.finish("job-1", "interrupted", {"error": {"type": "interrupted", "message": "m"}})
    log.finish("job-1", "failed", {})
    (_, last) = await collect(log)
    assert (last.sequence, last.type) == (2, events.JOB_COMPLETED)
    assert '"status":"interrupted"' in last.json and '"source":"doctown.server.jobs"' in last.json
    assert len(list(read_log(log.path))) == 2


async def test_a_torn_last_line_is_dropped_and_a_finished_log_stays_finished(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    first = events.Event(job_id="job-1", source="test", type="ingest.started.v1", sequence=1)
    # What a worker killed in the middle of writing its second event leaves behind.
    path.write_text(first.to_json() + '\n{"sequence": 2, "ty')
    assert [e.sequence for e in read_log(path)] == [1]
    reopened = EventLog(path)
    reopened.finish("job-1", "interrupted", {})
    assert [e.sequence for e in read_log(path)] == [1, 2]
    assert path.read_text().count("\n") == 2
    again = EventLog(path)
    assert again.finished
    again.finish("job-1", "interrupted", {})
    assert len(list(read_log(path))) == 2
    assert [e.sequence for e in read_log(path, after=1)] == [2]


async def test_a_quiet_log_yields_empty_batches_for_keep_alives(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    emit = emitter(log)
    emit.emit("ingest.started.v1", {})
    batches = log.follow(idle=0.01)
    assert [e.sequence for e in await anext(batches)] == [1]
    assert await anext(batches) == []
    emit.emit("ingest.file_detected.v1", {})
    emit.emit(events.JOB_COMPLETED, {}, status="success")
    assert [e.sequence for e in await anext(batches)] == [2, 3]  # both in one batch
    with pytest.raises(StopAsyncIteration):
        await anext(batches)

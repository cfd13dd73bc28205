"""A job's counts and usage follow its generation events; the terminal event settles them."""

from __future__ import annotations

from typing import Any

from doctown import events
from doctown.server.jobs.progress import Progress
from doctown.server.jobs.records import Job, JobCounts, JobSource


def test_counts_follow_each_symbol_and_the_totals_replace_them() -> None:
    job = Job(id="j", source=JobSource(kind="upload", name="repo.zip"))
    job.counts = JobCounts(symbols=5, reused=1, remaining=4)
    changes: list[JobCounts] = []
    progress = Progress(job, lambda: changes.append(job.counts.model_copy()))
    emitter = events.EventEmitter("j", source="test", subscribers=[progress])
    documented: dict[str, Any] = {"input_tokens": 100, "output_tokens": 10, "attempts": 1}
    emitter.emit(events.GENERATION_STARTED, {"symbol_count": 4})
    emitter.emit(events.GENERATION_SYMBOL_DOCUMENTED, documented | {"cost": 0.5})
    emitter.emit(events.GENERATION_SYMBOL_DOCUMENTED, {"cached": True, "attempts": 0})
    emitter.emit(events.GENERATION_SYMBOL_FAILED, {"reason": "refusal", "attempts": 1})
    emitter.emit(events.GENERATION_SYMBOL_FAILED, {"reason": "not_attempted", "attempts": 0})
    assert job.counts == JobCounts(
        symbols=5, documented=2, cached=1, reused=1, failed=1, remaining=1
    )
    assert (job.usage.input_tokens, job.usage.output_tokens) == (100, 10)
    assert (job.usage.requests, job.usage.cost) == (2, 0.5)
    assert len(changes) == 3  # once per symbol that moved, not for the skipped one

    usage = {"input_tokens": 120, "output_tokens": 12, "requests": 3, "cost": 0.75}
    totals = {"symbols": 5, "documented": 2, "cached": 1, "reused": 1, "failed": 1}
    emitter.emit(events.JOB_COMPLETED, totals | {"remaining": 1, "usage": usage})
    assert job.usage.requests == 3 and job.usage.cost == 0.75
    assert job.counts.remaining == 1 and len(changes) == 4

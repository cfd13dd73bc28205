"""The job records: saved, read back, listed while active, kept across a reopen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from doctown.server.jobs.records import Job, JobSource
from doctown.server.jobs.store import JobStore


def job(job_id: str, state: str = "queued", minutes: int = 0) -> Job:
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return Job.model_validate(
        {
            "id": job_id,
            "state": state,
            "source": JobSource(kind="path", name="/srv/repo"),
            "created_at": created,
        }
    )


def test_a_saved_job_reads_back_whole(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    saved = job("a")
    saved.counts.documented = 3
    saved.usage.cost = 0.25
    store.save(saved)
    assert store.get("a") == saved
    assert store.get("missing") is None


def test_saving_again_replaces_the_record(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    store.save(job("a"))
    store.save(job("a", "succeeded"))
    found = store.get("a")
    assert found is not None and found.state == "succeeded"


def test_active_lists_queued_and_running_jobs_oldest_first(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    for saved in (
        job("late", "queued", minutes=5),
        job("done", "succeeded", minutes=1),
        job("early", "running", minutes=2),
        job("broken", "failed", minutes=3),
    ):
        store.save(saved)
    assert [found.id for found in store.active()] == ["early", "late"]


def test_records_outlive_the_connection(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "jobs.sqlite3"
    store = JobStore(path)
    store.save(job("a", "running"))
    store.close()
    assert [found.id for found in JobStore(path).active()] == ["a"]

"""The job service on its own: one process per JOBS_DIR, nothing on disk before a job, caps."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from doctown import events
from doctown.errors import ConfigurationError, InputError
from doctown.generation import build_engine
from doctown.pipeline import Build
from doctown.server.jobs import JobCreate, JobService
from doctown.server.jobs.service import jobs_dir
from doctown.testing import FakeOpenAIServer
from tests.conftest import openai_settings


def service(server: FakeOpenAIServer, root: Path, **overrides: Any) -> JobService:
    settings = openai_settings(server, jobs_dir=str(root), **overrides)
    return JobService(settings, build_engine(settings))


async def test_a_worker_that_runs_no_job_writes_nothing(
    fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    jobs = service(fake_openai, tmp_path / "jobs")
    await jobs.start()
    assert jobs.get("anything") is None
    await jobs.close()
    assert not (tmp_path / "jobs").exists()


async def test_two_workers_cannot_share_a_jobs_dir(
    fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    (tmp_path / "repo").mkdir()
    first = service(fake_openai, tmp_path / "jobs", jobs_allowed_roots=str(tmp_path))
    job = await first.submit(JobCreate(path=str(tmp_path / "repo")))
    second = service(fake_openai, tmp_path / "jobs")
    with pytest.raises(ConfigurationError, match="in use by another worker process"):
        await second.start()
    await first.close()
    await second.start()  # the lock goes with the process that held it
    found = second.get(job.id)
    assert found is not None and found.state in ("succeeded", "failed", "interrupted")
    await second.close()


async def test_closing_the_worker_interrupts_running_and_queued_jobs(
    fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "main.py").write_text("def main():\n    return 1\n")
    jobs = service(fake_openai, tmp_path / "jobs", jobs_allowed_roots=str(tmp_path))
    submitted = [await jobs.submit(JobCreate(path=str(tmp_path / "repo"))) for _ in range(2)]
    await jobs.close()
    reopened = service(fake_openai, tmp_path / "jobs")
    await reopened.start()
    for job in submitted:
        found = reopened.get(job.id)
        assert found is not None and found.state == "interrupted"
        assert found.error is not None and "Submit it again" in found.error.message
        (*_, last) = [event async for batch in reopened.events(job.id) for event in batch]
        assert last.type == events.JOB_COMPLETED and '"status":"interrupted"' in last.json
    await reopened.close()


async def test_jobs_max_cost_caps_every_job(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    jobs = service(
        fake_openai, tmp_path / "jobs", jobs_allowed_roots=str(tmp_path), jobs_max_cost="0.50"
    )
    uncapped = await jobs.submit(JobCreate(path=str(tmp_path / "repo")))
    cheaper = await jobs.submit(JobCreate(path=str(tmp_path / "repo"), max_cost=Decimal("0.1")))
    assert uncapped.options.max_cost == Decimal("0.50")
    assert cheaper.options.max_cost == Decimal("0.1")
    with pytest.raises(InputError, match=r"above the worker's JOBS_MAX_COST \(0.50\)"):
        await jobs.submit(JobCreate(path=str(tmp_path / "repo"), max_cost=Decimal("2")))
    await jobs.close()


def test_jobs_live_under_the_user_cache_unless_configured(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAIServer, tmp_path: Path
) -> None:
    monkeypatch.delenv("JOBS_DIR")
    monkeypatch.delenv("DOCTOWN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert jobs_dir(openai_settings(fake_openai)) == tmp_path / "cache" / "doctown" / "jobs"
    assert jobs_dir(openai_settings(fake_openai, jobs_dir="/srv/jobs")) == Path("/srv/jobs")


def test_allowed_roots_must_be_absolute(fake_openai: FakeOpenAIServer) -> None:
    with pytest.raises(ConfigurationError, match="JOBS_ALLOWED_ROOTS must list absolute"):
        openai_settings(fake_openai, jobs_allowed_roots="/srv/repos, repos")


async def test_an_unexpected_failure_fails_the_job_without_leaking_its_details(
    fake_openai: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_pack(*args: object) -> None:
        raise RuntimeError("disk on fire at /srv/secret/place")

    monkeypatch.setattr(Build, "pack", broken_pack)
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "main.py").write_text("def main():\n    return 1\n")
    settings = openai_settings(
        fake_openai, jobs_dir=str(tmp_path / "jobs"), jobs_allowed_roots=str(tmp_path)
    )
    engine = build_engine(settings)
    jobs = JobService(settings, engine)
    job = await jobs.submit(JobCreate(path=str(tmp_path / "repo")))
    batches = [batch async for batch in jobs.events(job.id)]
    assert job.state == "failed" and job.error is not None
    assert job.error.type == "internal_error" and "secret" not in job.error.message
    assert "secret" not in batches[-1][-1].json
    assert "disk on fire" in caplog.text  # the traceback goes to the worker's log
    await jobs.close()
    await engine.backend.aclose()

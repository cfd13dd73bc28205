"""The job service: accepts builds, runs them in the background, keeps them on disk.

Everything lives under JOBS_DIR: `jobs.sqlite3` (the records), `summaries.sqlite3` (the
summary cache jobs share), and one folder per job with the uploaded archive while it
builds, `events.jsonl` and the finished `docpack`. Nothing is written there until the first
job: a worker that never runs one leaves no trace.

A job keeps running when the client that submitted it goes away. When the worker stops, or
dies, its unfinished jobs are marked `interrupted`; every summary they had paid for is in
the cache, so submitting them again costs nothing twice. A job can be cancelled: queued,
it never starts; running, it sends nothing more and ends once its requests in flight are
answered (and cached). At most JOBS_MAX_CONCURRENT jobs run and JOBS_MAX_QUEUED wait, so
the uploads kept on disk while they wait are bounded too.
"""

from __future__ import annotations

import asyncio
import copy
import fcntl
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from doctown.config import Settings
from doctown.errors import (
    ConfigurationError,
    DoctownError,
    InputError,
    JobCancelledError,
    JobNotActiveError,
    StateFileError,
    WorkerBusyError,
)
from doctown.generation import GenerationEngine
from doctown.generation.cache import SummaryCache
from doctown.pipeline import Build, BuildOptions
from doctown.pipeline.git import public_url
from doctown.redaction import redact
from doctown.schemas import JobError
from doctown.server.jobs.log import EventLog, LoggedEvent, read_log
from doctown.server.jobs.progress import Progress
from doctown.server.jobs.records import Job, JobCreate, JobOptions, JobSource, JobState, utc_now
from doctown.server.jobs.sources import PinnedSource, check_git_url, pin_path, save_upload
from doctown.server.jobs.store import JobStore

if TYPE_CHECKING:
    from doctown.distributed import Distributed

logger = logging.getLogger("doctown.server.jobs")

STORE_NAME = "jobs.sqlite3"
CACHE_NAME = "summaries.sqlite3"
EVENTS_NAME = "events.jsonl"
DOCPACK_NAME = "docpack"
UPLOAD_NAME = "upload"
LOCK_NAME = "worker.lock"
# Often enough that an interrupted job shows nearly where it stopped; rarely enough that a
# fast cached run does not write its record once per symbol.
CHECKPOINT_SECONDS = 1.0
# Under the idle timeouts of common proxies, so a quiet stream (a long analysis) stays open.
KEEP_ALIVE_SECONDS = 15.0
REPLAY_BATCH = 1_000
INTERRUPTED = JobError(
    type="interrupted",
    message="The worker stopped before this job finished. Submit it again: the summaries it "
    "had already generated are in the summary cache and will not be paid for twice.",
)
CANCELLED = JobError(type=JobCancelledError.reason, message=str(JobCancelledError()))
INTERNAL_ERROR = JobError(
    type="internal_error",
    message="The build failed unexpectedly; the worker's log has the details.",
)


@dataclass(frozen=True)
class Upload:
    """An uploaded archive: the name the client gave it and its content."""

    name: str
    content: BinaryIO


class _CancelledByClient(Exception):
    """Ends a job's run once its cancellation has taken effect."""


@dataclass
class _Active:
    """A job this process has accepted and not finished: its record, log and controls."""

    job: Job
    log: EventLog
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    pinned: PinnedSource | None = None


def jobs_dir(settings: Settings) -> Path:
    """JOBS_DIR, else `jobs/` in the cache folder (DOCTOWN_CACHE_DIR, else the user cache)."""
    if settings.jobs_dir:
        return Path(settings.jobs_dir).expanduser()
    return settings.cache_dir / "jobs"


class JobService:
    """Build jobs for one worker process, which must be the only one using its JOBS_DIR."""

    def __init__(self, settings: Settings, engine: GenerationEngine) -> None:
        self.settings = settings
        self.root = jobs_dir(settings)
        self._engine = engine
        self._slots = asyncio.Semaphore(settings.jobs_max_concurrent)
        self._store: JobStore | None = None
        self._cache: SummaryCache | None = None
        self._lock: IO[str] | None = None
        self._running: dict[str, _Active] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._broken: StateFileError | None = None
        self._accepting = 0  # submissions between their capacity check and their record

    async def start(self) -> None:
        """Take over the jobs of a previous process, if there are any.

        Records that cannot be read do not stop the worker: /health and /generate go on,
        and the job routes answer 503 with what to do.
        """
        if (self.root / STORE_NAME).exists():
            try:
                self._open()
            except StateFileError as exc:
                logger.error("%s", exc)
                self._broken = exc

    def _open(self) -> JobStore:
        """Lock JOBS_DIR, open the records, and mark what an earlier process left unfinished."""
        if self._broken is not None:
            raise self._broken
        if self._store is not None:
            return self._store
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._lock = (self.root / LOCK_NAME).open("a")
        except OSError as exc:
            raise ConfigurationError(f"JOBS_DIR {self.root} is not writable: {exc}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise ConfigurationError(
                f"JOBS_DIR {self.root} is in use by another worker process; give each worker "
                "process its own JOBS_DIR."
            ) from None
        try:
            store = JobStore(self.root / STORE_NAME)
            for job in store.active():
                logger.warning("job %s was %s when the worker stopped", job.id, job.state)
                self._folder(job.id).mkdir(exist_ok=True)
                (self._folder(job.id) / UPLOAD_NAME).unlink(missing_ok=True)
                log = EventLog(self._folder(job.id) / EVENTS_NAME)
                self._end(store, job, log, "interrupted", INTERRUPTED)
        except BaseException:
            self._lock.close()
            self._lock = None
            raise
        self._store = store
        return store

    def _folder(self, job_id: str) -> Path:
        return self.root / job_id

    def _job_engine(self) -> GenerationEngine:
        """The worker's engine (its backend and request slots) with the jobs' summary cache."""
        if self._engine.cache is not None:
            return self._engine
        if self._cache is None:
            self._cache = SummaryCache(self.root / CACHE_NAME)
        engine = copy.copy(self._engine)
        engine.cache = self._cache
        return engine

    def check_capacity(self) -> None:
        """WorkerBusyError when JOBS_MAX_CONCURRENT jobs run and JOBS_MAX_QUEUED wait."""
        capacity = self.settings.jobs_max_concurrent + self.settings.jobs_max_queued
        held = len(self._running) + self._accepting
        if held >= capacity:
            raise WorkerBusyError(
                f"The worker has {held} jobs running or queued, as many as "
                "JOBS_MAX_CONCURRENT plus JOBS_MAX_QUEUED allow; submit this one again once "
                "some have finished."
            )

    async def submit(self, request: JobCreate, upload: Upload | None = None) -> Job:
        """Check the source, record the job as queued and start it in the background.

        `upload` is an archive's file name and content; without one, `request` names a `path`
        or a `url`. Raises SourceNotAllowedError or InputError for a source it refuses, and
        WorkerBusyError when the queue is full.
        """
        self.check_capacity()
        self._accepting += 1  # the upload is saved below: its place is taken meanwhile
        try:
            return await self._accept(request, upload)
        finally:
            self._accepting -= 1

    async def _accept(self, request: JobCreate, upload: Upload | None) -> Job:
        sources = {"archive": upload, "path": request.path, "url": request.url}
        given = [name for name, value in sources.items() if value]
        if len(given) != 1:
            raise InputError(
                "Give exactly one source: an archive upload (multipart field 'archive'), a "
                f"server-side 'path', or a git 'url'; got {', '.join(given) or 'none'}."
            )
        if request.ref and not request.url:
            raise InputError("ref applies to git URLs only; check the ref out before packing.")
        options = JobOptions.model_validate(request.model_dump(exclude={"path", "url"}))
        options.max_cost = self._capped(options.max_cost)
        distributed = self._distributed() if options.distributed else None
        job_id = uuid.uuid4().hex
        folder = self._folder(job_id)
        source: str | Path
        pinned = None
        if upload is not None:
            origin, source = JobSource(kind="upload", name=upload.name), folder / UPLOAD_NAME
        elif request.path:
            origin = JobSource(kind="path", name=request.path)
            pinned = pin_path(request.path, self.settings.jobs_allowed_root_list)
            source = pinned.resolved
        else:
            url = request.url or ""
            # Only the build sees the credentials a URL may carry; the record keeps none.
            origin = JobSource(kind="git", name=public_url(url))
            source = check_git_url(url, allowed=self.settings.jobs_allow_git_urls)
        try:
            store = self._open()
            folder.mkdir()
            if upload is not None:
                try:
                    await asyncio.to_thread(save_upload, upload.content, folder / UPLOAD_NAME)
                except InputError:
                    folder.rmdir()
                    raise
        except BaseException:
            if pinned is not None:
                pinned.close()
            raise
        job = Job(id=job_id, source=origin, options=options)
        store.save(job)
        active = _Active(job, EventLog(folder / EVENTS_NAME), pinned=pinned)
        self._running[job.id] = active
        # The pack names an upload by its file name and a path as the client gave it, never
        # by where the worker keeps it.
        name = upload.name if upload is not None else request.path
        active.task = asyncio.create_task(
            self._run(store, active, str(source), name, distributed), name=f"job-{job.id}"
        )
        self._tasks.add(active.task)
        active.task.add_done_callback(self._tasks.discard)
        return job

    def _capped(self, max_cost: Decimal | None) -> Decimal | None:
        """The job's cap within JOBS_MAX_COST: asking for more is refused, none gets it."""
        ceiling = self.settings.jobs_max_cost
        if ceiling is None:
            return max_cost
        if max_cost is None:
            return ceiling
        if max_cost > ceiling:
            raise InputError(
                f"max_cost {max_cost} is above the worker's JOBS_MAX_COST ({ceiling}); ask for "
                "at most that."
            )
        return max_cost

    def _distributed(self) -> Distributed:
        """The worker's distributed setup; ConfigurationError without DOCTOWN_REDIS_URL."""
        from doctown.distributed import Distributed

        return Distributed.from_settings(self.settings)

    async def _run(
        self,
        store: JobStore,
        active: _Active,
        source: str,
        source_name: str | None,
        distributed: Distributed | None = None,
    ) -> None:
        job, log = active.job, active.log
        folder = self._folder(job.id)
        saved_at = 0.0

        def checkpoint() -> None:
            nonlocal saved_at
            if time.monotonic() - saved_at >= CHECKPOINT_SECONDS:
                store.save(job)
                saved_at = time.monotonic()

        progress = Progress(job, checkpoint)
        try:
            async with self._slots:
                job.state, job.started_at = "running", utc_now()
                store.save(job)
                if active.pinned is not None:  # checked again, now that it is read
                    source = active.pinned.open_path(self.settings.jobs_allowed_root_list)
                options = BuildOptions(
                    source=source,
                    source_name=source_name,
                    output=folder / DOCPACK_NAME,
                    ref=job.options.ref,
                    include_private=job.options.include_private,
                    include_tests=job.options.include_tests,
                    docstrings=job.options.docstrings,
                    max_cost=job.options.max_cost,
                    limit=job.options.limit,
                    job_id=job.id,
                    distributed=distributed,
                    overviews=job.options.overviews,
                )
                with Build(options, self._job_engine(), subscribers=[log, progress]) as build:
                    # Analysis is CPU-bound: in a thread, the worker keeps answering meanwhile.
                    plan = await asyncio.to_thread(build.prepare)
                    if active.stop.is_set():
                        raise _CancelledByClient
                    progress.planned(plan)
                    response = await build.generate(plan, stop=active.stop)
                    if response.error is not None and response.error.type == CANCELLED.type:
                        raise _CancelledByClient
                    manifest = await asyncio.to_thread(build.pack, plan, response)
                    # The record is final before the terminal event, so a client that reads
                    # the job on seeing that event finds it finished.
                    job.state = "succeeded" if response.status == "success" else "partial"
                    job.error, job.docpack_id = response.error, manifest.docpack_id
                    job.finished_at = utc_now()
                    build.finish(plan, response, manifest)
                    store.save(job)
        except _CancelledByClient:
            self._end(store, job, log, "cancelled", CANCELLED)
        except asyncio.CancelledError:
            if not active.stop.is_set():  # the worker is stopping
                self._end(store, job, log, "interrupted", INTERRUPTED)
                raise
            self._end(store, job, log, "cancelled", CANCELLED)  # cancelled while queued
        except DoctownError as exc:
            error = JobError(type=exc.code, message=redact(str(exc)))
            self._end(store, job, log, "failed", error)
        except Exception:
            logger.exception("job %s failed", job.id)
            self._end(store, job, log, "failed", INTERNAL_ERROR)
        finally:
            self._running.pop(job.id, None)
            if active.pinned is not None:
                active.pinned.close()
            (folder / UPLOAD_NAME).unlink(missing_ok=True)

    @staticmethod
    def _end(store: JobStore, job: Job, log: EventLog, state: JobState, error: JobError) -> None:
        """Record a job that ended without a pack, then close its events with the reason."""
        job.state, job.error, job.finished_at = state, error, utc_now()
        store.save(job)
        log.finish(job.id, job.state, {"error": error.model_dump()})

    def get(self, job_id: str) -> Job | None:
        """The job as it stands now (live while it runs), or None for an unknown id."""
        if job_id in self._running:
            return self._running[job_id].job
        if self._broken is not None:
            raise self._broken
        return self._store.get(job_id) if self._store else None

    def page(self, *, limit: int, before: str | None = None) -> tuple[list[Job], str | None]:
        """Up to `limit` jobs, newest first, older than the job `before`; and the id to pass
        as `before` for the next page (None on the last one)."""
        if self._broken is not None:
            raise self._broken
        if self._store is None:
            if before is not None:
                raise InputError(f"before: this worker has no job {before!r}")
            return [], None
        found = self._store.page(limit=limit + 1, before=before)
        jobs = [self._running[job.id].job if job.id in self._running else job for job in found]
        more = len(jobs) > limit
        return jobs[:limit], jobs[limit - 1].id if more else None

    async def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued or running job; None for an unknown one.

        A queued job ends `cancelled` at once. A running one sends nothing more and ends
        `cancelled` when its requests in flight are answered (and cached); it is returned
        while it winds down. JobNotActiveError for a job that has already ended.
        """
        active = self._running.get(job_id)
        if active is None:
            job = self.get(job_id)
            if job is None:
                return None
            raise JobNotActiveError(f"Job {job_id} has already ended ({job.state}).")
        active.stop.set()
        if active.job.state == "queued" and active.task is not None:
            active.task.cancel()
            await asyncio.gather(active.task, return_exceptions=True)
        return active.job

    def events(
        self, job_id: str, *, after: int = 0, idle: float = KEEP_ALIVE_SECONDS
    ) -> AsyncIterator[list[LoggedEvent]]:
        """A known job's events above sequence `after`, in batches: live while it runs (an
        empty batch after `idle` seconds of quiet), replayed from its file once it is over."""
        if job_id in self._running:
            return self._running[job_id].log.follow(after=after, idle=idle)
        return _replay(self._folder(job_id) / EVENTS_NAME, after)

    def docpack(self, job: Job) -> Path:
        return self._folder(job.id) / DOCPACK_NAME

    async def close(self) -> None:
        """Stop every unfinished job (recorded as interrupted) and release JOBS_DIR."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._store is not None:
            # A task cancelled before its first step never ran its own clean-up.
            for active in list(self._running.values()):
                self._end(self._store, active.job, active.log, "interrupted", INTERRUPTED)
                if active.pinned is not None:
                    active.pinned.close()
        self._running.clear()
        for resource in (self._cache, self._store, self._lock):
            if resource is not None:
                resource.close()


async def _replay(path: Path, after: int) -> AsyncIterator[list[LoggedEvent]]:
    batch: list[LoggedEvent] = []
    for event in read_log(path, after=after):
        batch.append(event)
        if len(batch) == REPLAY_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch

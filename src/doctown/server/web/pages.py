"""The app's pages: submit a repository (`/`), the library (`/library`), a build
(`/jobs/{id}/watch`).

They are rendered on the server from the job service, the same records `GET /jobs` and
`GET /jobs/{id}` answer with, so the library and a finished build read without JavaScript;
submitting and following a build live are the scripts' work (static/submit.js, watch.js).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from doctown.config import Settings
from doctown.errors import InputError, StateFileError, UnknownJobError
from doctown.server.deps import Credentials, State, may_read
from doctown.server.jobs.records import ACTIVE_STATES, PACKED_STATES, Job
from doctown.server.web.render import KeyRequired, job_or_problem, problem_page, render_page

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

# The stages a build goes through, as its events name them, and what the page calls them.
STAGES = (
    ("queued", "Queued"),
    ("ingest", "Reading files"),
    ("analysis", "Analysing"),
    ("generation", "Writing summaries"),
    ("overviews", "Writing overviews"),
    ("pack", "Packing"),
    ("done", "Done"),
)


def require_page_reader(request: Request, state: State, credentials: Credentials) -> None:
    """Pages open with the key or a view pass; without either, the key page answers."""
    if not may_read(request, state, credentials):
        raise KeyRequired


router = APIRouter(include_in_schema=False, dependencies=[Depends(require_page_reader)])


@dataclass(frozen=True, slots=True)
class Source:
    """A way to name the repository that this worker's settings allow."""

    name: str  # the request member: archive, url or path
    label: str


@dataclass(frozen=True, slots=True)
class SubmitForm:
    """What the submit page offers: only what the worker's settings allow."""

    sources: list[Source]
    git_urls: bool
    roots: list[str]
    max_upload_bytes: int
    max_cost: Decimal | None
    distributed: bool

    @classmethod
    def of(cls, settings: Settings) -> SubmitForm:
        sources = [Source("archive", "Upload an archive")]
        if settings.jobs_allow_git_urls:
            sources.append(Source("url", "Git URL"))
        roots = [str(root) for root in settings.jobs_allowed_root_list]
        if roots:
            sources.append(Source("path", "Folder on this server"))
        return cls(
            sources=sources,
            git_urls=settings.jobs_allow_git_urls,
            roots=roots,
            max_upload_bytes=settings.jobs_max_upload_bytes,
            max_cost=settings.jobs_max_cost,
            distributed=settings.doctown_redis_url is not None,
        )


def stage_of(job: Job) -> str:
    """The stage a job's record shows before its events say more: a guess while it runs."""
    if job.state == "queued":
        return "queued"
    if job.state == "running":
        return "generation" if job.counts.symbols else "analysis"
    return "done"


@router.get("/")
async def submit_page(request: Request, state: State) -> HTMLResponse:
    """The form that starts a build."""
    return render_page(
        request,
        "submit.html.jinja2",
        title="Document a repository",
        kind="submit",
        form=SubmitForm.of(state.settings),
    )


@router.get("/library")
async def library_page(
    request: Request,
    state: State,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    before: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """The builds this worker has run, newest first, `limit` at a time."""
    try:
        if before is not None and state.jobs.get(before) is None:
            # The page's address names a job that is not there: the page does not exist.
            raise UnknownJobError(before)
        jobs, last = state.jobs.page(limit=limit, before=before)
    except InputError as exc:
        return problem_page(request, exc, title="No such page")
    except StateFileError as exc:
        return problem_page(request, exc, title="Library unavailable")
    older = f"/library?limit={limit}&before={last}" if last else None
    return render_page(
        request,
        "library.html.jinja2",
        title="Library",
        kind="library",
        jobs=jobs,
        older=older,
        newest="/library" if before else None,
        packed=PACKED_STATES,
        active=ACTIVE_STATES,
    )


@router.get("/jobs/{job_id}/watch")
async def watch_page(request: Request, state: State, job_id: str) -> HTMLResponse:
    """One build: its progress as it stood when the page was made, followed live by the
    page's script from the job's event stream."""
    job = job_or_problem(request, state, job_id, missing="No such build")
    if not isinstance(job, Job):
        return job
    return render_page(
        request,
        "watch.html.jinja2",
        title=job.source.name,
        kind="watch",
        job=job,
        stages=STAGES,
        stage=stage_of(job),
        packed=job.state in PACKED_STATES,
        active=job.state in ACTIVE_STATES,
    )

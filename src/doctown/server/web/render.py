"""The web app's pages to HTML: the site's Jinja2 environment over the app's own templates.

Every value reaches HTML through Jinja2 with autoescaping on, and every page goes out with
the viewer's headers: a Content-Security-Policy without inline script or style, no
sniffing, no framing. The referrer is kept within the worker: under `no-referrer` a browser
sends `Origin: null` with a form post, which the worker's guard refuses as another site's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader

from doctown import __version__
from doctown.errors import DoctownError, StateFileError, UnknownJobError
from doctown.server.errors import status_of
from doctown.server.jobs.records import Job
from doctown.server.state import WorkerState
from doctown.server.viewpass import PASS_SECONDS
from doctown.site.app import SECURITY_HEADERS
from doctown.site.render import environment

PAGE_HEADERS = {**SECURITY_HEADERS, "referrer-policy": "same-origin"}


class KeyRequired(Exception):
    """WORKER_API_KEY is set and the request brings neither the key nor a view pass: the
    page to answer is the one that asks for the key."""


@dataclass(frozen=True, slots=True)
class Frame:
    """What every page of the app shows around its content."""

    version: str
    backend: str
    model: str
    preview: bool
    key_required: bool

    @classmethod
    def of(cls, state: WorkerState) -> Frame:
        backend = state.engine.backend
        return cls(
            version=__version__,
            backend=backend.name,
            model=backend.model,
            preview=backend.preview,
            key_required=state.settings.worker_api_key is not None,
        )


@cache
def templates() -> Environment:
    """The app's templates, with the site's filters (thousands, dollars, when)."""
    return environment(PackageLoader("doctown.server.web", "templates"))


def render_page(
    request: Request,
    template: str,
    *,
    title: str,
    kind: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """One of the app's pages as a complete HTML response."""
    state: WorkerState = request.app.state.worker
    html = (
        templates()
        .get_template(template)
        .render(title=title, kind=kind, frame=Frame.of(state), **context)
    )
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def key_page(request: Request, *, next_url: str | None = None, problem: str = "") -> HTMLResponse:
    """The page that asks for WORKER_API_KEY (401), then returns to `next_url`: by default
    the page that was asked for."""
    if next_url is None:
        next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render_page(
        request,
        "key.html.jinja2",
        title="The worker's key",
        kind="key",
        status=401,
        headers={"WWW-Authenticate": "Bearer"},
        next_url=next_url,
        key_problem=problem,
        pass_hours=PASS_SECONDS // 3600,
    )


def problem_page(request: Request, error: DoctownError, *, title: str) -> HTMLResponse:
    """A page that says what is wrong (no such job, no pack yet, a pack that fails checks),
    answered with the status the API gives the same error (server/errors.py)."""
    return render_page(
        request,
        "problem.html.jinja2",
        title=title,
        kind="problem",
        status=status_of(error),
        message=str(error),
    )


async def key_required_page(request: Request, exc: Exception) -> HTMLResponse:
    """The exception handler for KeyRequired."""
    return key_page(request)


def job_or_problem(
    request: Request, state: WorkerState, job_id: str, *, missing: str
) -> Job | HTMLResponse:
    """The job `job_id`, or the page that says why it cannot be read (`missing` titles the
    page for a job this worker does not have)."""
    try:
        job = state.jobs.get(job_id)
    except StateFileError as exc:
        return problem_page(request, exc, title="Builds unavailable")
    if job is None:
        return problem_page(request, UnknownJobError(job_id), title=missing)
    return job

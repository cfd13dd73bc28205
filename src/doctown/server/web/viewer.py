"""`/jobs/{id}/view/...`: a finished job's pack, read in the same viewer as `doctown view`.

The site renderer's app is mounted under the job, so every link it draws stays under
`/jobs/{id}/view/`. Opening a pack (verifying it, indexing it for search) costs time in
proportion to its size, so the few packs read last stay open; a pack that fails
verification is refused with the reader's message, never shown.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from pathlib import Path

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from doctown.docpack import read_docpack
from doctown.errors import DocpackError, NoDocpackError
from doctown.server.deps import bearer_scheme, may_read
from doctown.server.jobs.records import PACKED_STATES, Job
from doctown.server.state import WorkerState
from doctown.server.web.render import job_or_problem, key_page, problem_page
from doctown.site import Catalog, Up, create_site_app

# Packs kept open at once. The standard library's pack takes about a gigabyte open; a
# reader moving between a few packs should not wait for each one again.
OPEN_PACKS = 4
LIBRARY = Up(label="Library", url="/library")


def _open_viewer(path: Path) -> ASGIApp:
    catalog = Catalog(read_docpack(path, load_contexts=False))
    catalog.search_index  # noqa: B018 - built now, not on the reader's first keystroke
    # The worker checks Host headers itself (server/guard.py).
    return create_site_app(catalog, allowed_hosts=None, up=LIBRARY)


class PackViewers:
    """An ASGI app for `/jobs/{job_id}/view`: the viewer of that job's pack."""

    def __init__(self, *, keep: int = OPEN_PACKS) -> None:
        self.keep = keep
        self._viewers: OrderedDict[str, asyncio.Task[ASGIApp]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = await self._answer(Request(scope, receive))
        await answer(scope, receive, send)

    async def _answer(self, request: Request) -> ASGIApp:
        """The pack's viewer, or the page that says why there is none to show."""
        state: WorkerState = request.app.state.worker
        if not may_read(request, state, await bearer_scheme(request)):
            return key_page(request)
        job_id = request.path_params["job_id"]
        job = job_or_problem(request, state, job_id, missing="No pack to read")
        if not isinstance(job, Job):
            return job
        if job.state not in PACKED_STATES:
            reason = f" ({job.error.message})" if job.error else "."
            return problem_page(
                request,
                NoDocpackError(f"This build is {job.state}: it has no pack to read{reason}"),
                title="No pack to read",
            )
        try:
            return await self._viewer(job_id, state.jobs.docpack(job))
        except DocpackError as exc:
            return problem_page(request, exc, title="This pack cannot be shown")

    async def _viewer(self, job_id: str, path: Path) -> ASGIApp:
        """The open viewer of the pack at `path`, opening it (once, however many ask)."""
        task = self._viewers.get(job_id)
        if task is None:
            task = asyncio.create_task(asyncio.to_thread(_open_viewer, path))
            self._viewers[job_id] = task
            while len(self._viewers) > self.keep:
                self._viewers.popitem(last=False)
        self._viewers.move_to_end(job_id)
        try:
            return await asyncio.shield(task)
        except Exception:
            # Not kept: the next request reads the file again and says what is wrong then.
            if self._viewers.get(job_id) is task:
                del self._viewers[job_id]
            raise

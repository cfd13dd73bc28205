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
from doctown.errors import DocpackError, StateFileError
from doctown.server.deps import bearer_scheme, may_read
from doctown.server.jobs.models import PACKED_STATES
from doctown.server.state import WorkerState
from doctown.server.web.render import key_page, problem_page
from doctown.site import Catalog, Up, create_site_app

# Packs kept open at once. The standard library's pack takes about a gigabyte open; a
# reader moving between a few packs should not wait for each one again.
OPEN_PACKS = 4
LIBRARY = Up(label="Library", url="/library")


def _open(path: Path) -> ASGIApp:
    catalog = Catalog(read_docpack(path, load_contexts=False))
    catalog.search_index  # noqa: B018 - built now, not on the reader's first keystroke
    # The worker checks Host headers itself (server/guard.py).
    return create_site_app(catalog, allowed_hosts=None, up=LIBRARY)


class PackViewers:
    """An ASGI app for `/jobs/{job_id}/view`: the viewer of that job's pack."""

    def __init__(self, *, keep: int = OPEN_PACKS) -> None:
        self.keep = keep
        self._open: OrderedDict[str, asyncio.Task[ASGIApp]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        state: WorkerState = request.app.state.worker
        if not may_read(request, state, await bearer_scheme(request)):
            await key_page(request)(scope, receive, send)
            return
        job_id = scope["path_params"]["job_id"]
        try:
            job = state.jobs.get(job_id)
        except StateFileError as exc:
            page = problem_page(request, status=503, title="Builds unavailable", message=str(exc))
            await page(scope, receive, send)
            return
        if job is None or job.state not in PACKED_STATES:
            message = (
                f"This worker has no job {job_id!r}."
                if job is None
                else f"This build is {job.state}: it has no pack to read"
                + (f" ({job.error.message})" if job.error else ".")
            )
            page = problem_page(
                request,
                status=404 if job is None else 409,
                title="No pack to read",
                message=message,
            )
            await page(scope, receive, send)
            return
        try:
            viewer = await self._viewer(job_id, state.jobs.docpack(job))
        except DocpackError as exc:
            page = problem_page(
                request, status=500, title="This pack cannot be shown", message=str(exc)
            )
            await page(scope, receive, send)
            return
        await viewer(scope, receive, send)

    async def _viewer(self, job_id: str, path: Path) -> ASGIApp:
        """The open viewer of the pack at `path`, opening it (once, however many ask)."""
        task = self._open.get(job_id)
        if task is None:
            task = asyncio.ensure_future(asyncio.to_thread(_open, path))
            self._open[job_id] = task
            while len(self._open) > self.keep:
                self._open.popitem(last=False)
        self._open.move_to_end(job_id)
        try:
            return await asyncio.shield(task)
        except DocpackError:
            # Not kept: the next request reads the file again and says what is wrong then.
            if self._open.get(job_id) is task:
                del self._open[job_id]
            raise

"""The web app on `doctown serve`: submit a repository, watch it build, read the pack.

pages      `/` (submit), `/library`, `/jobs/{id}/watch`, rendered on the server (pages.py)
session    `POST` and `DELETE /session`: the worker's key for a view pass (session.py)
viewer     `/jobs/{id}/view/...`: a finished job's pack in the site renderer (viewer.py)
render     the templates, the frame every page shares and its security headers (render.py)
static/    app.js (the key), submit.js (the form), watch.js (the live build), app.css

With WORKER_API_KEY set the browser asks for the key once, keeps it in the tab's session
storage and sends it as a bearer header on every request its scripts make, the event
stream included (read with fetch, since EventSource cannot send headers); links and
downloads open with the view pass the key bought (server/viewpass.py).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from doctown.server.web import pages, session
from doctown.server.web.render import KeyRequired, key_required_page
from doctown.server.web.viewer import PackViewers

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Add the web app's pages, the pack viewers and their static files to the worker."""
    app.include_router(pages.router)
    app.include_router(session.router)
    app.add_exception_handler(KeyRequired, key_required_page)
    app.mount("/jobs/{job_id}/view", PackViewers(), name="viewer")
    # The viewer's styles and icon, and the app's own scripts and styles.
    static = StaticFiles(packages=[("doctown.site", "static"), ("doctown.server.web", "static")])
    app.mount("/static", static, name="static")

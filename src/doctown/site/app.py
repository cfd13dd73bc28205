"""The pages of one pack as a read-only web app: what `doctown view` serves.

`create_site_app(catalog)` returns an ASGI app that can run alone or be mounted under a
prefix of a larger one (`Mount("/packs/shop", app=...)`): every link it renders starts with
the prefix it is mounted at. It answers GET and HEAD only, sends a strict
Content-Security-Policy with every response, and refuses Host headers it was not told to
expect, so a web page cannot reach it through DNS rebinding.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from doctown.hosts import LOOPBACK_NAMES, host_name
from doctown.site import pages
from doctown.site.catalog import Catalog
from doctown.site.links import ServerLinks
from doctown.site.render import CONTENT_SECURITY_POLICY, SERVER_ONLY_POLICY, Renderer, Up
from doctown.site.search import MAX_QUERY_CHARS, result_json

SEARCH_API_LIMIT = 50

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY + SERVER_ONLY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


class _Guard:
    """Host check and security headers around the whole app."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] | None) -> None:
        self.app = app
        self.allowed = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.allowed is not None and _host(scope) not in self.allowed:
            response = PlainTextResponse("Unknown Host header.", status_code=400)
            await response(scope, receive, send)
            return

        async def secured(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [
                    (name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()
                ]
            await send(message)

        await self.app(scope, receive, secured)


def _host(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            return host_name(value.decode("latin-1"))
    return ""


def create_site_app(
    catalog: Catalog,
    *,
    allowed_hosts: Iterable[str] | None = LOOPBACK_NAMES,
    up: Up | None = None,
) -> ASGIApp:
    """The viewer of `catalog`'s pack. `allowed_hosts=None` accepts any Host header (for an
    app that checks hosts itself, or one bound to every interface on purpose); `up` adds a
    link out of the pack to every page's header (the app the viewer is mounted in)."""
    renderer = Renderer(catalog, mode="server", up=up)

    def page(request: Request, made: pages.Page | None, what: str = "") -> Response:
        links = ServerLinks(request.scope.get("root_path", ""))
        if made is None:
            missing = pages.NotFoundPage(title=f"Not found · {catalog.name}", message=what)
            return HTMLResponse(renderer.render(missing, links), status_code=404)
        return HTMLResponse(renderer.render(made, links))

    def links_of(request: Request) -> ServerLinks:
        return ServerLinks(request.scope.get("root_path", ""))

    async def overview(request: Request) -> Response:
        return page(request, pages.overview_page(catalog, links_of(request)))

    async def files(request: Request) -> Response:
        return page(request, pages.files_page(catalog))

    async def file(request: Request) -> Response:
        path = request.path_params["path"]
        made = pages.file_page(catalog, path, links_of(request))
        return page(request, made, f"No file {path!r} in this pack.")

    async def symbol(request: Request) -> Response:
        symbol_id = request.path_params["symbol_id"]
        made = pages.symbol_page(catalog, symbol_id, links_of(request))
        return page(request, made, f"No symbol with id {symbol_id!r} in this pack.")

    async def clusters(request: Request) -> Response:
        return page(request, pages.clusters_page(catalog, links_of(request)))

    async def cluster(request: Request) -> Response:
        cluster_id = request.path_params["cluster_id"]
        made = pages.cluster_page(catalog, cluster_id, links_of(request))
        return page(request, made, f"No cluster {cluster_id!r} in this pack.")

    async def search(request: Request) -> Response:
        query = request.query_params.get("q", "")[:MAX_QUERY_CHARS]
        return page(request, pages.search_page(catalog, query))

    async def search_json(request: Request) -> Response:
        started = time.perf_counter()
        query = request.query_params.get("q", "")[:MAX_QUERY_CHARS]
        try:
            limit = min(max(int(request.query_params.get("limit", "10")), 1), SEARCH_API_LIMIT)
        except ValueError:
            return JSONResponse({"message": "limit must be a whole number"}, status_code=422)
        hits = catalog.search_index.search(query, limit=limit, prefix=True)
        links = links_of(request)
        return JSONResponse(
            {
                "query": query,
                "results": [result_json(hit.symbol, links.symbol(hit.symbol.id)) for hit in hits],
                "milliseconds": round((time.perf_counter() - started) * 1000, 2),
            }
        )

    routes = [
        Route("/", overview, methods=["GET", "HEAD"]),
        Route("/files", files, methods=["GET", "HEAD"]),
        Route("/file/{path:path}", file, methods=["GET", "HEAD"]),
        Route("/symbol/{symbol_id:path}", symbol, methods=["GET", "HEAD"]),
        Route("/clusters", clusters, methods=["GET", "HEAD"]),
        Route("/cluster/{cluster_id:path}", cluster, methods=["GET", "HEAD"]),
        Route("/search", search, methods=["GET", "HEAD"]),
        Route("/search.json", search_json, methods=["GET", "HEAD"]),
        Mount("/static", app=StaticFiles(packages=[("doctown.site", "static")]), name="static"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return page(request, None, f"Nothing at {request.url.path}.")

    app = Starlette(routes=routes, exception_handlers={404: not_found})
    return _Guard(app, allowed_hosts)

"""Refusing requests a browser was tricked into sending: other sites, and other host names.

Without WORKER_API_KEY any web page the user visits could post a paid job to the worker
(a form post needs no CORS permission), and a page on a name that resolves to 127.0.0.1
(DNS rebinding) could even read the answers. So:

- `Host` must name the worker: its bound address, `localhost`/`127.0.0.1`/`[::1]` when it
  listens on loopback, any IP address when it listens on all interfaces (a rebinding page
  always uses a name), or a name in ALLOWED_HOSTS. Otherwise 400.
- A request that changes state (POST, PUT, PATCH, DELETE) is refused with 403 when its
  `Origin` is neither the worker's own origin nor listed in CORS_ORIGINS, or when its
  `Sec-Fetch-Site` says it comes from another site. Requests without these headers (curl,
  scripts, other servers) pass, and so does a page served by the worker itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

from doctown.config import Settings
from doctown.errors import ConfigurationError
from doctown.hosts import ALL_INTERFACES, LOOPBACK_NAMES, host_name, is_ip, is_loopback

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})


def check_exposure(settings: Settings) -> None:
    """Refuse to listen beyond loopback with no WORKER_API_KEY: anyone who reaches the worker
    could start paid jobs on the operator's API key."""
    host = host_name(settings.host)
    if is_loopback(host) or settings.worker_api_key is not None or settings.doctown_open_server:
        return
    raise ConfigurationError(
        f"doctown serve would listen on {settings.host or 'every interface'} with no "
        "WORKER_API_KEY: anyone who reaches it could spend your API key. Set WORKER_API_KEY "
        "(clients send it as a Bearer token), listen on 127.0.0.1 (--host 127.0.0.1), or, behind "
        "your own authenticating proxy, set DOCTOWN_OPEN_SERVER=1."
    )


class RequestGuard:
    """ASGI middleware: validate Host on every request, refuse cross-site state changes."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        bound_host: str,
        allowed_hosts: Iterable[str],
        cors_origins: Iterable[str],
    ) -> None:
        self.app = app
        self.bound_host = host_name(bound_host)
        self.any_address = self.bound_host in ALL_INTERFACES
        names = {host_name(name) for name in allowed_hosts}
        if not self.any_address:
            names.add(self.bound_host)
        if self.any_address or is_loopback(self.bound_host):
            names |= LOOPBACK_NAMES
        self.allowed_hosts = frozenset(names)
        self.cors_origins = frozenset(origin.rstrip("/") for origin in cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value for name, value in scope.get("headers") or []}
        host = headers.get("host", b"").decode("latin-1")
        problem = self._host_problem(host)
        status = 400
        if problem is None and scope["method"] in STATE_CHANGING:
            problem, status = self._cross_site_problem(scope, headers, host), 403
        if problem is None:
            await self.app(scope, receive, send)
            return
        await JSONResponse({"detail": problem}, status_code=status)(scope, receive, send)

    def _host_problem(self, host: str) -> str | None:
        if not host:
            return None  # HTTP/1.0 clients; browsers always send Host
        name = host_name(host)
        if name in self.allowed_hosts or (self.any_address and is_ip(name)):
            return None
        listening = "all interfaces" if self.any_address else self.bound_host
        return (
            f"The Host header names {name!r}, which this worker does not answer to (it "
            f"listens on {listening}). If clients reach it under that name, add it to "
            "ALLOWED_HOSTS (comma-separated host names)."
        )

    def _cross_site_problem(self, scope: Scope, headers: dict[str, bytes], host: str) -> str | None:
        origin = headers.get("origin", b"").decode("latin-1").rstrip("/")
        if origin and origin in self.cors_origins:
            return None  # a site the operator trusts explicitly
        fetch_site = headers.get("sec-fetch-site", b"").decode("latin-1").lower()
        if fetch_site and fetch_site not in SAME_SITE_FETCHES:
            return (
                f"Refused a {scope['method']} sent from another site (Sec-Fetch-Site: "
                f"{fetch_site}): only pages served by this worker, or origins listed in "
                "CORS_ORIGINS, may change its state."
            )
        own = f"{scope.get('scheme', 'http')}://{host}".lower()
        if origin and origin.lower() != own:
            return (
                f"Refused a {scope['method']} from the page at Origin {origin[:200]!r}: it is "
                "not this worker's own origin; add it to CORS_ORIGINS if that site may use "
                "the worker."
            )
        return None

"""The HTTP transport of the OpenAI-compatible backends: aiohttp, one session per event loop.

Requests go out as prebuilt bytes and answers come back as bytes; nothing here knows what they
mean. Measured against the official client, this path costs about a tenth of the CPU per
request (docs/performance.md), which is what lets one process keep hundreds of requests in
flight. Transport failures surface as aiohttp's own exceptions and `TimeoutError`; callers
translate them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from doctown import __version__

USER_AGENT = f"doctown/{__version__}"
# Connections beyond the request bound, for health checks and Batch API calls alongside.
SPARE_CONNECTIONS = 4


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class HTTPSession:
    """Keeps one aiohttp session (and its pool of kept-alive connections) per event loop.

    A session belongs to the loop it was created in, and `asyncio.run` makes a new loop each
    time, so the session is created on first use inside the running loop.
    """

    def __init__(
        self, *, max_connections: int, timeout: float, headers: Mapping[str, str] | None = None
    ) -> None:
        self.max_connections = max_connections + SPARE_CONNECTIONS
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.max_connections, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self.headers,
                timeout=self.timeout,
                # Answers are read as bytes and parsed once, by pydantic-core.
                raise_for_status=False,
            )
            self._loop = loop
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | aiohttp.FormData | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """Send one request and read the whole answer.

        Raises `aiohttp.ClientError` (connection refused, reset, bad response) or
        `TimeoutError` (the answer took longer than the session's timeout).
        """
        async with self._current().request(method, url, data=body, headers=headers) as response:
            return RawResponse(response.status, response.headers, await response.read())

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()

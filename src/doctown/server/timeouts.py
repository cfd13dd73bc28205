"""Time limits on receiving a request, so a slow or silent client cannot hold a connection.

uvicorn bounds the wait between two requests, but not the request itself: a client that
sends its headers one byte a minute, or promises a body and never sends it (a slow loris),
keeps its connection and its task forever. Two limits close that:

- the request head (request line and headers) must arrive within REQUEST_HEAD_TIMEOUT of
  the connection opening or of the previous response ending (`head_timeout_protocol`);
- while a body is being received, no more than REQUEST_BODY_TIMEOUT may pass between two
  pieces of it (`BodyTimeout`). Silence after the body (a client following an event
  stream) is not limited.

Both answer 408 and close the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HEAD_TIMEOUT_BODY = b"The request headers did not arrive in time (REQUEST_HEAD_TIMEOUT).\n"
HEAD_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: "
    + str(len(_HEAD_TIMEOUT_BODY)).encode()
    + b"\r\n\r\n"
    + _HEAD_TIMEOUT_BODY
)


def head_timeout_protocol(seconds: float) -> type[asyncio.Protocol]:
    """The HTTP protocol class for uvicorn's `http` option, with this head deadline.

    A subclass of uvicorn's httptools protocol (uvicorn[standard] installs httptools),
    imported here so that building the app does not depend on it.
    """
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeadTimeoutProtocol(HttpToolsProtocol):
        """uvicorn's HTTP protocol with a deadline on each request head."""

        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_head_timer()

        def on_headers_complete(self) -> None:
            self._cancel_head_timer()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            idle = self.cycle is None or self.cycle.response_complete  # nothing pipelined
            if idle and not self.transport.is_closing():
                self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

        def _arm_head_timer(self) -> None:
            self._cancel_head_timer()
            self._head_timer = self.loop.call_later(seconds, self._head_timed_out)

        def _cancel_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.write(HEAD_TIMEOUT_RESPONSE)
                self.transport.close()

    return HeadTimeoutProtocol


class BodyTimeout:
    """ASGI middleware: 408 when a request body stalls for longer than `seconds`."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        receiving = True

        async def timed_receive() -> Message:
            nonlocal receiving
            if not receiving:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.seconds)
            except TimeoutError:
                raise HTTPException(
                    status_code=408,
                    detail=f"The request body stalled for {self.seconds:g} s "
                    "(REQUEST_BODY_TIMEOUT); send it again.",
                    headers={"Connection": "close"},
                ) from None
            receiving = message["type"] == "http.request" and message.get("more_body", False)
            return message

        await self.app(scope, timed_receive, send)

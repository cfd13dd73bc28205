"""The worker as an HTTP service: GET /health, POST /generate, POST /estimate, /jobs, and the
web app at / (server/web)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from doctown import __version__
from doctown.config import Settings, load_service_settings
from doctown.events import JsonLinesWriter
from doctown.generation import GenerationEngine, build_engine
from doctown.redaction import add_secret, redact_logs
from doctown.server.errors import install as install_error_answers
from doctown.server.guard import RequestGuard
from doctown.server.jobs.service import JobService
from doctown.server.routes import docs, estimate, generate, health, jobs
from doctown.server.state import WorkerState
from doctown.server.timeouts import BodyTimeout
from doctown.server.web import install as install_web_app

logger = logging.getLogger("doctown.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


@dataclass(frozen=True)
class BodyLimit:
    """A body size limit, the setting that raises it, and what to do instead."""

    bytes: int
    setting: str
    advice: str


class BodyTooLarge(HTTPException):
    """Raised while a body is read, so FastAPI answers 413 instead of a parse error."""

    def __init__(self, limit: BodyLimit) -> None:
        super().__init__(
            status_code=413,
            detail=f"The request body exceeds {limit.setting} ({limit.bytes} bytes); "
            f"{limit.advice}.",
        )


class BodySizeLimit:
    """Refuse request bodies over their limit with 413, whether declared or streamed.

    `paths` gives some paths a limit of their own (archive uploads); `limit` holds elsewhere.
    """

    def __init__(
        self, app: ASGIApp, *, limit: BodyLimit, paths: Mapping[str, BodyLimit] | None = None
    ) -> None:
        self.app = app
        self.default = limit
        self.paths = dict(paths or {})

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope["path"], self.default)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit.bytes:
            error = BodyTooLarge(limit)
            response = JSONResponse({"detail": error.detail}, status_code=error.status_code)
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit.bytes:
                raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    message = "; ".join(f"{_field(e['loc'])}: {e['msg']}" for e in errors)
    return JSONResponse(
        {"detail": errors, "message": f"Invalid request: {message}"}, status_code=422
    )


def create_app(
    settings: Settings | None = None, *, engine: GenerationEngine | None = None
) -> FastAPI:
    """Build the worker. Configuration errors surface here, before the first request."""
    settings = settings or load_service_settings()
    redact_logs()
    for secret in (settings.openai_api_key, settings.worker_api_key):
        add_secret(secret.get_secret_value() if secret else None)
    engine = engine or build_engine(settings)
    state = WorkerState(settings=settings, engine=engine, jobs=JobService(settings, engine))
    writer = JsonLinesWriter(settings.events_file) if settings.events_file else None
    if writer:
        state.subscribers.append(writer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger.info(
            "doctown worker %s: backend=%s model=%s concurrency=%d",
            __version__,
            engine.backend.name,
            engine.backend.model,
            engine.max_concurrency,
        )
        for warning in engine.standing_warnings:
            logger.warning(warning)
        await state.jobs.start()
        yield
        await state.jobs.close()
        if writer:
            writer.close()
        await engine.backend.aclose()

    # The schema and its pages are served by `routes/docs.py`, behind the bearer token.
    app = FastAPI(
        title="doctown generation worker",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.worker = state
    app.add_exception_handler(RequestValidationError, _validation_error)
    install_error_answers(app)
    app.include_router(docs.router)
    app.include_router(health.router)
    app.include_router(generate.router)
    app.include_router(estimate.router)
    app.include_router(jobs.router)
    app.include_router(jobs.downloads)
    install_web_app(app)
    origins = settings.cors_origin_list
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        )
    app.add_middleware(
        BodySizeLimit,
        limit=BodyLimit(settings.max_request_bytes, "MAX_REQUEST_BYTES", "split the batch"),
        paths={
            "/jobs": BodyLimit(
                settings.jobs_max_upload_bytes,
                "JOBS_MAX_UPLOAD_BYTES",
                "build from a server-side path instead (JOBS_ALLOWED_ROOTS), or raise the limit",
            )
        },
    )
    app.add_middleware(BodyTimeout, seconds=settings.request_body_timeout)
    # Outermost: a request from another site or for another host name goes no further.
    app.add_middleware(
        RequestGuard,
        bound_host=settings.host,
        allowed_hosts=settings.allowed_host_list,
        cors_origins=origins,
    )
    return app

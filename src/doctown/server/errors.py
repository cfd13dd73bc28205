"""Doctown errors as HTTP answers: one table of statuses, one handler, registered once.

Routes and the job service raise doctown errors and never translate them; the worker answers
each with the status of its class's nearest entry below, and the JSON body every
`HTTPException` has, `{"detail": message}`. The web app's problem pages take their status
from the same table (`status_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from doctown.errors import (
    BatchTooLargeError,
    BudgetExhaustedError,
    ConfigurationError,
    DocpackError,
    DoctownError,
    InputError,
    InsufficientQuotaError,
    JobAbortedError,
    JobNotActiveError,
    NoDocpackError,
    SourceNotAllowedError,
    UnknownJobError,
    UnsupportedMediaTypeError,
    WorkerBusyError,
)
from doctown.redaction import redact

__all__ = ["BUSY_RETRY_AFTER_SECONDS", "STATUSES", "abort_status", "install", "status_of"]

BUSY_RETRY_AFTER_SECONDS = 30
T = TypeVar("T")

# error class -> HTTP status; a class not listed takes its nearest listed ancestor's.
STATUSES: dict[type[DoctownError], int] = {
    DoctownError: 500,
    # The worker cannot work as configured (a store it depends on is unusable, ...).
    ConfigurationError: 503,
    InputError: 422,
    SourceNotAllowedError: 403,
    BatchTooLargeError: 413,
    UnknownJobError: 404,
    JobNotActiveError: 409,
    NoDocpackError: 409,
    UnsupportedMediaTypeError: 415,
    # The worker reads only packs it wrote: one that fails its checks is the worker's fault
    # (or its disk's), never the client's.
    DocpackError: 500,
    WorkerBusyError: 429,
    JobAbortedError: 503,
    InsufficientQuotaError: 402,
    BudgetExhaustedError: 402,
}

# Headers that go with an error's answer, by class (looked up like the statuses).
HEADERS: dict[type[DoctownError], dict[str, str]] = {
    WorkerBusyError: {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
}


def _nearest(table: Mapping[type[DoctownError], T], error: type[DoctownError]) -> T | None:
    for cls in error.__mro__:
        if issubclass(cls, DoctownError) and cls in table:
            return table[cls]
    return None


def status_of(error: DoctownError | type[DoctownError]) -> int:
    """The HTTP status the worker answers `error` (an instance or a class) with."""
    cls = error if isinstance(error, type) else type(error)
    status = _nearest(STATUSES, cls)
    assert status is not None  # DoctownError itself is in the table
    return status


def abort_status(reason: str) -> int:
    """The status of the job-stopping error whose `reason` a response's error names."""
    pending: list[type[JobAbortedError]] = [JobAbortedError]
    while pending:
        cls = pending.pop()
        if cls.reason == reason:
            return status_of(cls)
        pending.extend(cls.__subclasses__())
    return status_of(JobAbortedError)


async def _doctown_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DoctownError)
    return JSONResponse(
        {"detail": redact(str(exc))},
        status_code=status_of(exc),
        headers=_nearest(HEADERS, type(exc)),
    )


def install(app: FastAPI) -> None:
    """Answer every doctown error a route raises from the table above."""
    app.add_exception_handler(DoctownError, _doctown_error)

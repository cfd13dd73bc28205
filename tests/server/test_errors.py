"""One code per error class, and one table of HTTP statuses for all of them."""

from __future__ import annotations

import doctown.server.app  # noqa: F401 - every module that defines an error is loaded
from doctown.errors import (
    DocpackTamperedError,
    DoctownError,
    InputError,
    InsufficientQuotaError,
    JobCancelledError,
    StateFileError,
    UnknownJobError,
    WorkerBusyError,
)
from doctown.server.errors import STATUSES, abort_status, status_of


def every_error_class() -> list[type[DoctownError]]:
    found: list[type[DoctownError]] = []
    pending: list[type[DoctownError]] = [DoctownError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_error_class_has_its_own_code_and_a_status_from_the_one_table() -> None:
    classes = every_error_class()
    assert len(classes) > 25
    for cls in classes:
        # Declared on the class itself: a subclass never answers with its parent's code.
        assert isinstance(cls.__dict__.get("code"), str), cls
        assert 400 <= status_of(cls) < 600, cls
    codes = [cls.code for cls in classes]
    assert len(set(codes)) == len(codes)
    assert set(STATUSES) <= set(classes)


def test_a_class_answers_with_its_nearest_listed_ancestor() -> None:
    assert status_of(InputError("x")) == 422
    assert status_of(UnknownJobError("x")) == 404
    assert status_of(StateFileError) == 503  # a ConfigurationError: the worker is unusable
    assert status_of(WorkerBusyError) == 429
    assert status_of(DocpackTamperedError) == 500  # the worker reads only packs it wrote
    assert status_of(DoctownError) == 500


def test_a_stopped_generation_answers_with_its_errors_status() -> None:
    assert abort_status(InsufficientQuotaError.reason) == 402
    assert abort_status(JobCancelledError.reason) == 503
    assert abort_status("something new") == 503

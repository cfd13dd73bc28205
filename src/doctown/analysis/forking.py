"""Two computations at once on two cores: one here, one in a forked copy of this process.

The copy shares everything computed so far copy-on-write, so nothing is sent to it; it
sends its result back through a pipe with marshal, which carries plain values only.
"""

from __future__ import annotations

import marshal
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

Mine = TypeVar("Mine")
Theirs = TypeVar("Theirs")


def can_fork() -> bool:
    """Forking is safe only while no other thread might hold a lock the child inherits."""
    return os.name == "posix" and threading.active_count() == 1


def in_forked_child(child: Callable[[], Theirs], parent: Callable[[], Mine]) -> tuple[Mine, Theirs]:
    """`parent()` here while a forked copy of this process computes `child()`; both results.

    `child()` must return plain values (tuples come back as tuples, lists as lists). Should
    the copy fail, `child()` runs here afterwards, so the result is the same either way.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child process, measured through its output
        os.close(read_end)
        status = 1
        try:
            with os.fdopen(write_end, "wb") as stream:
                stream.write(marshal.dumps(cast(Any, child())))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    mine = parent()
    with os.fdopen(read_end, "rb") as stream:
        data = stream.read()
    _pid, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return mine, child()
    return mine, cast(Theirs, marshal.loads(data))  # noqa: S302 - our own child's plain values

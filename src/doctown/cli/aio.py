"""Running a command's coroutine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on uvloop when it is installed (as `doctown serve` runs under
    uvicorn), without formatting the result on the way out.

    Python 3.11's runner builds the repr of its main task, result included, while restoring
    the SIGINT handler; for a build of 10,000 symbols that alone took about half a second.
    """
    results: list[T] = []

    async def keep() -> None:
        results.append(await main)

    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(keep())
    return results[0]


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory

"""Options that several commands share, defined once so they read and behave the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

events_option = click.option(
    "--events",
    "events_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Append the job's v1 events as JSON lines.",
)

concurrency_option = click.option(
    "--concurrency", type=int, default=None, help="Requests in flight (MAX_CONCURRENT_REQUESTS)."
)


def json_option(help: str) -> Callable[[F], F]:
    """`--json` (the `as_json` flag): print the command's result as JSON on stdout; `help`
    says what is printed."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def quiet_option(help: str = "No progress display.") -> Callable[[F], F]:
    """`--quiet`: no progress display; `help` says what the command leaves out."""
    return click.option("--quiet", is_flag=True, help=help)

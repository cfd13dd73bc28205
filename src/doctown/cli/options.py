"""Options that several commands share, defined once so they read and behave the same."""

from __future__ import annotations

from pathlib import Path

import click

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

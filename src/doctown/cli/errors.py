"""Turning doctown errors into click errors with exit codes.

The command group (cli/__init__.py) applies `translated_errors` around every command, so
command modules raise doctown errors and never translate them themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click

from doctown.errors import DoctownError
from doctown.redaction import redact

EXIT_FAILED_SYMBOLS = 3
EXIT_ABORTED = 4
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


@contextmanager
def translated_errors() -> Iterator[None]:
    """Show doctown errors as one line and exit 1 (re-raised under DOCTOWN_DEBUG=1)."""
    try:
        yield
    except DoctownError as exc:
        if os.environ.get("DOCTOWN_DEBUG"):
            raise
        raise click.ClickException(redact(str(exc))) from None

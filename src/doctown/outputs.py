"""Files written for the user (a pack, a results file): checked before anything is spent.

A path that cannot be written is found while it costs nothing, instead of after every
request has been paid for.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from doctown.errors import InputError


def check_writable(path: Path, *, what: str) -> None:
    """Raise InputError, naming `what` and `path`, when a file cannot be written there."""
    if path.is_dir():
        raise InputError(f"Cannot write {what} to {path}: it is a folder; give a file name.")
    folder = path.absolute().parent
    if not folder.is_dir():
        raise InputError(
            f"Cannot write {what} to {path}: the folder {folder} does not exist; create it "
            "or choose another path."
        )
    try:
        # Files are written beside their destination and renamed into place: try exactly that.
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctown-check-"):
            pass
    except OSError as exc:
        raise InputError(
            f"Cannot write {what} to {path}: {exc.strerror or exc}; choose a folder you can "
            "write to."
        ) from None

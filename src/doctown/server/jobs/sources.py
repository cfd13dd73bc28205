"""What a job may build from: an uploaded archive, an allowed server-side path, a git URL.

Each check runs when the job is submitted, so a refused source is answered at once instead
of becoming a failed job.
"""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from doctown.errors import InputError, SourceNotAllowedError

# file:// is left out: it would read the worker's own disk around JOBS_ALLOWED_ROOTS.
GIT_URL_PREFIXES = ("https://", "http://", "ssh://", "git://", "git@")


def check_path(path: str, roots: Sequence[Path]) -> Path:
    """`path` with its links resolved, when it lies under one of `roots` (JOBS_ALLOWED_ROOTS)."""
    if not roots:
        raise SourceNotAllowedError(
            "Building from a server-side path is off: set JOBS_ALLOWED_ROOTS to the folders "
            "jobs may read (comma-separated absolute paths), or upload an archive instead."
        )
    given = Path(path).expanduser()
    if not given.is_absolute():
        raise InputError(f"path must be absolute; got {path!r}")
    # Resolved before the check, so a link inside an allowed folder cannot lead out of it.
    try:
        resolved = given.resolve()
    except (OSError, ValueError, RuntimeError) as exc:
        raise InputError(f"path cannot be resolved ({exc}); send an existing folder") from None
    if not any(resolved.is_relative_to(root) for root in roots):
        raise SourceNotAllowedError(
            f"{path} is outside the folders JOBS_ALLOWED_ROOTS allows; move the repository "
            "under one of them, add its folder to JOBS_ALLOWED_ROOTS, or upload an archive."
        )
    if not resolved.exists():
        raise InputError(f"{path}: no such folder or archive")
    return resolved


def check_git_url(url: str, *, allowed: bool) -> str:
    """`url` when git URLs are allowed (JOBS_ALLOW_GIT_URLS) and it names a remote repository."""
    if not allowed:
        raise SourceNotAllowedError(
            "Building from a git URL is off: set JOBS_ALLOW_GIT_URLS=true to let the worker "
            "clone (it will fetch any URL it is given), or upload an archive instead."
        )
    if not url.startswith(GIT_URL_PREFIXES):
        raise InputError(
            f"url must be a remote git repository (https://, http://, ssh://, git:// or "
            f"git@host:path); got {url!r}. For a folder on the worker, send path instead."
        )
    return url


def save_upload(stream: BinaryIO, destination: Path) -> None:
    """Copy an uploaded archive to `destination`, refusing anything but a zip or a tar."""
    with destination.open("wb") as sink:
        shutil.copyfileobj(stream, sink, 1 << 20)
    if not (zipfile.is_zipfile(destination) or tarfile.is_tarfile(destination)):
        destination.unlink()
        raise InputError(
            "The upload is neither a .zip nor a .tar.gz archive; send the repository packed "
            "as one of them in the multipart field 'archive'."
        )

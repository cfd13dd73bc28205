"""What a job may build from: an uploaded archive, an allowed server-side path, a git URL.

Each check runs when the job is submitted, so a refused source is answered at once instead
of becoming a failed job. A path is resolved once and the folder (or archive) it names is
held open until the job builds (`PinnedSource`), so swapping it for a link in the meantime
cannot make the job read anything else; at build time it is checked again.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
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


def _outside(path: Path, roots: Sequence[Path]) -> bool:
    return not any(path.is_relative_to(root) for root in roots)


def _opened_path(descriptor: int) -> Path | None:
    """Where the file open at `descriptor` is now; None without /proc."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{descriptor}"))
    except OSError:
        return None


@dataclass
class PinnedSource:
    """A path job's folder or archive, held open from submission until it is built."""

    given: str
    resolved: Path
    descriptor: int

    def open_path(self, roots: Sequence[Path]) -> str:
        """The path the build reads: the very file checked at submission, checked again.

        With /proc it names the open file itself, whatever happened to the path since;
        without, the path must still lead to that same file.
        """
        current = _opened_path(self.descriptor)
        if current is not None:
            if _outside(current, roots):
                raise SourceNotAllowedError(
                    f"{self.given} was moved out of JOBS_ALLOWED_ROOTS (to {current}) after the "
                    "job was submitted; it was not built."
                )
            return f"/proc/self/fd/{self.descriptor}"
        pinned, now = os.fstat(self.descriptor), os.stat(self.resolved)
        if (pinned.st_dev, pinned.st_ino) != (now.st_dev, now.st_ino):
            raise SourceNotAllowedError(
                f"{self.given} was replaced after the job was submitted; it was not built."
            )
        return str(self.resolved)

    def close(self) -> None:
        os.close(self.descriptor)


def pin_path(path: str, roots: Sequence[Path]) -> PinnedSource:
    """`check_path`, then the folder or archive held open, its real place checked again."""
    resolved = check_path(path, roots)
    try:
        descriptor = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise InputError(f"{path}: cannot be opened ({exc.strerror})") from None
    pinned = PinnedSource(path, resolved, descriptor)
    mode = os.fstat(descriptor).st_mode
    opened = _opened_path(descriptor)
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)) or (opened and _outside(opened, roots)):
        # A link swapped in between the check and the open, or something not a file at all.
        pinned.close()
        raise SourceNotAllowedError(
            f"{path} changed while it was being checked, or is not a folder or an archive."
        )
    return pinned


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

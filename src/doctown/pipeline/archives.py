"""Unpacking a .zip or .tar archive someone else made, with every member checked.

Member names may not climb out (`..`, absolute paths, drive letters); links, devices and
folders are skipped (folders are implied by the files in them). What is written is counted
while it is written, against three bounds for the archive as a whole: the bytes it expands
to, the files it holds, and its expansion ratio (expanded bytes over archive bytes), so
neither a lying zip directory nor a tar.gz of zeros can fill the disk.
"""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from doctown.errors import InputError

MAX_ARCHIVE_BYTES = 2 * 2**30
MAX_ARCHIVE_MEMBERS = 200_000
# Source code compresses 4-10:1; a ratio far above that is a bomb. Small archives may expand
# up to RATIO_FREE_BYTES whatever their ratio (a few kilobytes of zeros hurt no one).
MAX_COMPRESSION_RATIO = 200
RATIO_FREE_BYTES = 64 * 2**20
CHUNK_BYTES = 1 << 20


class _Budget:
    """Bytes and files written so far for one archive, checked as they grow."""

    def __init__(self, archive_bytes: int) -> None:
        ratio_limit = max(RATIO_FREE_BYTES, archive_bytes * MAX_COMPRESSION_RATIO)
        self.limit = min(MAX_ARCHIVE_BYTES, ratio_limit)
        self.bytes = 0
        self.files = 0

    def add_file(self) -> None:
        self.files += 1
        if self.files > MAX_ARCHIVE_MEMBERS:
            raise InputError(
                f"the archive holds more than {MAX_ARCHIVE_MEMBERS} files; unpack it yourself "
                "and build from the folder"
            )

    def add_bytes(self, count: int) -> None:
        self.bytes += count
        self.check(self.bytes)

    def check(self, expanded: int) -> None:
        """Refuse an archive that expands to `expanded` bytes."""
        if expanded <= self.limit:
            return
        if self.limit == MAX_ARCHIVE_BYTES:
            raise InputError(
                f"the archive unpacks to more than {MAX_ARCHIVE_BYTES // 2**30} GiB; unpack it "
                "yourself and build from the folder"
            )
        raise InputError(
            f"the archive expands more than {MAX_COMPRESSION_RATIO}:1 (past "
            f"{self.limit // 2**20} MiB), which source code never does: refusing a likely "
            "archive bomb"
        )


def _member_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    parts = path.parts
    if (
        path.is_absolute()
        or ".." in parts
        or name.startswith(("/", "\\"))
        or (parts and ":" in parts[0])
        or "\0" in name
    ):
        raise InputError(f"the archive has an unsafe member name {name!r}; refusing to unpack it")
    return path


def _copy(source: IO[bytes], destination: Path, budget: _Budget, declared: int, name: str) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with destination.open("wb") as sink:
        while chunk := source.read(CHUNK_BYTES):
            written += len(chunk)
            if written > declared:
                raise InputError(f"the archive member {name!r} is larger than it says")
            budget.add_bytes(len(chunk))
            sink.write(chunk)


def _unpack_zip(archive: Path, target: Path, budget: _Budget) -> None:
    with zipfile.ZipFile(archive) as bundle:
        members = bundle.infolist()
        # The directory's claims are checked first, so an honest bomb costs no disk at all;
        # the copy below counts what really comes out, for a directory that lies.
        budget.check(sum(info.file_size for info in members))
        for info in members:
            path = _member_path(info.filename)
            mode = (info.external_attr >> 16) & 0o170000
            if info.is_dir() or mode == 0o120000:  # folders are implied; links are skipped
                continue
            budget.add_file()
            with bundle.open(info) as source:
                _copy(source, target.joinpath(*path.parts), budget, info.file_size, info.filename)


def _unpack_tar(archive: Path, target: Path, budget: _Budget) -> None:
    with tarfile.open(archive) as bundle:
        for member in bundle:  # streamed: headers are read as the data goes by
            path = _member_path(member.name)
            if not member.isfile():  # folders are implied; links and devices are skipped
                continue
            budget.add_file()
            source = bundle.extractfile(member)
            if source is None:
                continue
            with source:
                _copy(source, target.joinpath(*path.parts), budget, member.size, member.name)


def unpack_archive(archive: Path, target: Path) -> None:
    """Unpack a .zip or .tar(.gz/.bz2/.xz) `archive` into the empty folder `target`."""
    budget = _Budget(archive.stat().st_size)
    try:
        if zipfile.is_zipfile(archive):
            _unpack_zip(archive, target, budget)
        elif tarfile.is_tarfile(archive):
            _unpack_tar(archive, target, budget)
        else:
            raise InputError(f"{archive.name} is neither a zip nor a tar archive")
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(f"{archive.name}: cannot unpack ({exc})") from None

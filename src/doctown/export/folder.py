"""Writing an export: a whole folder appears at once, or not at all.

Pages are written into a new folder beside the destination, which then replaces it. A folder
is only ever replaced when it is empty or holds a previous doctown export (it has the marker
file), so `-o` pointed at the wrong place cannot delete someone's files.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from doctown.errors import InputError

MARKER = ".doctown-export"


class ExportFolder:
    """Where an export's files go; paths are relative to the export's root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = 0
        self.bytes = 0
        self.processes = 1  # how many processes wrote it
        self._made: set[Path] = {root}

    def write(self, relative: str, data: bytes | str) -> None:
        """Write one file, creating its folders."""
        content = data.encode() if isinstance(data, str) else data
        path = self.root / relative
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        path.write_bytes(content)
        self.files += 1
        self.bytes += len(content)


def _check_destination(destination: Path) -> None:
    if destination.is_symlink() or (destination.exists() and not destination.is_dir()):
        raise InputError(f"{destination}: exists and is not a folder; pass a folder to write to.")
    previous_export = (destination / MARKER).is_file()
    if destination.is_dir() and any(destination.iterdir()) and not previous_export:
        raise InputError(
            f"{destination}: the folder is not empty and holds no previous doctown export; "
            "pass an empty or new folder (an earlier export there is replaced)."
        )


@contextmanager
def export_folder(destination: Path, kind: str) -> Iterator[ExportFolder]:
    """Collect an export in a fresh folder, then put it at `destination` in one step."""
    _check_destination(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        folder = ExportFolder(partial)
        folder.write(MARKER, f"doctown export {kind}\n")
        yield folder
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if destination.exists():
        previous = destination.with_name(f".{destination.name}.{os.getpid()}.previous")
        destination.rename(previous)
        partial.rename(destination)
        shutil.rmtree(previous, ignore_errors=True)
    else:
        partial.rename(destination)
    folder.root = destination

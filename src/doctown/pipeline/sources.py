"""Turning what the user points at (a folder, an archive, a git URL) into a local source tree.

Archives and repositories are untrusted: archives are unpacked with every member checked
(no absolute paths, no `..`, no links, bounded size and count), and git runs with hooks and
filesystem monitors switched off, with no prompt for credentials.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from doctown.errors import InputError

MAX_ARCHIVE_BYTES = 2 * 2**30
MAX_ARCHIVE_MEMBERS = 200_000
MAX_COMPRESSION_RATIO = 200
GIT_TIMEOUT = 600
_GIT_URL_PREFIXES = ("http://", "https://", "ssh://", "git://", "file://", "git@")
# Settings that keep git from running anything a repository's own configuration names.
_SAFE_GIT = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "protocol.ext.allow=never",
)


@dataclass(frozen=True)
class SourceTree:
    """A local tree to analyse, and where it came from."""

    root: Path
    path: str | None = None
    repo_url: str | None = None
    ref: str | None = None
    commit: str | None = None
    commit_time: datetime | None = None


def is_git_url(source: str) -> bool:
    return source.startswith(_GIT_URL_PREFIXES) or (
        source.endswith(".git") and not Path(source).is_file()
    )


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            ["git", *_SAFE_GIT, *args],  # noqa: S607 - the system git, by design
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise InputError(
            "git is not installed; install it to build from a repository URL"
        ) from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} took longer than {GIT_TIMEOUT} s") from None
    if done.returncode != 0:
        raise InputError(f"git {args[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def _commit_of(root: Path) -> tuple[str | None, datetime | None]:
    """HEAD's hash and commit time when `root` is the top of a git work tree."""
    if not (root / ".git").exists():
        return None, None
    try:
        out = _git("log", "-1", "--format=%H%n%cI", cwd=root)
    except InputError:
        return None, None
    commit, _, when = out.partition("\n")
    return commit or None, datetime.fromisoformat(when) if when else None


def clone(url: str, ref: str | None, destination: Path) -> SourceTree:
    """A shallow clone of `url` at `ref` (a branch, a tag, or a commit hash)."""
    target = destination / "repo"
    try:
        _git(
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--no-tags",
            *(["--branch", ref] if ref else []),
            "--",
            url,
            str(target),
        )
    except InputError:
        if not ref:
            raise
        # A commit hash cannot be cloned by name: fetch the history and check it out.
        shutil.rmtree(target, ignore_errors=True)
        _git("clone", "--quiet", "--no-checkout", "--", url, str(target))
        _git("checkout", "--quiet", "--detach", ref, cwd=target)
    commit, when = _commit_of(target)
    return SourceTree(root=target, repo_url=url, ref=ref, commit=commit, commit_time=when)


def export_ref(folder: Path, ref: str, destination: Path) -> SourceTree:
    """The files of `ref` in the git checkout at `folder` (only that folder's part of the
    repository), exported with `git archive`: the checkout itself is not touched."""
    try:
        commit = _git("rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}", cwd=folder)
        when = _git("log", "-1", "--format=%cI", commit, cwd=folder)
        archive = destination / "ref.tar"
        _git("archive", "--format=tar", f"--output={archive}", commit, cwd=folder)
    except InputError as exc:
        raise InputError(
            f"--ref applies to git URLs and git checkouts: cannot read {ref!r} in {folder} ({exc})"
        ) from None
    target = destination / "source"
    target.mkdir(parents=True)
    try:
        _unpack_tar(archive, target)
    finally:
        archive.unlink(missing_ok=True)
    return SourceTree(
        root=target,
        path=str(folder),
        ref=ref,
        commit=commit,
        commit_time=datetime.fromisoformat(when) if when else None,
    )


def _check_member(name: str, size: int, compressed: int | None, totals: list[int]) -> PurePosixPath:
    path = PurePosixPath(name)
    parts = path.parts
    if (
        path.is_absolute()
        or ".." in parts
        or name.startswith(("/", "\\"))
        or (parts and ":" in parts[0])
    ):
        raise InputError(f"the archive has an unsafe member name {name!r}; refusing to unpack it")
    totals[0] += size
    totals[1] += 1
    if totals[0] > MAX_ARCHIVE_BYTES or totals[1] > MAX_ARCHIVE_MEMBERS:
        raise InputError(
            f"the archive unpacks to more than {MAX_ARCHIVE_BYTES // 2**30} GiB or "
            f"{MAX_ARCHIVE_MEMBERS} files; unpack it yourself and build from the folder"
        )
    if compressed is not None and size > 2**20 and size > compressed * MAX_COMPRESSION_RATIO:
        raise InputError(
            f"the archive member {name!r} is compressed more than {MAX_COMPRESSION_RATIO}:1"
        )
    return path


def _unpack_zip(archive: Path, target: Path) -> None:
    totals = [0, 0]
    with zipfile.ZipFile(archive) as bundle:
        for info in bundle.infolist():
            path = _check_member(info.filename, info.file_size, info.compress_size, totals)
            mode = (info.external_attr >> 16) & 0o170000
            if info.is_dir() or mode == 0o120000:  # folders are implied; links are skipped
                continue
            destination = target.joinpath(*path.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with bundle.open(info) as source, destination.open("wb") as sink:
                copied = 0
                while chunk := source.read(1 << 20):
                    copied += len(chunk)
                    if copied > info.file_size:
                        raise InputError(
                            f"the archive member {info.filename!r} is larger than it says"
                        )
                    sink.write(chunk)


def _unpack_tar(archive: Path, target: Path) -> None:
    totals = [0, 0]
    with tarfile.open(archive) as bundle:
        members = []
        for member in bundle:
            _check_member(member.name, member.size, None, totals)
            if member.isfile() or member.isdir():  # links and devices are skipped
                members.append(member)
        bundle.extractall(target, members=members, filter="data")


def unpack(archive: Path, destination: Path) -> SourceTree:
    """Unpack a .zip or .tar(.gz/.bz2/.xz) archive; a single top folder becomes the root."""
    target = destination / "source"
    target.mkdir(parents=True)
    try:
        if zipfile.is_zipfile(archive):
            _unpack_zip(archive, target)
        elif tarfile.is_tarfile(archive):
            _unpack_tar(archive, target)
        else:
            raise InputError(f"{archive} is neither a zip nor a tar archive")
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise InputError(f"{archive}: cannot unpack ({exc})") from None
    entries = list(target.iterdir())
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else target
    return SourceTree(root=root, path=str(archive))


def open_source(source: str, *, ref: str | None, workdir: Path) -> SourceTree:
    """The local tree for `source`; archives and clones go under `workdir`."""
    if is_git_url(source):
        return clone(source, ref, workdir)
    path = Path(source).expanduser()
    if ref:
        if not path.is_dir():
            raise InputError("--ref applies to git URLs and git checkouts, not to archives")
        return export_ref(path.resolve(), ref, workdir)
    if path.is_dir():
        root = path.resolve()
        commit, when = _commit_of(root)
        return SourceTree(root=root, path=str(path), commit=commit, commit_time=when)
    if path.is_file():
        return unpack(path, workdir)
    raise InputError(f"{source}: no such folder, archive or git URL")

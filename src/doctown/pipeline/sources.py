"""Turning what the user points at (a folder, an archive, a git URL) into a local source tree.

Everything here is untrusted. Archives are unpacked with every member checked and bounded
(`archives.py`); git runs only to clone, with the system's, the user's and the repository's
settings kept from running anything (`git.py`); and the commit of a folder is read from its
`.git` without running git at all (`commit.py`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from doctown.errors import InputError
from doctown.pipeline.archives import unpack_archive
from doctown.pipeline.commit import read_head_commit
from doctown.pipeline.git import check_ref, public_url, run_git, without_credentials

_GIT_URL_PREFIXES = ("http://", "https://", "ssh://", "git://", "file://", "git@")


@dataclass(frozen=True)
class SourceTree:
    """A local tree to analyse, and where it came from."""

    root: Path
    path: str | None = None
    repo_url: str | None = None
    ref: str | None = None
    commit: str | None = None
    commit_time: datetime | None = None
    temporary: bool = False  # unpacked or cloned for this build, and removed after it


def is_git_url(source: str) -> bool:
    return source.startswith(_GIT_URL_PREFIXES) or (
        source.endswith(".git") and not Path(source).is_file()
    )


def _commit_of(root: Path) -> tuple[str | None, datetime | None]:
    """HEAD's hash and commit time when `root` is the top of a git work tree."""
    head = read_head_commit(root)
    return (head.hash, head.time) if head else (None, None)


def clone(url: str, ref: str | None, destination: Path) -> SourceTree:
    """A shallow clone of `url` at `ref` (a branch, a tag, or a commit hash).

    The tree records the URL without its credentials, and git's messages lose them too.
    """
    if ref is not None:
        check_ref(ref)
    target = destination / "repo"
    try:
        try:
            run_git(
                "clone",
                "--quiet",
                "--depth",
                "1",
                "--no-tags",
                *([f"--branch={ref}"] if ref else []),
                "--",
                url,
                str(target),
            )
        except InputError:
            if not ref:
                raise
            # A commit hash cannot be cloned by name: fetch the history and check it out.
            shutil.rmtree(target, ignore_errors=True)
            run_git("clone", "--quiet", "--no-checkout", "--", url, str(target))
            run_git("checkout", "--quiet", "--detach", ref, "--", cwd=target)
    except InputError as exc:
        raise InputError(without_credentials(str(exc), url)) from None
    commit, when = _commit_of(target)
    return SourceTree(
        root=target,
        repo_url=public_url(url),
        ref=ref,
        commit=commit,
        commit_time=when,
        temporary=True,
    )


def unpack(archive: Path, destination: Path) -> SourceTree:
    """Unpack a .zip or .tar(.gz/.bz2/.xz) archive; a single top folder becomes the root."""
    target = destination / "source"
    target.mkdir(parents=True)
    unpack_archive(archive, target)
    entries = list(target.iterdir())
    root = entries[0] if len(entries) == 1 and entries[0].is_dir() else target
    return SourceTree(root=root, path=str(archive), temporary=True)


def open_source(source: str, *, ref: str | None, workdir: Path) -> SourceTree:
    """The local tree for `source`; archives and clones go under `workdir`."""
    if is_git_url(source):
        return clone(source, ref, workdir)
    path = Path(source).expanduser()
    if ref:
        raise InputError("--ref applies to git URLs only; check out the ref yourself for a folder")
    if path.is_dir():
        # Not resolved here: the analysis opens the folder once and walks what it opened, so
        # a path that names one particular folder (a job's pinned /proc/self/fd/N) stays so.
        root = path.absolute()
        commit, when = _commit_of(root)
        return SourceTree(root=root, path=str(path), commit=commit, commit_time=when)
    if path.is_file():
        return unpack(path, workdir)
    raise InputError(f"{source}: no such folder, archive or git URL")

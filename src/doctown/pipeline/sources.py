"""Turning what the user points at (a folder, an archive, a git URL) into a local source tree.

Everything here is untrusted. Archives are unpacked with every member checked and bounded
(`archives.py`); git runs only to clone, with the system's, the user's and the repository's
settings kept from running anything (`git.py`); and the commit of a folder is read from its
`.git` without running git at all (`commit.py`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from doctown.errors import InputError
from doctown.pipeline.archives import unpack_archive
from doctown.pipeline.commit import GitDirs, find_git_dirs, read_head_commit
from doctown.pipeline.git import (
    check_ref,
    check_revision,
    public_url,
    run_git,
    without_credentials,
)

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


# What a mirror of a checkout's refs may copy, at the most: ref files and their bytes.
MAX_REF_FILES = 100_000
MAX_REF_BYTES = 64 * 1024 * 1024


def export_ref(folder: Path, ref: str, destination: Path) -> SourceTree:
    """The files of `ref` in the git checkout holding `folder` (only `folder`'s part of it).

    git never runs inside the checkout, whose configuration could name programs: its refs
    are copied (as files, without following links) into a bare repository of our own that
    borrows the checkout's objects read-only, and `git archive` runs there.
    """
    check_revision(ref)
    top, prefix = _work_tree_top(folder)
    dirs = find_git_dirs(top) if top is not None else None
    if top is None or dirs is None:
        raise InputError(
            f"--ref applies to git URLs and git checkouts; {folder} is not inside a git work tree"
        )
    mirror = destination / "refs.git"
    run_git("init", "--quiet", "--bare", str(mirror))
    (mirror / "objects" / "info" / "alternates").write_text(f"{dirs.common_dir / 'objects'}\n")
    _copy_refs(dirs, mirror)
    try:
        commit = run_git(
            "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}", cwd=mirror
        )
        when = run_git("log", "-1", "--format=%cI", commit, cwd=mirror)
        archive = destination / "ref.tar"
        tree = f"{commit}:{prefix}" if prefix else commit
        run_git("archive", "--format=tar", f"--output={archive}", tree, cwd=mirror)
    except InputError as exc:
        raise InputError(f"cannot read {ref!r} in the checkout at {top} ({exc})") from None
    target = destination / "source"
    target.mkdir(parents=True)
    try:
        unpack_archive(archive, target)
    finally:
        archive.unlink(missing_ok=True)
    return SourceTree(
        root=target,
        path=str(folder),
        ref=ref,
        commit=commit,
        commit_time=datetime.fromisoformat(when) if when else None,
        temporary=True,
    )


def _work_tree_top(folder: Path) -> tuple[Path | None, str]:
    """The top of the work tree holding `folder`, and `folder`'s path inside it."""
    folder = folder.resolve()
    for top in (folder, *folder.parents):
        if (top / ".git").exists():
            inside = folder.relative_to(top).as_posix()
            return top, "" if inside == "." else inside
    return None, ""


def _copy_refs(dirs: GitDirs, mirror: Path) -> None:
    """HEAD, packed-refs and the loose refs of `dirs`, copied as plain files into `mirror`."""
    copied = [0, 0]

    def copy(source: Path, target: Path) -> None:
        try:
            if not source.is_file() or source.is_symlink():
                return
            data = source.read_bytes()
        except OSError:
            return
        copied[0] += 1
        copied[1] += len(data)
        if copied[0] > MAX_REF_FILES or copied[1] > MAX_REF_BYTES:
            raise InputError(
                f"the checkout at {dirs.git_dir} has more refs than doctown reads "
                f"({MAX_REF_FILES} files, {MAX_REF_BYTES // 2**20} MiB)"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    copy(dirs.git_dir / "HEAD", mirror / "HEAD")
    copy(dirs.common_dir / "packed-refs", mirror / "packed-refs")
    for base in dict.fromkeys((dirs.common_dir, dirs.git_dir)):
        refs = base / "refs"
        if refs.is_symlink():
            continue
        for folder, subfolders, files in os.walk(refs):  # os.walk follows no links by default
            subfolders[:] = [name for name in subfolders if not Path(folder, name).is_symlink()]
            for name in files:
                source = Path(folder, name)
                copy(source, mirror / source.relative_to(base))


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
        if not path.is_dir():
            raise InputError("--ref applies to git URLs and git checkouts, not to archives")
        return export_ref(path.resolve(), ref, workdir)
    if path.is_dir():
        # Not resolved here: the analysis opens the folder once and walks what it opened, so
        # a path that names one particular folder (a job's pinned /proc/self/fd/N) stays so.
        root = path.absolute()
        commit, when = _commit_of(root)
        return SourceTree(root=root, path=str(path), commit=commit, commit_time=when)
    if path.is_file():
        return unpack(path, workdir)
    raise InputError(f"{source}: no such folder, archive or git URL")

"""Reading HEAD without git: loose and packed refs and objects, deltas, work trees, damage."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from doctown.pipeline.commit import read_head_commit


def git(root: Path, *args: str, date: str = "2025-06-01T12:00:00+02:00") -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def history(root: Path, commits: int) -> list[str]:
    """`commits` commits with long, similar messages (so a repack stores most as deltas)."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for index in range(commits):
        (root / "f.py").write_text(f"value = {index}\n")
        git(root, "add", "f.py")
        message = "Change the value, keeping the long description the same. " * 30 + str(index)
        git(root, "commit", "-q", "-m", message, date=f"2025-06-{index + 1:02d}T08:30:00-05:00")
    return git(root, "rev-list", "main").split()


def committed(root: Path, commit: str) -> datetime:
    return datetime.fromisoformat(git(root, "show", "-s", "--format=%cI", commit))


def test_loose_refs_and_objects(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (head, *_) = history(root, 2)
    found = read_head_commit(root)
    assert found is not None and found.hash == head
    assert found.time == committed(root, head) and found.time.utcoffset() is not None
    assert found.time.isoformat() == "2025-06-02T08:30:00-05:00"


@pytest.mark.parametrize("offset_deltas", ["true", "false"])
def test_packed_refs_and_deltified_commits_in_packs(tmp_path: Path, offset_deltas: str) -> None:
    root = tmp_path / "repo"
    commits = history(root, 12)
    git(root, "pack-refs", "--all")
    option = f"repack.useDeltaBaseOffset={offset_deltas}"
    git(root, "-c", option, "repack", "-adf", "--window=50", "--depth=50", "-q")
    assert not (root / ".git" / "refs" / "heads" / "main").exists()
    packed = git(root, "verify-pack", "-v", *map(str, (root / ".git/objects/pack").glob("*.idx")))
    deltas = [
        line.split()[0]
        for line in packed.splitlines()
        if " commit " in line and len(line.split()) > 6
    ]
    assert deltas, "the repack stored no commit as a delta"
    for commit in commits:  # each commit in turn as a detached HEAD
        (root / ".git" / "HEAD").write_text(commit + "\n")
        found = read_head_commit(root)
        assert found is not None and (found.hash, found.time) == (commit, committed(root, commit))


def test_a_linked_work_tree(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (head, *_) = history(root, 1)
    git(root, "worktree", "add", "-q", "-b", "side", str(tmp_path / "side"))
    found = read_head_commit(tmp_path / "side")
    assert found is not None and (found.hash, found.time) == (head, committed(root, head))


def test_damaged_or_hostile_metadata_gives_no_commit_and_never_blocks(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (head, *_) = history(root, 1)
    dot_git = root / ".git"
    (tmp_path / "secret").write_text(head + "\n")

    dot_git.joinpath("HEAD").write_text("ref: refs/../../../secret\n")
    assert read_head_commit(root) is None  # a ref may not climb out of the repository
    dot_git.joinpath("HEAD").unlink()
    os.mkfifo(dot_git / "HEAD")  # a FIFO would block a plain open
    assert read_head_commit(root) is None
    dot_git.joinpath("HEAD").unlink()
    dot_git.joinpath("HEAD").symlink_to(tmp_path / "secret")
    assert read_head_commit(root) is None

    dot_git.joinpath("HEAD").unlink()
    dot_git.joinpath("HEAD").write_text("ref: refs/heads/main\n")
    for loose in (dot_git / "objects").glob("??/*"):
        loose.write_bytes(b"not zlib")
    found = read_head_commit(root)
    assert found is not None and found.hash == head and found.time is None
    assert read_head_commit(tmp_path) is None  # not a work tree at all


def test_a_git_file_is_followed_only_to_a_repository_of_its_own_work_tree(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "private"
    (secret, *_) = history(elsewhere, 1)
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "app.py").write_text("x = 1\n")
    # An unpacked archive or a shared folder whose `.git` names another repository.
    (planted / ".git").write_text(f"gitdir: {elsewhere / '.git'}\n")
    assert read_head_commit(planted) is None
    (planted / ".git").write_text("gitdir: ../private/.git\n")
    assert read_head_commit(planted) is None
    # A git directory of its own whose commondir climbs out to the other repository.
    (planted / ".git").unlink()
    inner = planted / ".git"
    inner.mkdir()
    (inner / "HEAD").write_text("ref: refs/heads/main\n")
    (inner / "commondir").write_text(f"{elsewhere / '.git'}\n")
    assert read_head_commit(planted) is None
    assert secret  # the other repository is readable: only the pointer was refused


def test_a_submodule_s_work_tree_reads_its_commit(tmp_path: Path) -> None:
    library = tmp_path / "library"
    (head, *_) = history(library, 1)
    app = tmp_path / "app"
    history(app, 1)
    git(app, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "lib")
    found = read_head_commit(app / "lib")  # its .git file points into app/.git/modules/lib
    assert found is not None and found.hash == head

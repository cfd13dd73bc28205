"""The pre-commit hook, run as pre-commit runs it: its entry and args, then the staged files
its `files` pattern selects, in the repository, on a git history with a committed pack."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from doctown.analysis.languages import LANGUAGES
from tests.freshness.conftest import build_pack
from tests.pipeline.conftest import git, write_repo

HOOKS = Path(__file__).parents[1] / ".pre-commit-hooks.yaml"
PACK = "docs/doctown.docpack"


def hook() -> dict[str, Any]:
    hooks: list[dict[str, Any]] = yaml.safe_load(HOOKS.read_text())
    return next(h for h in hooks if h["id"] == "doctown-status")


def run_hook(repo: Path, **env: str) -> subprocess.CompletedProcess[str] | None:
    """What `pre-commit run` does with the staged files; None when none matches."""
    spec = hook()
    staged = git(repo, "diff", "--cached", "--name-only").splitlines()
    files = [name for name in staged if re.search(spec["files"], name)]
    if not files:
        return None
    command = [*shlex.split(spec["entry"]), PACK, *files]  # the project's args: its pack
    bin_dir = str(Path(sys.executable).parent)
    return subprocess.run(
        command,
        cwd=repo,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(repo.parent), "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_hook_fails_a_commit_that_leaves_documentation_stale(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo")
    (repo / "docs").mkdir()
    build_pack(repo, repo / PACK)
    git(repo, "add", "-f", PACK)
    git(repo, "commit", "-qm", "documentation")

    receipt = repo / "shop" / "receipt.py"
    receipt.write_text(receipt.read_text() + "\n# Printed receipts are kept for a year.\n")
    (repo / "NOTES.md").write_text("notes\n")
    git(repo, "add", ".")
    harmless = run_hook(repo)
    assert harmless is not None and harmless.returncode == 0, harmless.stdout
    git(repo, "commit", "-qm", "a comment")

    pricing = repo / "shop" / "pricing.py"
    pricing.write_text(pricing.read_text().replace("items: list[float]", "items: list"))
    git(repo, "add", ".")
    stale = run_hook(repo)
    assert stale is not None and stale.returncode == 3
    assert "shop.pricing.total" in stale.stdout and "signature" in stale.stdout

    # The fix the message points to: refresh the pack, stage it, and the hook passes.
    refresh = subprocess.run(
        ["doctown", "build", ".", "--update", PACK, "-o", PACK, "--quiet", "--no-cache"],
        cwd=repo,
        env={
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "DOCTOWN_BACKEND": "facts",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert refresh.returncode == 0, refresh.stderr
    git(repo, "add", "-f", PACK)
    fixed = run_hook(repo)
    assert fixed is not None and fixed.returncode == 0, fixed.stdout

    git(repo, "reset", "-q")
    (repo / "NOTES.md").write_text("more notes\n")
    git(repo, "add", "NOTES.md")
    assert run_hook(repo) is None  # no source file staged: the hook does not run


def test_the_hook_watches_every_language_doctown_reads() -> None:
    pattern = hook()["files"]
    for language in LANGUAGES.values():
        for extension in language.extensions:
            assert re.search(pattern, f"src/module{extension}"), extension
    assert not re.search(pattern, "README.md") and not re.search(pattern, PACK)

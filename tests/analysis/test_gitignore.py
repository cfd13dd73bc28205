"""Ignore patterns: git's own answers on a tree, bad lines, and patterns built to backtrack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from doctown.analysis.gitignore import InvalidPatternError, parse_pattern
from doctown.analysis.ingest import ingest

GITIGNORE = r"""
# a comment, then patterns of every kind
*.gen.py
build-out/
/top.py
docs/**/*.py
**/gen/
a/**/b.py
foo/**
!foo/keep.py
[abc]x.py
[!a-c]y.py
[[:digit:]]d.py
?z.py
\#hash.py
\!bang.py
trail\ .py
mid/*/deep.py
*.py[cod]
"""
NESTED = "!kept.gen.py\nlocal.py\n"
PATHS = [
    "top.py",
    "sub/top.py",
    "x.gen.py",
    "sub/kept.gen.py",
    "sub/local.py",
    "sub/other.py",
    "build-out/a.py",
    "sub/build-out/b.py",
    "docs/a.py",
    "docs/x/y/z.py",
    "gen/g.py",
    "sub/gen/g.py",
    "a/b.py",
    "a/x/y/b.py",
    "a/c.py",
    "foo/keep.py",
    "foo/drop.py",
    "foo/sub/keep.py",
    "ax.py",
    "dx.py",
    "ay.py",
    "dy.py",
    "7d.py",
    "xd.py",
    "qz.py",
    "qqz.py",
    "#hash.py",
    "!bang.py",
    "trail .py",
    "mid/one/deep.py",
    "mid/one/two/deep.py",
    "plain.py",
    "sub/plain.py",
]


def test_the_same_files_as_git_itself_leaves_untracked(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for path in PATHS:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x = 1\n")
    (root / ".gitignore").write_text(GITIGNORE)
    (root / "sub" / ".gitignore").write_text(NESTED)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split("\0")
    by_git = {path for path in listed if path.endswith(".py")}
    assert {"plain.py", "foo/keep.py", "sub/kept.gen.py"} <= by_git  # the oracle is sane
    assert "foo/drop.py" not in by_git and "sub/local.py" not in by_git
    assert {file.path for file in ingest(root).files} == by_git


@pytest.mark.parametrize("line", ["\\", "!", "[unclosed", "a//b", "[[:nope:]]x", "[z-a]"])
def test_a_line_git_cannot_match_is_skipped_with_a_warning(tmp_path: Path, line: str) -> None:
    with pytest.raises(InvalidPatternError):
        parse_pattern(line)
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".gitignore").write_text(f"skip.py\n{line}\n")
    (root / "skip.py").write_text("x = 1\n")
    (root / "keep.py").write_text("x = 1\n")
    found = ingest(root)
    assert [file.path for file in found.files] == ["keep.py"]
    assert len(found.warnings) == 1 and found.warnings[0].startswith(".gitignore:2: skipped")


def test_patterns_built_to_backtrack_match_at_once(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    lines = ["a*" * count + "b" for count in (8, 16, 40)] + ["**/" + "a*" * 20 + "b/**"]
    (root / ".gitignore").write_text("\n".join(lines) + "\n")
    name = "a" * 200
    for index in range(3):
        (root / f"{name}{index}").mkdir()
        (root / f"{name}{index}" / f"{name}.py").write_text("x = 1\n")
    # In a child process, so a matcher that backtracks fails the test instead of hanging it.
    script = (
        "import sys; from pathlib import Path; from doctown.analysis.ingest import ingest; "
        "print(len(ingest(Path(sys.argv[1])).files))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(root)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3"

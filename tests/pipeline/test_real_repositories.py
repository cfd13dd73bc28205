"""doctown build on real code with the embedded model: this repository and a published sdist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from doctown.docpack import read_docpack
from tests.cli.test_generate import doctown

if not os.environ.get("DOCTOWN_REQUIRE_LOCAL_MODEL"):
    pytest.importorskip("llama_cpp", reason="the local extra is not installed")

pytestmark = pytest.mark.local_model

REPOSITORY = Path(__file__).parents[2]
THIRD_PARTY = "itsdangerous==2.2.0"


def build_and_read(source: str, out: Path) -> None:
    result = doctown(
        "build",
        source,
        "-o",
        str(out),
        "--limit",
        "3",
        "--cache",
        str(out.with_suffix(".sqlite3")),
        "--quiet",
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode in (0, 3), result.stderr  # 3: the preview model failed a symbol
    pack = read_docpack(out)
    assert pack.manifest.usage is None
    # With the preview model, symbols that have a docstring reuse it (status "reused").
    documented = [s for s in pack.symbols if s.documentation.status in ("documented", "reused")]
    assert 1 <= len(documented) <= 3 and pack.manifest.statistics.symbol_count > 20
    name = documented[0].qualified_name or documented[0].name
    assert doctown("inspect", str(out)).returncode == 0
    queried = doctown("query", str(out), name)
    assert (
        queried.returncode == 0 and documented[0].documentation.summary.split()[0] in queried.stdout
    )  # type: ignore[union-attr]
    searched = doctown("search", str(out), documented[0].name)
    assert searched.returncode == 0 and documented[0].name in searched.stdout


def test_builds_this_repository(tmp_path: Path) -> None:
    build_and_read(str(REPOSITORY / "src"), tmp_path / "doctown.docpack")


def test_builds_a_published_sdist(tmp_path: Path) -> None:
    download = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(tmp_path),
            THIRD_PARTY,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert download.returncode == 0, download.stderr
    (archive,) = tmp_path.glob("itsdangerous-*.tar.gz")
    build_and_read(str(archive), tmp_path / "itsdangerous.docpack")

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
        "--no-overviews",  # the embedded model's overviews have a test of their own
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


def test_overviews_of_a_real_package_with_the_embedded_model(tmp_path: Path) -> None:
    import dotenv

    from doctown.docpack.overview_text import OverviewIndex

    out = tmp_path / "dotenv.docpack"
    source = Path(dotenv.__file__).parent
    result = doctown(
        "build", str(source), "-o", str(out), "--limit", "2", "--quiet",
        "--cache", str(tmp_path / "cache.sqlite3"), env={"HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert result.returncode in (0, 3), result.stderr  # 3: the preview model failed one
    pack = read_docpack(out)
    overviews = pack.content.overviews
    assert overviews is not None and overviews.repository is not None and overviews.clusters
    index = OverviewIndex(pack.content)
    every = [*overviews.modules, *overviews.clusters, overviews.repository]
    for overview in every:
        assert overview.status in ("documented", "failed"), overview
        if overview.status == "failed":
            assert overview.reason and overview.summary is None
            continue
        provenance = overview.provenance
        assert provenance is not None and provenance.backend == "local" and provenance.preview
        # A reference the pack does not hold is never passed off as one: it is marked.
        refs = [
            *getattr(overview, "public_api", []),
            *getattr(overview, "key_symbols", []),
            *getattr(overview, "main_parts", []),
            *getattr(overview, "start_reading", []),
        ]
        assert all(index.exists(ref) or ref in provenance.ungrounded for ref in refs)
    assert overviews.diagram.startswith("flowchart LR")
    first = overviews.clusters[0]
    shown = doctown("query", str(out), f"cluster:{first.cluster_id}")
    assert shown.returncode == 0
    assert ("offline preview" in shown.stdout) == (first.status == "documented")

"""Packs to render: the small shop pack, the hostile one, and one built from real code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from doctown.docpack import read_docpack
from doctown.site import Catalog
from doctown.testing import FakeOpenAIServer
from tests.cli.test_generate import doctown, openai_env
from tests.conftest import TEST_KEY
from tests.docpack.factory import write_sample
from tests.site.hostile import write_hostile_pack


@pytest.fixture
def shop_pack(tmp_path: Path) -> Path:
    path = tmp_path / "shop.docpack"
    write_sample(path)
    return path


@pytest.fixture
def shop(shop_pack: Path) -> Catalog:
    return Catalog(read_docpack(shop_pack))


@pytest.fixture
def hostile_pack(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.docpack"
    write_hostile_pack(path)
    return path


@pytest.fixture
def hostile(hostile_pack: Path) -> Catalog:
    return Catalog(read_docpack(hostile_pack))


REPOSITORY = Path(__file__).parents[2]
# Part of this repository, with some of its tests so that "tested by" has something to show;
# small enough for a browser to open every page in seconds.
REAL_PARTS = (
    "src/doctown/__init__.py",
    "src/doctown/docpack",
    "tests/docpack/factory.py",
    "tests/docpack/test_query.py",
    "tests/docpack/test_search.py",
)


@pytest.fixture(scope="session")
def real_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pack built from real code in this test run: `doctown build` with the fake server."""
    root = tmp_path_factory.mktemp("real")
    source = root / "doctown"
    for part in REAL_PARTS:
        if (REPOSITORY / part).is_dir():
            shutil.copytree(
                REPOSITORY / part, source / part, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            (source / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPOSITORY / part, source / part)
    out = root / "doctown.docpack"
    with FakeOpenAIServer(api_key=TEST_KEY) as server:
        result = doctown(
            "build",
            str(source),
            "-o",
            str(out),
            "--cache",
            str(root / "summaries.sqlite3"),
            "--created-at",
            "2025-06-01T12:00:00+00:00",
            "--yes",
            "--quiet",
            env=openai_env(server, DOCTOWN_CACHE_DIR=str(root / "analysis")),
        )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def real(real_pack: Path) -> Catalog:
    return Catalog(read_docpack(real_pack))

"""Every worker a server test starts keeps its jobs in the test's own folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def jobs_dir(
    isolated_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> str:
    path = str(tmp_path_factory.mktemp("jobs"))
    monkeypatch.setenv("JOBS_DIR", path)
    return path

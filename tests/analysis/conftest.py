"""Shared helpers for the analysis tests: run an analysis on a fixture tree, once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from doctown.analysis import AnalysisResult, analyze_repository

FIXTURES = Path(__file__).parent / "fixtures"


@cache
def analysed(language: str) -> AnalysisResult:
    """The analysis of `fixtures/<language>`, computed once per test session, uncached."""
    return analyze_repository(FIXTURES / language, use_cache=False, workers=1)


def call_edges(result: AnalysisResult) -> dict[tuple[str, str], str]:
    """(source id, target id) -> tier, for every call edge."""
    return {(e.source, e.target): e.tier for e in result.edges if e.kind == "calls"}


def unresolved(result: AnalysisResult) -> dict[tuple[str, str], str]:
    """(source id, name as written) -> reason, for every unresolved call."""
    return {(u.source, u.name): u.reason for u in result.unresolved}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No test may read or write the user's own analysis cache.
    monkeypatch.setenv("DOCTOWN_CACHE_DIR", str(tmp_path / "cache"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "network: downloads a package source distribution (skipped when offline)"
    )

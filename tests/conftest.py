"""Shared fixtures: an isolated environment, the fake OpenAI server, and engines wired to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from doctown.config import Settings, load_settings
from doctown.generation import GenerationEngine, build_engine
from doctown.generation.cache import SummaryCache
from doctown.schemas import SymbolInput
from doctown.testing import FakeOpenAIServer

TEST_KEY = "sk-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's keys, .env file or caches."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("DOCTOWN_ENV_FILE", raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    # Summary caches and the remembered output formats stay inside the test.
    monkeypatch.setenv("DOCTOWN_CACHE_DIR", str(tmp_path_factory.mktemp("doctown-cache")))


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key=TEST_KEY) as server:
        yield server


class SleepRecorder:
    """Stands in for asyncio.sleep in the retry layer: records delays, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def openai_settings(server: FakeOpenAIServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"openai_api_key": TEST_KEY, "openai_base_url": server.base_url}
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def make_engine(fake_openai: FakeOpenAIServer, sleeps: SleepRecorder):  # type: ignore[no-untyped-def]
    def make(cache: SummaryCache | None = None, **overrides: Any) -> GenerationEngine:
        """An engine on the fake server; keyword arguments override settings."""
        return build_engine(openai_settings(fake_openai, **overrides), sleep=sleeps, cache=cache)

    return make


def symbol(symbol_id: str, name: str | None = None, **context: Any) -> SymbolInput:
    """A symbol input with plausible defaults; keyword arguments override context fields."""
    values: dict[str, Any] = {
        "name": name or f"func_{symbol_id}",
        "kind": "function",
        "language": "python",
        "file_path": "src/utils.py",
        "signature": f"def {name or 'func_' + symbol_id}(items: list[int]) -> int",
        "calls": ["sum", "len"],
        "called_by": ["main"],
        "imports": ["typing"],
        "related_symbols": ["validate_items"],
        "cluster_label": "math utilities",
        "centrality": 0.75,
    }
    values.update(context)
    return SymbolInput(symbol_id=symbol_id, context=values)  # type: ignore[arg-type]

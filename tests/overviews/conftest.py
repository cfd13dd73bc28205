"""Builds run in this process against the fake server, for the overview levels."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from doctown.docpack import Docpack, read_docpack
from doctown.generation import build_engine
from doctown.generation.cache import SummaryCache
from doctown.pipeline import Build, BuildOptions, Plan
from doctown.schemas import GenerateResponse
from doctown.testing import FakeOpenAIServer
from tests.conftest import SleepRecorder, openai_settings


@dataclass
class Built:
    plan: Plan
    response: GenerateResponse
    pack: Docpack
    overview_requests: list[dict[str, Any]]  # the chat requests of the overview stage


def overview_requests(server: FakeOpenAIServer) -> list[dict[str, Any]]:
    """Chat requests that asked for an overview (their schema is not the summary's)."""
    return server.overview_requests()


def build_in_process(
    repo: Path,
    out: Path,
    server: FakeOpenAIServer,
    *,
    cache: Path | None = None,
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> Built:
    """`doctown build` as a library call: prepare, generate (symbols, then overviews), pack."""
    before = len(overview_requests(server))
    summaries = SummaryCache(cache or out.parent / "cache.sqlite3")
    engine = build_engine(
        openai_settings(server, **(settings or {})), sleep=SleepRecorder(), cache=summaries
    )
    options.setdefault("created_at", None)
    try:
        with Build(BuildOptions(source=str(repo), output=out, **options), engine) as build:
            plan = build.prepare()

            async def run() -> GenerateResponse:
                try:
                    return await build.generate(plan)
                finally:
                    await engine.backend.aclose()

            response = asyncio.run(run())
            build.pack(plan, response)
    finally:
        summaries.close()
    return Built(plan, response, read_docpack(out), overview_requests(server)[before:])


def write_files(root: Path, files: dict[str, str]) -> Path:
    """A folder of source files (no git): what the tests of one level need."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    from tests.pipeline.conftest import FILES

    return write_files(tmp_path / "shop", {**FILES, "README.md": "# Shop\n\nA tiny shop.\n"})

"""Packs built for real, in process, by the `facts` backend (no model, no network)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from doctown.backends.facts import FactsBackend
from doctown.docpack import Docpack, read_docpack
from doctown.generation import GenerationEngine
from doctown.pipeline import Build, BuildOptions, Plan
from doctown.prompts import PromptBuilder
from doctown.schemas import GenerateResponse
from doctown.tokens import TokenCounter
from tests.pipeline.conftest import write_repo


@dataclass
class Built:
    pack: Docpack
    plan: Plan
    response: GenerateResponse


def facts_engine(*, few_shot: bool = False, max_prompt_tokens: int = 2000) -> GenerationEngine:
    """The `facts` backend behind the full template, or the compact one with `few_shot`."""
    counter = TokenCounter("gpt-5-nano")
    builder = PromptBuilder(counter, max_prompt_tokens=max_prompt_tokens, few_shot=few_shot)
    return GenerationEngine(FactsBackend(), builder)


def build_pack(
    source: Path, out: Path, engine: GenerationEngine | None = None, **options: Any
) -> Built:
    """Build `source` into `out` the way `doctown build` does, and read the pack back."""
    engine = engine or facts_engine()
    with Build(BuildOptions(source=str(source), output=out, **options), engine) as build:
        plan = build.prepare()
        response = asyncio.run(build.generate(plan))
        build.pack(plan, response)
    return Built(read_docpack(out), plan, response)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "shop-repo")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))

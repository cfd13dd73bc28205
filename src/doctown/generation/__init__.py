"""Generation: the engine and the policies wrapped around a backend."""

from __future__ import annotations

from datetime import date
from typing import Any

from doctown import model_catalog
from doctown.backends import Backend, make_backend
from doctown.config import Settings
from doctown.generation.engine import GenerationEngine, PlannedSymbol
from doctown.generation.grouping import Grouping
from doctown.prompts import PromptBuilder
from doctown.tokens import TokenCounter

__all__ = ["GenerationEngine", "Grouping", "PlannedSymbol", "build_engine", "standing_warnings"]

_RETIREMENT_WARNING_DAYS = 60


def standing_warnings(backend: Backend, *, today: date | None = None) -> list[str]:
    """Warnings that hold for every job of this backend (preview model, retiring model)."""
    warnings = []
    if backend.preview:
        from doctown.backends.local import preview_notice

        warnings.append(preview_notice(backend.model))
    info = model_catalog.lookup(backend.model) if backend.name == "openai" else None
    if info and info.retires:
        days = (info.retires - (today or date.today())).days
        if days <= _RETIREMENT_WARNING_DAYS:
            when = f"retires on {info.retires}" if days >= 0 else f"was retired on {info.retires}"
            warnings.append(
                f"MODEL_NAME={backend.model} {when}; switch MODEL_NAME to a current "
                "model (for example gpt-5-mini)."
            )
    return warnings


def build_engine(
    settings: Settings, backend: Backend | None = None, **options: Any
) -> GenerationEngine:
    """The engine the settings describe: backend, prompt budget, concurrency, retries, and
    how many symbols of a file share a request (DOCTOWN_GROUP_SIZE).

    `options` go to GenerationEngine (tests pass `sleep` to skip back-off waits).
    """
    backend = backend or make_backend(settings)
    counter = TokenCounter(backend.model)
    builder = PromptBuilder(
        counter, max_prompt_tokens=settings.max_prompt_tokens, few_shot=backend.few_shot
    )
    grouping = None
    if backend.supports_groups and settings.doctown_group_size > 1:
        grouping = Grouping(counter, max_symbols=settings.doctown_group_size)
    return GenerationEngine(
        backend,
        builder,
        max_concurrency=settings.max_concurrent_requests,
        max_attempts=settings.max_retries,
        warnings=standing_warnings(backend),
        grouping=grouping,
        **options,
    )

"""Backends answer one prompt each; `make_backend` picks one from the settings."""

from __future__ import annotations

from doctown.backends.base import Backend, Completion
from doctown.config import Settings
from doctown.errors import ConfigurationError
from doctown.pricing import resolve_price

__all__ = ["Backend", "Completion", "make_backend"]


def make_backend(settings: Settings) -> Backend:
    """The configured backend, checked before anything is spent (price, key, model file)."""
    if settings.backend == "facts":
        from doctown.backends.facts import FactsBackend

        return FactsBackend()
    if settings.backend == "local":
        from doctown.backends.local import LocalBackend

        return LocalBackend(
            model_path=settings.doctown_local_model_path, threads=settings.local_threads
        )

    from doctown.backends.ladder import MEMORY_FILE_NAME, FormatMemory
    from doctown.backends.openai import OpenAIBackend
    from doctown.generation.cache import default_cache_path

    if settings.openai_api_key is None:
        raise ConfigurationError(
            "DOCTOWN_BACKEND=openai needs OPENAI_API_KEY. Set it (any non-empty value for a local "
            "compatible server), or unset DOCTOWN_BACKEND to use the embedded local model."
        )
    price = resolve_price(
        settings.model_name,
        input_override=settings.input_token_price,
        output_override=settings.output_token_price,
        cached_input_override=settings.cached_input_token_price,
    )
    return OpenAIBackend(
        api_key=settings.openai_api_key.get_secret_value(),
        model=settings.model_name,
        price=price,
        base_url=settings.openai_base_url,
        timeout=settings.request_timeout,
        max_completion_tokens=settings.max_completion_tokens,
        reasoning_effort=settings.reasoning_effort,
        max_concurrency=settings.max_concurrent_requests,
        # Which response_format the server supports is remembered beside the summary cache.
        format_memory=FormatMemory(default_cache_path().with_name(MEMORY_FILE_NAME)),
        organization=settings.openai_org_id,
        project=settings.openai_project_id,
    )

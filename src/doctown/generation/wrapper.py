"""A backend that delegates to another: the base of every policy layer."""

from __future__ import annotations

from doctown.backends.base import Backend, Completion
from doctown.model_catalog import Price
from doctown.prompts import Prompt


class WrapperBackend:
    """Forwards everything to `wrapped`; subclasses override `complete` to add one policy."""

    def __init__(self, wrapped: Backend) -> None:
        self.wrapped = wrapped

    @property
    def name(self) -> str:
        return self.wrapped.name

    @property
    def model(self) -> str:
        return self.wrapped.model

    @property
    def price(self) -> Price:
        return self.wrapped.price

    @property
    def few_shot(self) -> bool:
        return self.wrapped.few_shot

    @property
    def preview(self) -> bool:
        return self.wrapped.preview

    @property
    def supports_groups(self) -> bool:
        return self.wrapped.supports_groups

    @property
    def max_completion_tokens(self) -> int:
        return self.wrapped.max_completion_tokens

    async def complete(self, prompt: Prompt) -> Completion:
        return await self.wrapped.complete(prompt)

    async def readiness(self) -> str | None:
        return await self.wrapped.readiness()

    async def aclose(self) -> None:
        await self.wrapped.aclose()

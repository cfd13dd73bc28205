"""Answers settled earlier, served before anything else runs (`build --update`)."""

from __future__ import annotations

from typing import Protocol

from doctown.backends.base import Backend, Completion
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import Prompt


class SummarySource(Protocol):
    """A read-only store of finished summaries, such as a previous pack."""

    def find(self, prompt: Prompt) -> Completion | None:
        """The finished answer to `prompt` (a cache hit that costs nothing now), or None."""
        ...


class ReusingBackend(WrapperBackend):
    """Answers from `source` when it can, else asks the wrapped stack.

    Sits outermost: a reused summary is final, so grounding does not check it again, and it
    needs neither a slot, a retry nor a budget.
    """

    def __init__(self, wrapped: Backend, source: SummarySource) -> None:
        super().__init__(wrapped)
        self.source = source

    async def complete(self, prompt: Prompt) -> Completion:
        found = self.source.find(prompt)
        return found if found is not None else await self.wrapped.complete(prompt)

"""Answers obtained in advance (a Batch API result) served in place of requests."""

from __future__ import annotations

from collections.abc import Mapping

from doctown.backends.base import Backend, Completion
from doctown.errors import SymbolFailure
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import Prompt

# A prompt key's answer: the completion, or the per-symbol failure it came back as.
Answer = Completion | SymbolFailure


class AnsweredBackend(WrapperBackend):
    """Serves the answer held for a prompt's key; any other prompt (a grounding re-ask) goes on
    to the wrapped stack and is sent as usual."""

    def __init__(self, wrapped: Backend, answers: Mapping[str, Answer]) -> None:
        super().__init__(wrapped)
        self.answers = answers

    async def complete(self, prompt: Prompt) -> Completion:
        answer = self.answers.get(prompt.key)
        if answer is None:
            return await self.wrapped.complete(prompt)
        if isinstance(answer, SymbolFailure):
            raise answer
        return answer

"""A backend that is a plain function, in this process: for fast tests of the policy wrappers
(retry, limits, budget, cache, grounding) without a server or a socket.

    backend = FunctionBackend(lambda prompt: "Adds two numbers.")

The function gets each prompt and returns a summary, a Completion, or raises any
GenerationError (TransientError, a SymbolFailure, JobAbortedError) as a real backend would.
It may be a coroutine function. `calls` records every prompt it was asked, in order.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from decimal import Decimal

from doctown.backends.base import Completion
from doctown.model_catalog import Price
from doctown.prompts import Prompt
from doctown.usage import Usage

Answer = str | Completion
Answerer = Callable[[Prompt], Answer | Awaitable[Answer]]

# A price that makes every token count: a million input tokens cost $1, output $4.
TEST_PRICE = Price(input=Decimal(1), cached_input=Decimal("0.1"), output=Decimal(4))


class FunctionBackend:
    """The Backend protocol around `answer`: one async method, the rest plain attributes."""

    def __init__(
        self,
        answer: Answerer,
        *,
        name: str = "function",
        model: str = "function-model",
        price: Price = TEST_PRICE,
        usage: Usage | None = None,
        max_completion_tokens: int = 300,
    ) -> None:
        self._answer = answer
        self.name = name
        self.model = model
        self.price = price
        self.few_shot = False
        self.preview = False
        self.supports_groups = False  # asked one symbol per request
        self.max_completion_tokens = max_completion_tokens
        self.usage = usage or Usage(input_tokens=100, output_tokens=10, requests=1)
        self.calls: list[Prompt] = []
        self.closed = False

    async def complete(self, prompt: Prompt) -> Completion:
        self.calls.append(prompt)
        answered = self._answer(prompt)
        if inspect.isawaitable(answered):
            answered = await answered
        if isinstance(answered, Completion):
            return answered
        return Completion(prompt.output.model_construct(summary=answered), self.usage)

    async def readiness(self) -> str | None:
        return None

    async def aclose(self) -> None:
        self.closed = True

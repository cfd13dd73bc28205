"""A hard cap on spending: no request is sent that could take the job past `max_cost`."""

from __future__ import annotations

from decimal import Decimal

from doctown import pricing
from doctown.backends.base import Backend, Completion, completion_cap
from doctown.errors import BudgetExhaustedError, SymbolFailure
from doctown.generation.wrapper import WrapperBackend
from doctown.prompts import Prompt
from doctown.usage import Usage


class BudgetBackend(WrapperBackend):
    """Reserves each request's worst case (prompt plus a full completion) before sending it.

    The first request that would not fit stops the job (BudgetExhaustedError, a job-level
    stop): what was already generated is kept and the remaining symbols are not attempted.
    """

    def __init__(self, wrapped: Backend, *, max_cost: Decimal) -> None:
        super().__init__(wrapped)
        self.max_cost = max_cost
        self.spent = Decimal(0)
        self._reserved = Decimal(0)

    def worst_case(self, prompt: Prompt) -> Decimal:
        cap = completion_cap(self.max_completion_tokens, prompt.symbols)
        usage = Usage(input_tokens=prompt.prompt_tokens, output_tokens=cap)
        return pricing.cost(usage, self.price)

    async def complete(self, prompt: Prompt) -> Completion:
        worst = self.worst_case(prompt)
        if self.spent + self._reserved + worst > self.max_cost:
            raise BudgetExhaustedError(self.max_cost, self.spent + self._reserved)
        self._reserved += worst
        try:
            completion = await self.wrapped.complete(prompt)
        except SymbolFailure as failure:
            self.spent += pricing.cost(failure.usage, self.price)
            raise
        finally:
            self._reserved -= worst
        self.spent += pricing.cost(completion.usage, self.price)
        return completion

"""The generation engine: many symbol contexts in, one summary or one honest failure each out.

Identical prompts in a batch are asked once, results come back in request order, one failing
symbol never stops the others, and a job-level failure (no quota, bad key, unknown model)
stops everything not yet sent while keeping everything already paid for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from doctown import events, pricing
from doctown.backends.base import Backend, Completion
from doctown.errors import JobAbortedError, SymbolFailure
from doctown.generation.budget import BudgetBackend
from doctown.generation.cache import CachingBackend, SummaryCache
from doctown.generation.limits import ConcurrencyLimitedBackend, StopOnAbortBackend
from doctown.generation.retry import DEFAULT_MAX_ATTEMPTS, INITIAL_RETRY_DELAY, RetryingBackend
from doctown.prompts import Prompt, PromptBuilder
from doctown.schemas import (
    DocumentedSymbol,
    EstimateResponse,
    FailedSymbol,
    GenerateResponse,
    JobError,
    JobStatus,
    SymbolInput,
    UsageReport,
)
from doctown.usage import Usage, total

SOURCE = "doctown.generation"


@dataclass(frozen=True)
class PlannedSymbol:
    symbol_id: str
    prompt: Prompt


@dataclass
class _Outcome:
    completion: Completion | None
    failure: SymbolFailure | None
    duration_ms: int


def usage_report(usage: Usage, cost: Decimal) -> UsageReport:
    return UsageReport(
        input_tokens=usage.input_tokens,
        cached_tokens=usage.cached_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        requests=usage.requests,
        cost=pricing.as_float(cost),
    )


class GenerationEngine:
    """Documents batches of symbols with one backend, wrapped in retry and concurrency policy."""

    def __init__(
        self,
        backend: Backend,
        prompt_builder: PromptBuilder,
        *,
        max_concurrency: int = 10,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        semaphore: asyncio.Semaphore | None = None,
        retry_initial_delay: float = INITIAL_RETRY_DELAY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        warnings: Sequence[str] = (),
        cache: SummaryCache | None = None,
    ) -> None:
        self.backend = backend
        self.prompt_builder = prompt_builder
        self.max_concurrency = max_concurrency
        self.max_attempts = max_attempts
        # Shared across jobs when given, so concurrent batches respect one global bound.
        self._semaphore = semaphore or asyncio.Semaphore(max_concurrency)
        self._retry_initial_delay = retry_initial_delay
        self._sleep = sleep
        self.standing_warnings = list(warnings)
        self.cache = cache

    def plan(self, symbols: Sequence[SymbolInput]) -> list[PlannedSymbol]:
        """The prompt each symbol would be sent with (no call is made)."""
        return [PlannedSymbol(s.symbol_id, self.prompt_builder.build(s.context)) for s in symbols]

    def estimate(self, job_id: str, symbols: Sequence[SymbolInput]) -> EstimateResponse:
        """Exact prompt tokens and a cost range, without calling the model.

        The low end assumes empty answers; the high end assumes every answer (reasoning
        included) uses the whole completion cap. Identical prompts are counted once.
        """
        unique = {p.prompt.key: p.prompt for p in self.plan(symbols)}
        prompt_tokens = sum(p.prompt_tokens for p in unique.values())
        cap = self.backend.max_completion_tokens
        price = self.backend.price
        low = pricing.cost(Usage(input_tokens=prompt_tokens), price)
        high = pricing.cost(
            Usage(input_tokens=prompt_tokens, output_tokens=cap * len(unique)), price
        )
        return EstimateResponse(
            job_id=job_id,
            symbols=len(symbols),
            unique_prompts=len(unique),
            prompt_tokens=prompt_tokens,
            max_completion_tokens=cap,
            cost_min=pricing.as_float(low),
            cost_max=pricing.as_float(high),
            backend=self.backend.name,
            model=self.backend.model,
        )

    def _job_backend(self, max_cost: Decimal | None) -> tuple[Backend, StopOnAbortBackend]:
        """The policy stack for one job, outermost first: cache, retry, concurrency, stop, budget.

        Cache hits take no slot and spend nothing; the stop and budget checks run after a slot
        is granted, right before a request would be sent.
        """
        inner: Backend = self.backend
        if max_cost is not None:
            inner = BudgetBackend(inner, max_cost=max_cost)
        gate = StopOnAbortBackend(inner)
        limited = ConcurrencyLimitedBackend(
            gate, limit=self.max_concurrency, semaphore=self._semaphore
        )
        stack: Backend = RetryingBackend(
            limited,
            max_attempts=self.max_attempts,
            initial_delay=self._retry_initial_delay,
            sleep=self._sleep,
        )
        if self.cache is not None:
            stack = CachingBackend(stack, self.cache)
        return stack, gate

    async def generate(
        self,
        job_id: str,
        symbols: Sequence[SymbolInput],
        *,
        subscribers: Sequence[events.Subscriber] = (),
        emitter: events.EventEmitter | None = None,
        max_cost: Decimal | None = None,
    ) -> GenerateResponse:
        """Document `symbols`; `emitter` lets a pipeline number its events as one stream."""
        started = time.monotonic()
        if emitter is None:
            emitter = events.EventEmitter(job_id, source=SOURCE, subscribers=list(subscribers))
        planned = self.plan(symbols)
        first_by_key: dict[str, PlannedSymbol] = {}
        for item in planned:
            first_by_key.setdefault(item.prompt.key, item)
        emitter.emit(
            events.GENERATION_STARTED,
            {
                "symbol_count": len(planned),
                "unique_prompts": len(first_by_key),
                "prompt_tokens": sum(p.prompt.prompt_tokens for p in first_by_key.values()),
                "backend": self.backend.name,
                "model": self.backend.model,
                "max_concurrency": self.max_concurrency,
            },
            source=SOURCE,
        )
        backend, gate = self._job_backend(max_cost)
        price = self.backend.price
        documented: list[DocumentedSymbol] = []
        failed: list[FailedSymbol] = []
        warnings = list(self.standing_warnings)
        usages: list[Usage] = []

        def report(item: PlannedSymbol, outcome: _Outcome) -> None:
            """Record and announce one symbol's result (called as each one finishes)."""
            source = first_by_key[item.prompt.key]
            reused = source.symbol_id if source is not item else None
            if outcome.completion is not None:
                usage = outcome.completion.usage if reused is None else Usage()
                cost = pricing.cost(usage, price)
                entry = DocumentedSymbol(
                    symbol_id=item.symbol_id,
                    summary=outcome.completion.output.summary,
                    tokens_used=usage.total_tokens,
                    input_tokens=usage.input_tokens,
                    cached_tokens=usage.cached_tokens,
                    output_tokens=usage.output_tokens,
                    reasoning_tokens=usage.reasoning_tokens,
                    cost=pricing.as_float(cost),
                    attempts=outcome.completion.attempts if reused is None else 0,
                    reused_from=reused,
                    cached=outcome.completion.cached,
                )
                documented.append(entry)
                emitter.emit(
                    events.GENERATION_SYMBOL_DOCUMENTED,
                    entry.model_dump(exclude_none=True) | {"duration_ms": outcome.duration_ms},
                    source=SOURCE,
                )
            else:
                assert outcome.failure is not None
                usage = outcome.failure.usage if reused is None else Usage()
                cost = pricing.cost(usage, price)
                failure = FailedSymbol(
                    symbol_id=item.symbol_id,
                    reason=outcome.failure.reason,
                    message=str(outcome.failure),
                    tokens_used=usage.total_tokens,
                    cost=pricing.as_float(cost),
                    attempts=outcome.failure.attempts if reused is None else 0,
                )
                failed.append(failure)
                warnings.append(f"{item.symbol_id}: {failure.reason}: {failure.message}")
                emitter.emit(
                    events.GENERATION_SYMBOL_FAILED,
                    failure.model_dump() | {"duration_ms": outcome.duration_ms},
                    source=SOURCE,
                )
            usages.append(usage)

        async def run(key: str, item: PlannedSymbol) -> None:
            outcome = await self._ask(backend, item.prompt)
            for member in members[key]:
                report(member, outcome)

        members: dict[str, list[PlannedSymbol]] = {}
        for item in planned:
            members.setdefault(item.prompt.key, []).append(item)
            if item.prompt.truncated:
                warnings.append(
                    f"{item.symbol_id}: prompt shortened to fit MAX_PROMPT_TOKENS "
                    f"({self.prompt_builder.max_prompt_tokens})"
                )
        await asyncio.gather(*(run(key, item) for key, item in first_by_key.items()))

        order = {item.symbol_id: index for index, item in enumerate(planned)}
        documented.sort(key=lambda d: order[d.symbol_id])
        failed.sort(key=lambda f: order[f.symbol_id])
        usage = total(usages)
        total_cost = pricing.cost(usage, price)
        status = _status(len(documented), len(failed), gate.stopped)
        response = GenerateResponse(
            documented_symbols=documented,
            total_tokens=usage.total_tokens,
            total_cost=pricing.as_float(total_cost),
            job_id=job_id,
            status=status,
            failed_symbols=failed,
            warnings=warnings,
            usage=usage_report(usage, total_cost),
            backend=self.backend.name,
            model=self.backend.model,
            preview=self.backend.preview,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=JobError(type=gate.stopped.reason, message=str(gate.stopped))
            if gate.stopped
            else None,
        )
        emitter.emit(
            events.GENERATION_COMPLETED,
            {
                "documented": len(documented),
                "failed": len(failed),
                "total_tokens": response.total_tokens,
                "total_cost": response.total_cost,
                "usage": response.usage.model_dump(),
                "duration_ms": response.duration_ms,
                "warnings": warnings,
                **({"error": response.error.model_dump()} if response.error else {}),
            },
            status=status,
            source=SOURCE,
        )
        return response

    async def _ask(self, backend: Backend, prompt: Prompt) -> _Outcome:
        started = time.monotonic()
        try:
            completion = await backend.complete(prompt)
        except SymbolFailure as failure:
            return _Outcome(None, failure, _elapsed_ms(started))
        except JobAbortedError as error:
            aborted = SymbolFailure(str(error))
            aborted.reason = error.reason
            return _Outcome(None, aborted, _elapsed_ms(started))
        return _Outcome(completion, None, _elapsed_ms(started))


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _status(documented: int, failed: int, stopped: JobAbortedError | None) -> JobStatus:
    if stopped is not None:
        return "aborted"
    if failed == 0:
        return "success"
    return "partial" if documented else "failed"

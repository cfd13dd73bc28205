"""The generation engine: many symbol contexts in, one summary or one honest failure each out.

Identical prompts in a batch are asked once, results come back in request order, one failing
symbol never stops the others, and a job-level failure (no quota, bad key, unknown model)
stops everything not yet sent while keeping everything already paid for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from doctown import events, pricing
from doctown.backends.base import Backend, Completion, completion_cap
from doctown.backends.formats import OutputFormat
from doctown.errors import JobAbortedError, SymbolFailure
from doctown.generation.answered import Answer, AnsweredBackend
from doctown.generation.budget import BudgetBackend
from doctown.generation.cache import CachingBackend, SummaryCache
from doctown.generation.grounding import GroundingBackend, GroundingPolicy
from doctown.generation.grouping import Grouping, GroupingBackend, Request
from doctown.generation.limits import ConcurrencyLimitedBackend, StopOnAbortBackend
from doctown.generation.retry import DEFAULT_MAX_ATTEMPTS, INITIAL_RETRY_DELAY, RetryingBackend
from doctown.generation.reuse import ReusingBackend, SummarySource
from doctown.prompts import Prompt, PromptBuilder
from doctown.redaction import redact
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
# Symbols planned before their requests are sent, at least; more when concurrency is higher.
PLAN_SLICE_MIN = 50


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


@dataclass(frozen=True)
class DependencyOrder:
    """Waves of symbol ids (callees before callers) and each symbol's callees.

    `callees` maps a symbol id to (name shown in its prompt, callee symbol id) pairs.
    """

    waves: list[list[str]]
    callees: dict[str, list[tuple[str, str]]]

    def enrich(self, symbol: SymbolInput, summaries: dict[str, str]) -> SymbolInput:
        """`symbol` with the summaries already written for its callees."""
        known = {
            name: summaries[callee]
            for name, callee in self.callees.get(symbol.symbol_id, [])
            if callee in summaries and callee != symbol.symbol_id
        }
        if not known:
            return symbol
        context = symbol.context.model_copy(update={"callee_summaries": known})
        return SymbolInput.model_construct(symbol_id=symbol.symbol_id, context=context)


class _Job:
    """One call of `generate`: its policy stack, what it has asked, and what came back."""

    def __init__(
        self,
        engine: GenerationEngine,
        backend: Backend,
        emitter: events.EventEmitter,
        on_prompt: Callable[[str, Prompt], None] | None = None,
    ) -> None:
        self.engine = engine
        self.backend = backend
        self.emitter = emitter
        self.on_prompt = on_prompt
        self.price = engine.backend.price
        self.batch_price = pricing.batch_price(self.price)
        self.costs: list[Decimal] = []
        self.first: dict[str, PlannedSymbol] = {}  # prompt key -> the symbol that asked it
        self.members: dict[str, list[PlannedSymbol]] = {}  # prompt key -> symbols sharing it
        self.reported: set[str] = set()  # prompt keys whose members were reported
        self.outcomes: dict[str, _Outcome] = {}
        self.summaries: dict[str, str] = {}  # symbol id -> summary, for later waves
        self.documented: list[DocumentedSymbol] = []
        self.failed: list[FailedSymbol] = []
        self.warnings = list(engine.standing_warnings)
        self.usages: list[Usage] = []
        self.tasks: list[asyncio.Task[None]] = []
        # Results are announced only after generation.started: the first requests go out
        # while the rest of the batch is still being planned.
        self.announced = asyncio.Event()

    def submit(self, planned: Sequence[PlannedSymbol]) -> None:
        """Start asking every new prompt in `planned`; identical prompts share one answer."""
        for item in planned:
            if self.on_prompt is not None:
                self.on_prompt(item.symbol_id, item.prompt)
            if item.prompt.truncated:
                self.warnings.append(
                    f"{item.symbol_id}: prompt shortened to fit MAX_PROMPT_TOKENS "
                    f"({self.engine.prompt_builder.max_prompt_tokens})"
                )
            key = item.prompt.key
            if key in self.reported:  # answered and announced already (an earlier wave)
                self.report(item, self.outcomes[key])
            elif key in self.members:
                self.members[key].append(item)
            else:
                self.first[key] = item
                self.members[key] = [item]
                self.tasks.append(asyncio.create_task(self.ask(key)))

    async def ask(self, key: str) -> None:
        outcome = await _ask(self.backend, self.first[key].prompt)
        self.outcomes[key] = outcome
        await self.announced.wait()
        self.reported.add(key)
        for member in self.members[key]:
            self.report(member, outcome)

    async def wait(self) -> None:
        """Until every prompt submitted so far has been answered and reported."""
        tasks, self.tasks = self.tasks, []
        await asyncio.gather(*tasks)

    def report(self, item: PlannedSymbol, outcome: _Outcome) -> None:
        """Record and announce one symbol's result (called as each one finishes)."""
        source = self.first[item.prompt.key]
        reused = source.symbol_id if source is not item else None
        if outcome.completion is not None:
            completion = outcome.completion
            usage = completion.usage if reused is None else Usage()
            price = self.batch_price if completion.batch else self.price
            cost = pricing.cost(usage, price)
            made = completion.cost_to_make
            entry = DocumentedSymbol(
                symbol_id=item.symbol_id,
                summary=completion.summary,
                tokens_used=usage.total_tokens,
                input_tokens=usage.input_tokens,
                cached_tokens=usage.cached_tokens,
                output_tokens=usage.output_tokens,
                reasoning_tokens=usage.reasoning_tokens,
                cost=pricing.as_float(cost),
                attempts=completion.attempts if reused is None else 0,
                reused_from=reused,
                cached=completion.cached,
                original_usage=(
                    usage_report(made, pricing.cost(made, price)) if made != usage else None
                ),
                reasked=completion.reasked,
                ungrounded=list(completion.ungrounded),
                output_format=completion.output_format.value,
                batch=completion.batch,
            )
            if completion.output_format is OutputFormat.TEXT:
                self.warnings.append(
                    f"{item.symbol_id}: the answer held no JSON; its text was taken as the "
                    "summary (output_format text)"
                )
            if entry.ungrounded:
                self.warnings.append(
                    f"{item.symbol_id}: ungrounded: the summary names "
                    f"{', '.join(entry.ungrounded)}, which exist nowhere (kept, marked)"
                )
            self.documented.append(entry)
            if not entry.ungrounded:  # a caller is never told something made up
                self.summaries[item.symbol_id] = entry.summary
            self.emitter.emit(
                events.GENERATION_SYMBOL_DOCUMENTED,
                entry.model_dump(exclude_none=True) | {"duration_ms": outcome.duration_ms},
                source=SOURCE,
            )
        else:
            assert outcome.failure is not None
            usage = outcome.failure.usage if reused is None else Usage()
            cost = pricing.cost(usage, self.batch_price if outcome.failure.batch else self.price)
            failure = FailedSymbol(
                symbol_id=item.symbol_id,
                reason=outcome.failure.reason,
                message=redact(str(outcome.failure)),
                tokens_used=usage.total_tokens,
                cost=pricing.as_float(cost),
                attempts=outcome.failure.attempts if reused is None else 0,
            )
            self.failed.append(failure)
            self.warnings.append(f"{item.symbol_id}: {failure.reason}: {failure.message}")
            self.emitter.emit(
                events.GENERATION_SYMBOL_FAILED,
                failure.model_dump() | {"duration_ms": outcome.duration_ms},
                source=SOURCE,
            )
        self.usages.append(usage)
        self.costs.append(cost)

    def finish(
        self, job_id: str, order: list[str], stopped: JobAbortedError | None, started: float
    ) -> GenerateResponse:
        """The response, in request order, and the terminal event."""
        position = {symbol_id: index for index, symbol_id in enumerate(order)}
        self.documented.sort(key=lambda d: position[d.symbol_id])
        self.failed.sort(key=lambda f: position[f.symbol_id])
        usage = total(self.usages)
        total_cost = sum(self.costs, Decimal(0))  # answers may be billed at different prices
        status = _status(len(self.documented), len(self.failed), stopped)
        backend = self.engine.backend
        response = GenerateResponse(
            documented_symbols=self.documented,
            total_tokens=usage.total_tokens,
            total_cost=pricing.as_float(total_cost),
            job_id=job_id,
            status=status,
            failed_symbols=self.failed,
            warnings=self.warnings,
            usage=usage_report(usage, total_cost),
            backend=backend.name,
            model=backend.model,
            preview=backend.preview,
            duration_ms=_elapsed_ms(started),
            error=JobError(type=stopped.reason, message=redact(str(stopped))) if stopped else None,
        )
        self.emitter.emit(
            events.GENERATION_COMPLETED,
            {
                "documented": len(self.documented),
                "failed": len(self.failed),
                "total_tokens": response.total_tokens,
                "total_cost": response.total_cost,
                "usage": response.usage.model_dump(),
                "duration_ms": response.duration_ms,
                "warnings": self.warnings,
                **({"error": response.error.model_dump()} if response.error else {}),
            },
            status=status,
            source=SOURCE,
        )
        return response


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
        grouping: Grouping | None = None,
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
        # Several symbols of a file per request, when the backend can answer that way.
        self.grouping = grouping if backend.supports_groups else None

    def plan(self, symbols: Sequence[SymbolInput]) -> list[PlannedSymbol]:
        """The prompt each symbol would be sent with (no call is made)."""
        return [PlannedSymbol(s.symbol_id, self.prompt_builder.build(s.context)) for s in symbols]

    def requests_for(self, prompts: Collection[Prompt]) -> list[Request]:
        """The requests that would ask `prompts`: several symbols of a file in one when the
        engine groups them, else one each."""
        if self.grouping is None:
            return [Request(prompt, (prompt,)) for prompt in prompts]
        return self.grouping.requests(prompts)

    def cost_range(
        self, prompts: Collection[Prompt], *, batch: bool = False
    ) -> tuple[int, Decimal, Decimal]:
        """Prompt tokens of the requests that would ask `prompts` and what sending them costs:
        with empty answers (low) and with every answer, reasoning included, using the whole
        completion cap (high). `batch` prices them at the Batch API's price."""
        return self.price(self.requests_for(prompts), batch=batch)

    def price(
        self, requests: Sequence[Request], *, batch: bool = False
    ) -> tuple[int, Decimal, Decimal]:
        """Prompt tokens of `requests` and the cost range of sending them (see `cost_range`);
        a group's request has room for each of its summaries (`completion_cap`)."""
        sent = [request.prompt for request in requests]
        tokens = sum(prompt.prompt_tokens for prompt in sent)
        price = pricing.batch_price(self.backend.price) if batch else self.backend.price
        cap = self.backend.max_completion_tokens
        answers = sum(completion_cap(cap, prompt.symbols) for prompt in sent)
        low = pricing.cost(Usage(input_tokens=tokens), price)
        high = pricing.cost(Usage(input_tokens=tokens, output_tokens=answers), price)
        return tokens, low, high

    def estimate(self, job_id: str, symbols: Sequence[SymbolInput]) -> EstimateResponse:
        """Exact prompt tokens and a cost range, without calling the model.

        The low end assumes empty answers; the high end assumes every answer (reasoning
        included) uses the whole completion cap. Identical prompts are counted once.
        """
        unique = {p.prompt.key: p.prompt for p in self.plan(symbols)}
        requests = self.requests_for(unique.values())
        prompt_tokens, low, high = self.price(requests)
        return EstimateResponse(
            job_id=job_id,
            symbols=len(symbols),
            unique_prompts=len(unique),
            requests=len(requests),
            prompt_tokens=prompt_tokens,
            max_completion_tokens=self.backend.max_completion_tokens,
            cost_min=pricing.as_float(low),
            cost_max=pricing.as_float(high),
            backend=self.backend.name,
            model=self.backend.model,
        )

    def _job_backend(
        self,
        max_cost: Decimal | None,
        grounding: GroundingPolicy | None,
        answers: Mapping[str, Answer] | None = None,
        stop: asyncio.Event | None = None,
        reuse: SummarySource | None = None,
    ) -> tuple[Backend, StopOnAbortBackend, CachingBackend | None]:
        """The policy stack for one job, outermost first: reuse, grounding, answers given in
        advance, cache, grouping, retry, concurrency, stop, budget.

        Reused answers (a previous pack's) are settled, so nothing checks them again. Grounding
        sits outside the cache so that a rerun replays the check and any re-ask from the cache.
        Cache hits take no slot and spend nothing; the stop and budget checks run after a slot
        is granted, right before a request would be sent. Grouping sits below the cache (and
        reuse), so only the prompts neither can answer are combined, each answer still cached
        under its own symbol's prompt, and above the request policies, which then see one
        request per group. Answers given in advance (a Batch API result, already in the cache)
        were paid for at the batch price: they leave what is left of `max_cost` to the requests
        still to send.
        """
        if answers and max_cost is not None:
            max_cost -= self._answers_cost(answers)
        inner: Backend = self.backend
        if max_cost is not None:
            inner = BudgetBackend(inner, max_cost=max_cost)
        gate = StopOnAbortBackend(inner, cancel=stop)
        limited = ConcurrencyLimitedBackend(
            gate, limit=self.max_concurrency, semaphore=self._semaphore
        )
        stack: Backend = RetryingBackend(
            limited,
            max_attempts=self.max_attempts,
            initial_delay=self._retry_initial_delay,
            sleep=self._sleep,
        )
        if self.grouping is not None:
            stack = GroupingBackend(stack, self.grouping)
        caching = CachingBackend(stack, self.cache) if self.cache is not None else None
        if caching is not None:
            stack = caching
        if answers:
            stack = AnsweredBackend(stack, answers)
        if grounding is not None:
            stack = GroundingBackend(
                stack,
                table=grounding.table,
                strict=grounding.strict,
                count_tokens=self.prompt_builder.counter.count_messages,
            )
        if reuse is not None:
            stack = ReusingBackend(stack, reuse)
        return stack, gate, caching

    def _answers_cost(self, answers: Mapping[str, Answer]) -> Decimal:
        batch_price = pricing.batch_price(self.backend.price)
        return sum(
            (
                pricing.cost(answer.usage, batch_price if answer.batch else self.backend.price)
                for answer in answers.values()
            ),
            Decimal(0),
        )

    async def generate(
        self,
        job_id: str,
        symbols: Sequence[SymbolInput],
        *,
        subscribers: Sequence[events.Subscriber] = (),
        emitter: events.EventEmitter | None = None,
        max_cost: Decimal | None = None,
        grounding: GroundingPolicy | None = None,
        order: DependencyOrder | None = None,
        planned: Sequence[PlannedSymbol] | None = None,
        answers: Mapping[str, Answer] | None = None,
        stop: asyncio.Event | None = None,
        reuse: SummarySource | None = None,
        on_prompt: Callable[[str, Prompt], None] | None = None,
    ) -> GenerateResponse:
        """Document `symbols`, in request order.

        `emitter` lets a pipeline number its events as one stream. `order` generates in waves
        (callees before callers), each caller's prompt carrying its callees' summaries.
        `planned` gives prompts already built for `symbols` (same order), so they are not
        built twice. `answers` holds answers obtained in advance by prompt key (a Batch API
        result); prompts without one are sent as usual. Once `stop` is set, nothing more is
        sent (the job ends `cancelled`); requests in flight finish and are kept. `reuse`
        answers before anything else (a previous pack's unchanged summaries). `on_prompt` is
        told each symbol's prompt exactly as it is asked (with any callee summaries).
        """
        started = time.monotonic()
        if emitter is None:
            emitter = events.EventEmitter(job_id, source=SOURCE, subscribers=list(subscribers))
        backend, gate, caching = self._job_backend(max_cost, grounding, answers, stop, reuse)
        job = _Job(self, backend, emitter, on_prompt)
        if order is None and planned is None:
            initial = await self._plan_while_asking(job, symbols)
        elif planned is not None:
            initial = list(planned)
        else:
            initial = await asyncio.to_thread(self.plan, symbols)
        unique = {item.prompt.key: item.prompt for item in initial}
        waves = order.waves if order is not None else [[s.symbol_id for s in symbols]]
        emitter.emit(
            events.GENERATION_STARTED,
            {
                "symbol_count": len(symbols),
                "unique_prompts": len(unique),
                "prompt_tokens": sum(p.prompt_tokens for p in unique.values()),
                "waves": len(waves),
                "backend": self.backend.name,
                "model": self.backend.model,
                "max_concurrency": self.max_concurrency,
            },
            source=SOURCE,
        )
        job.announced.set()
        if order is None:
            if planned is not None:
                job.submit(initial)
            await job.wait()
        else:
            by_id = {s.symbol_id: s for s in symbols}
            for wave in waves:
                enriched = [order.enrich(by_id[i], job.summaries) for i in wave]
                job.submit(await asyncio.to_thread(self.plan, enriched))
                await job.wait()
        if caching is not None:
            job.warnings.extend(caching.warnings)
        return job.finish(job_id, [s.symbol_id for s in symbols], gate.stopped, started)

    async def answer(
        self,
        prompts: Mapping[str, Prompt],
        *,
        max_cost: Decimal | None = None,
        grounding: GroundingPolicy | None = None,
        answers: Mapping[str, Answer] | None = None,
        stop: asyncio.Event | None = None,
        reuse: SummarySource | None = None,
    ) -> tuple[dict[str, Completion | SymbolFailure], JobAbortedError | None]:
        """Answer prompts that were built elsewhere (overviews), by name, through the same
        policy stack as symbols: reuse, grounding, cache, retry, concurrency, stop and budget.

        Identical prompts are asked once. Returns each name's completion or failure, and the
        job-level stop that ended the run early, if one did.
        """
        backend, gate, _ = self._job_backend(max_cost, grounding, answers, stop, reuse)
        asked: dict[str, asyncio.Task[_Outcome]] = {}
        for prompt in prompts.values():
            if prompt.key not in asked:
                asked[prompt.key] = asyncio.create_task(_ask(backend, prompt))
        await asyncio.gather(*asked.values())
        results: dict[str, Completion | SymbolFailure] = {}
        reported: set[str] = set()
        for name, prompt in prompts.items():
            outcome = asked[prompt.key].result()
            if outcome.completion is not None and prompt.key in reported:
                # Paid once: the others that asked the same thing record no new spending.
                made = outcome.completion.cost_to_make
                results[name] = replace(outcome.completion, usage=Usage(), original_usage=made)
            else:
                results[name] = outcome.completion or outcome.failure  # type: ignore[assignment]
            reported.add(prompt.key)
        return results, gate.stopped

    async def _plan_while_asking(
        self, job: _Job, symbols: Sequence[SymbolInput]
    ) -> list[PlannedSymbol]:
        """Plan `symbols` a slice at a time, sending each slice's requests before the next."""
        planned: list[PlannedSymbol] = []
        step = max(PLAN_SLICE_MIN, self.max_concurrency)
        for start in range(0, len(symbols), step):
            # Building and counting prompts is CPU work: in a thread, so that a large batch
            # stalls neither the requests already sent nor a worker's other routes.
            chunk = await asyncio.to_thread(self.plan, symbols[start : start + step])
            job.submit(chunk)
            planned.extend(chunk)
        return planned


async def _ask(backend: Backend, prompt: Prompt) -> _Outcome:
    """One symbol's outcome; a job-level stop becomes this symbol's failure reason."""
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

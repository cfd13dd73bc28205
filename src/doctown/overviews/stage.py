"""The overview stage of a build: modules, then clusters, then the repository.

Each level's prompts go through the generation engine's policy stack (grounding and its
re-ask, the cache, retries, concurrency, the stop and the cost cap), so overviews are cached,
resumable and capped exactly like symbol summaries. A context too large for one prompt is
summarised in groups first. The same walk, with an answerer that only looks in the cache and
estimates the rest, prices the stage before anything is spent (`plan`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import get_origin

from doctown import events, pricing
from doctown.analysis import Symbol
from doctown.backends.base import Completion
from doctown.errors import JobAbortedError, NotAttemptedError, SymbolFailure
from doctown.generation.cache import SummaryCache, cached_answer
from doctown.generation.engine import GenerationEngine
from doctown.generation.grounding import GroundingPolicy
from doctown.generation.reuse import SummarySource
from doctown.overviews.derived import derived_module_overview
from doctown.overviews.levels import (
    Written,
    cluster_context,
    module_context,
    repository_context,
    split,
    with_groups,
)
from doctown.overviews.prompts import OverviewPromptBuilder
from doctown.overviews.schemas import REPOSITORY, Level, OverviewContext, cluster_ref, module_ref
from doctown.overviews.structure import Structure
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput
from doctown.usage import Usage

SOURCE = "doctown.overviews"
OVERVIEW_DOCUMENTED = "generation.overview_documented.v1"
OVERVIEW_FAILED = "generation.overview_failed.v1"
LEVELS: tuple[Level, ...] = ("group", "module", "cluster", "repository")
# What a dry run assumes an answer it cannot know yet holds: about 30 tokens for a symbol
# summary, 80 for an overview (measured on the fake server and the embedded model).
ESTIMATED_SUMMARY = " ".join(["summary"] * 30)
ESTIMATED_OVERVIEW = " ".join(["overview"] * 80)

Answer = Completion | SymbolFailure
Answerer = Callable[[dict[str, Prompt], Level], Awaitable[dict[str, Answer]]]


@dataclass
class LevelFigures:
    """What one level asked: calls, cache hits, prompt tokens, usage and cost."""

    calls: int = 0
    cached: int = 0
    derived: int = 0  # written without a call, from the summaries alone
    prompt_tokens: int = 0  # of the prompts sent (or, in a plan, to send)
    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal(0)


@dataclass(frozen=True)
class OverviewResult:
    """One overview: the context it was written from, its prompt, and its answer or failure."""

    ref: str
    level: Level
    context: OverviewContext
    prompt: Prompt
    answer: Answer
    groups: tuple[str, ...] = ()
    derived: bool = False  # put together without a call (see `derived.py`)


@dataclass
class OverviewRun:
    """Every overview of a build, level by level, and what they cost."""

    results: dict[str, OverviewResult] = field(default_factory=dict)
    figures: dict[Level, LevelFigures] = field(
        default_factory=lambda: {level: LevelFigures() for level in LEVELS}
    )
    stopped: JobAbortedError | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def usage(self) -> Usage:
        total = Usage()
        for figures in self.figures.values():
            total = total + figures.usage
        return total

    @property
    def cost(self) -> Decimal:
        return sum((f.cost for f in self.figures.values()), Decimal(0))

    @property
    def calls(self) -> int:
        return sum(f.calls for f in self.figures.values())


class OverviewStage:
    """Writes the overviews of one repository, bottom-up, with one engine."""

    def __init__(
        self,
        engine: GenerationEngine,
        builder: OverviewPromptBuilder,
        structure: Structure,
        symbols: Mapping[str, Symbol],
        *,
        emitter: events.EventEmitter | None = None,
        grounding: GroundingPolicy | None = None,
        derive: bool = False,
    ) -> None:
        """With `derive` (as `doctown build` does), a module of one documented symbol is
        written without a call (`derived.py`); without it, every module is asked (what
        `doctown eval` scores, and what a backend that makes no call writes itself)."""
        self.engine = engine
        self.derive = derive
        self.builder = builder
        self.structure = structure
        self.symbols = symbols
        self.emitter = emitter
        self.grounding = grounding

    async def run(
        self,
        summaries: Mapping[str, str],
        *,
        max_cost: Decimal | None = None,
        answers: Callable[[dict[str, Prompt]], Awaitable[Mapping[str, Answer]]] | None = None,
        stopped: JobAbortedError | None = None,
        levels: Collection[Level] = ("module", "cluster", "repository"),
        stop: asyncio.Event | None = None,
        reuse: SummarySource | None = None,
    ) -> OverviewRun:
        """Ask for every overview; `summaries` are the symbols' (grounded) summaries.

        `max_cost` caps this stage's spending; `answers` obtains answers in advance for a
        level's prompts, by prompt key (the Batch API), which the engine then reports like any
        other. With `stopped` (the job stopped before this stage), nothing is attempted.
        `levels` leaves out the levels not named (evaluation asks for modules alone). Once
        `stop` is set (the job is cancelled), nothing more is sent. `reuse` answers first
        (a previous pack's overviews of unchanged prompts).
        """
        run = OverviewRun(stopped=stopped)
        price = self.engine.backend.price

        async def ask(prompts: dict[str, Prompt], level: Level) -> dict[str, Answer]:
            if run.stopped is not None:
                return {name: NotAttemptedError(run.stopped) for name in prompts}
            remaining = None if max_cost is None else max(max_cost - run.cost, Decimal(0))
            unique = {prompt.key: prompt for prompt in prompts.values()}
            given = await answers(unique) if answers is not None else None
            results, stopped = await self.engine.answer(
                prompts,
                max_cost=remaining,
                grounding=self.grounding,
                answers=given,
                stop=stop,
                reuse=reuse,
            )
            run.stopped = run.stopped or stopped
            figures = run.figures[level]
            batch_price = pricing.batch_price(price)
            for name, answer in results.items():
                usage = answer.usage
                billed = batch_price if getattr(answer, "batch", False) else price
                figures.usage = figures.usage + usage
                figures.cost += pricing.cost(usage, billed)
                cached = isinstance(answer, Completion) and answer.cached
                figures.cached += cached
                if usage.requests:
                    figures.calls += 1
                    figures.prompt_tokens += prompts[name].prompt_tokens
                self._announce(name, level, answer, usage, pricing.cost(usage, billed))
            return results

        await self.walk(ask, summaries, run, levels=levels)
        return run

    async def plan(
        self,
        summaries: Mapping[str, str | None],
        cache: SummaryCache | None,
        reuse: SummarySource | None = None,
    ) -> OverviewRun:
        """What `run` would ask, without asking: answers `reuse` or the cache hold are used as
        they are, the others are estimated (their prompts counted; a typical answer assumed).
        `summaries` maps symbol ids to their summary, or None when it is still to be written.
        """
        run = OverviewRun()
        backend = self.engine.backend

        async def look_up(prompts: dict[str, Prompt], level: Level) -> dict[str, Answer]:
            figures = run.figures[level]
            results: dict[str, Answer] = {}
            for name, prompt in prompts.items():
                found = None
                settled = ESTIMATED_SUMMARY not in prompt.messages[-1]["content"]
                reused = reuse.find(prompt) if reuse is not None and settled else None
                if reused is not None:
                    found = reused.output
                elif cache is not None and settled:
                    key = SummaryCache.key(backend.name, backend.model, prompt)
                    stored = cache.get(key)
                    found = cached_answer(stored.summary, prompt) if stored is not None else None
                if found is not None:
                    figures.cached += 1
                    results[name] = Completion(found, Usage(), cached=True)
                    continue
                figures.calls += 1
                figures.prompt_tokens += prompt.prompt_tokens
                results[name] = Completion(_estimate(prompt.output), Usage())
            return results

        known = {k: (v if v is not None else ESTIMATED_SUMMARY) for k, v in summaries.items()}
        await self.walk(look_up, known, run)
        return run

    async def walk(
        self,
        ask: Answerer,
        summaries: Mapping[str, str],
        run: OverviewRun,
        *,
        levels: Collection[Level] = ("module", "cluster", "repository"),
    ) -> None:
        """Modules, clusters, then the repository: each level's contexts built from what the
        level below wrote, large ones summarised in groups first."""
        overviews: dict[str, DocumentationOutput] = {}
        written = Written(summaries=summaries, overviews=overviews)
        structure = self.structure
        modules = {
            module_ref(path): module_context(facts, self.symbols, written)
            for path, facts in structure.modules.items()
        }
        await self._level("module", modules, ask, run, overviews)
        if "cluster" not in levels:
            return
        clusters = {
            cluster_ref(key): cluster_context(facts, structure, self.symbols, written)
            for key, facts in structure.clusters.items()
        }
        await self._level("cluster", clusters, ask, run, overviews)
        if "repository" in levels and (structure.modules or structure.clusters):
            repository = {REPOSITORY: repository_context(structure, written)}
            await self._level("repository", repository, ask, run, overviews)

    async def _level(
        self,
        level: Level,
        contexts: dict[str, OverviewContext],
        ask: Answerer,
        run: OverviewRun,
        overviews: dict[str, DocumentationOutput],
    ) -> None:
        groups_of: dict[str, list[str]] = {}
        for ref, context in list(contexts.items()) if self.derive else ():
            derived = derived_module_overview(context)
            if derived is None:
                continue
            del contexts[ref]
            prompt = self.builder.build(context)
            made = Completion(derived, Usage())
            run.results[ref] = OverviewResult(ref, level, context, prompt, made, derived=True)
            run.figures[level].derived += 1
            overviews[ref] = derived
            self._announce(ref, level, made, Usage(), Decimal(0), derived=True)
        while True:
            prompts = {ref: self.builder.build(context) for ref, context in contexts.items()}
            large = [
                ref
                for ref, prompt in prompts.items()
                if not self.builder.fits(prompt) and len(contexts[ref].items) > 1
            ]
            if not large:
                break
            groups = {ref: split(contexts[ref], self.builder) for ref in large}
            group_prompts = {g.subject: self.builder.build(g) for gs in groups.values() for g in gs}
            answered = await ask(group_prompts, "group")
            outputs = {}
            for name, answer in answered.items():
                group = group_prompts[name].context
                assert isinstance(group, OverviewContext)
                self._record(run, name, "group", group, group_prompts[name], answer)
                if _usable(answer):
                    outputs[name] = answer.single_output  # type: ignore[union-attr]
            for ref, found in groups.items():
                contexts[ref] = with_groups(contexts[ref], found, outputs)
                groups_of.setdefault(ref, []).extend(g.subject for g in found)
        answered = await ask(prompts, level)
        for ref, answer in answered.items():
            self._record(
                run, ref, level, contexts[ref], prompts[ref], answer, tuple(groups_of.get(ref, ()))
            )
            if _usable(answer):
                overviews[ref] = answer.single_output  # type: ignore[union-attr]

    def _record(
        self,
        run: OverviewRun,
        ref: str,
        level: Level,
        context: OverviewContext,
        prompt: Prompt,
        answer: Answer,
        groups: tuple[str, ...] = (),
    ) -> None:
        run.results[ref] = OverviewResult(ref, level, context, prompt, answer, groups)
        if isinstance(answer, SymbolFailure):
            run.warnings.append(f"{ref}: {answer.reason}: {answer}")
        elif answer.ungrounded:
            run.warnings.append(
                f"{ref}: ungrounded: the overview names {', '.join(answer.ungrounded)}, which "
                "exist nowhere (kept, marked)"
            )

    def _announce(
        self,
        ref: str,
        level: Level,
        answer: Answer,
        usage: Usage,
        cost: Decimal,
        *,
        derived: bool = False,
    ) -> None:
        if self.emitter is None:
            return
        payload = {
            "ref": ref,
            "level": level,
            "tokens_used": usage.total_tokens,
            "cost": pricing.as_float(cost),
        }
        if isinstance(answer, SymbolFailure):
            self.emitter.emit(
                OVERVIEW_FAILED,
                payload | {"reason": answer.reason, "message": str(answer)},
                source=SOURCE,
            )
        else:
            self.emitter.emit(
                OVERVIEW_DOCUMENTED,
                payload
                | {
                    "cached": answer.cached,
                    "ungrounded": list(answer.ungrounded),
                    "derived": derived,
                },
                source=SOURCE,
            )


def _usable(answer: Answer) -> bool:
    """An answer the level above may build on: written, and naming nothing made up."""
    return isinstance(answer, Completion) and not answer.ungrounded


def _estimate(output: type[DocumentationOutput]) -> DocumentationOutput:
    """A stand-in answer of typical length, for pricing the level above: prose fields hold
    ESTIMATED_OVERVIEW, lists are empty. It is never sent, stored or shown."""
    fields = {
        name: [] if get_origin(info.annotation) is list else ESTIMATED_OVERVIEW
        for name, info in output.model_fields.items()
    }
    return output.model_validate(fields)

"""The overview stage inside `doctown build`: planned and priced with the symbols, written
after them with the same engine, packed as overviews.json."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from doctown import events, pricing
from doctown.analysis import AnalysisResult
from doctown.backends.facts import FactsBackend
from doctown.docpack import Documentation
from doctown.docpack.overviews import Overviews
from doctown.errors import JobAbortedError, SymbolFailure
from doctown.generation.answered import Answer
from doctown.generation.cache import SummaryCache
from doctown.generation.engine import GenerationEngine
from doctown.generation.grounding import GroundingPolicy, answer_ungrounded
from doctown.generation.reuse import SummarySource
from doctown.overviews.packing import overviews_entry
from doctown.overviews.prompts import DEFAULT_MAX_OVERVIEW_PROMPT_TOKENS, OverviewPromptBuilder
from doctown.overviews.schemas import cluster_ref, module_ref
from doctown.overviews.stage import LEVELS, OverviewRun, OverviewStage
from doctown.overviews.structure import Structure, analyse_structure
from doctown.pipeline.selection import Selection
from doctown.pipeline.sources import SourceTree
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput, GenerateResponse
from doctown.usage import Usage

# Answers obtained in advance for one level's prompts, by prompt key (the Batch API).
OverviewAnswers = Callable[[Mapping[str, Prompt]], Awaitable[Mapping[str, Answer]]]


@dataclass(frozen=True)
class OverviewEstimate:
    """What the overview stage is planned to ask, before anything is spent."""

    calls: int
    cached: int
    prompt_tokens: int
    by_level: dict[str, tuple[int, int]]  # level -> (calls, prompt tokens)
    cost_min: Decimal
    cost_max: Decimal
    batch_cost_min: Decimal
    batch_cost_max: Decimal


def repository_name(tree: SourceTree) -> str:
    if tree.repo_url:
        return tree.repo_url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or "repository"
    return Path(tree.path).name if tree.path else tree.root.name


class OverviewPlanner:
    """One build's overviews: estimated in the plan, written after the symbols, packed."""

    def __init__(
        self,
        engine: GenerationEngine,
        analysis: AnalysisResult,
        tree: SourceTree,
        *,
        emitter: events.EventEmitter | None = None,
        max_prompt_tokens: int = DEFAULT_MAX_OVERVIEW_PROMPT_TOKENS,
    ) -> None:
        self.engine = engine
        self.analysis = analysis
        self.tree = tree
        self.emitter = emitter
        self.builder = OverviewPromptBuilder(
            engine.prompt_builder.counter, max_prompt_tokens=max_prompt_tokens
        )
        self.symbols = {symbol.id: symbol for symbol in analysis.symbols}
        self.name = repository_name(tree)
        self.structure: Structure | None = None
        self.run: OverviewRun | None = None
        self.estimated: OverviewEstimate | None = None

    def known_refs(self) -> set[str]:
        """Every reference an overview may make: symbol ids, modules and clusters."""
        refs = set(self.symbols)
        refs.update(module_ref(record.path) for record in self.analysis.files)
        refs.update(cluster_ref(cluster.id) for cluster in self.analysis.clusters)
        return refs

    def _structure(self, documented: set[str]) -> Structure:
        return analyse_structure(self.analysis, documented, root=self.tree.root, name=self.name)

    def _stage(
        self, engine: GenerationEngine, structure: Structure, grounding: GroundingPolicy | None
    ) -> OverviewStage:
        # The analysis-only backend makes no call to save: its own overviews name more facts.
        return OverviewStage(
            engine,
            self.builder,
            structure,
            self.symbols,
            emitter=self.emitter,
            grounding=grounding,
            derive=engine.backend.name != FactsBackend.name,
        )

    def cached_summaries(
        self, prompts: Mapping[str, Prompt], cache_keys: Mapping[str, str], cached: set[str]
    ) -> dict[str, str]:
        """The summaries already in the cache, by symbol id, that will be passed up as they
        are (grounded ones: an ungrounded answer is asked again)."""
        cache = self.engine.cache
        if cache is None:
            return {}
        known: dict[str, str] = {}
        for symbol_id, prompt in prompts.items():
            key = cache_keys.get(prompt.key)
            if key is None or key not in cached or prompt.context is None:
                continue
            found = cache.get(key)
            if found is None:
                continue
            if not answer_ungrounded(DocumentationOutput(summary=found.summary), prompt.context):
                known[symbol_id] = found.summary
        return known

    @staticmethod
    def previous_summaries(
        prompts: Mapping[str, Prompt], from_pack: Mapping[str, Documentation]
    ) -> dict[str, str]:
        """The summaries a previous pack answers (`from_pack`, by prompt key), by symbol id,
        that will be passed up as they are (grounded ones)."""
        known: dict[str, str] = {}
        for symbol_id, prompt in prompts.items():
            found = from_pack.get(prompt.key)
            if found is not None and found.grounded_summary is not None:
                known[symbol_id] = found.grounded_summary
        return known

    def estimate(
        self,
        selected: list[str],
        known: Mapping[str, str],
        cache: SummaryCache | None,
        previous: SummarySource | None = None,
    ) -> OverviewEstimate:
        """Walk the levels without a call: overviews `previous` or the cache hold are used as
        they are, the others counted and priced (their children's unknown summaries assumed a
        typical length)."""
        documented = set(selected) | set(known)
        structure = self._structure(documented)
        summaries: dict[str, str | None] = {
            symbol_id: known.get(symbol_id) for symbol_id in documented
        }
        planned = asyncio.run(
            self._stage(self.engine, structure, None).plan(summaries, cache, previous)
        )
        figures = planned.figures
        tokens = sum(f.prompt_tokens for f in figures.values())
        calls = sum(f.calls for f in figures.values())
        price = self.engine.backend.price
        cap = self.engine.backend.max_completion_tokens
        low, high = (
            Usage(input_tokens=tokens),
            Usage(input_tokens=tokens, output_tokens=cap * calls),
        )
        batch = pricing.batch_price(price)
        self.estimated = OverviewEstimate(
            calls=calls,
            cached=sum(f.cached for f in figures.values()),
            prompt_tokens=tokens,
            by_level={
                level: (figures[level].calls, figures[level].prompt_tokens) for level in LEVELS
            },
            cost_min=pricing.cost(low, price),
            cost_max=pricing.cost(high, price),
            batch_cost_min=pricing.cost(low, batch),
            batch_cost_max=pricing.cost(high, batch),
        )
        return self.estimated

    async def write(
        self,
        engine: GenerationEngine,
        selection: Selection,
        response: GenerateResponse,
        *,
        grounding: GroundingPolicy | None,
        max_cost: Decimal | None,
        answers: OverviewAnswers | None = None,
        stop: asyncio.Event | None = None,
        reuse: SummarySource | None = None,
    ) -> OverviewRun:
        """Write every overview from the summaries `response` holds (grounded ones) and the
        docstrings `selection` reused; within what `max_cost` leaves after the symbols.
        `reuse` serves the overviews whose prompts are unchanged (`build --update`)."""
        symbols = self.analysis.symbols
        summaries = {symbols[index].id: text for index, text in selection.reused.items()}
        documented = set(summaries)
        for entry in response.documented_symbols:
            documented.add(entry.symbol_id)
            if not entry.ungrounded:
                summaries[entry.symbol_id] = entry.summary
        self.structure = structure = self._structure(documented)
        stage = self._stage(engine, structure, grounding)
        remaining = None
        if max_cost is not None:
            remaining = max(max_cost - Decimal(str(response.total_cost)), Decimal(0))
        stopped = None
        if response.error is not None:
            stopped = JobAbortedError(response.error.message)
            stopped.reason = response.error.type
        self.run = await stage.run(
            summaries, max_cost=remaining, answers=answers, stopped=stopped, stop=stop, reuse=reuse
        )
        return self.run

    def entry(self, backend: str, model: str) -> Overviews:
        """overviews.json for the pack."""
        assert self.run is not None and self.structure is not None
        return overviews_entry(
            self.run,
            self.structure,
            backend=backend,
            model=model,
            preview=self.engine.backend.preview,
            price=self.engine.backend.price,
        )

    def warnings(self) -> list[str]:
        return list(self.run.warnings) if self.run is not None else []

    def report(self) -> dict[str, object]:
        """What the stage did, for the build's report and `job.completed.v1`."""
        run = self.run
        if run is None:
            return {"written": 0}
        failed = sum(isinstance(r.answer, SymbolFailure) for r in run.results.values())
        cached = sum(f.cached for f in run.figures.values())
        return {
            "overviews": len(run.results),
            "calls": run.calls,
            "cached": cached,
            "derived": sum(f.derived for f in run.figures.values()),
            "failed": failed,
            "usage": {
                "input_tokens": run.usage.input_tokens,
                "output_tokens": run.usage.output_tokens,
                "requests": run.usage.requests,
                "cost": pricing.as_float(run.cost),
            },
            "levels": {
                level: {
                    "calls": figures.calls,
                    "cached": figures.cached,
                    "derived": figures.derived,
                    "prompt_tokens": figures.prompt_tokens,
                    "cost": pricing.as_float(figures.cost),
                }
                for level, figures in run.figures.items()
            },
        }

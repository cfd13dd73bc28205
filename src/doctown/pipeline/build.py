"""`doctown build`: ingest -> assemble -> generate -> pack, as one job with one event stream.

`Build.prepare` does everything that costs nothing (open the source, analyse it, choose the
symbols, build every prompt, look each up in the cache, price the rest); `Build.generate`
spends; `Build.pack` writes the .docpack. The CLI shows the plan between the first two.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from doctown import collector, events
from doctown.analysis import AnalysisResult, analyze_repository
from doctown.analysis.cache import default_cache_dir
from doctown.docpack import Documentation, Manifest, Recipe, Source, read_docpack, write_docpack
from doctown.errors import StateFileError
from doctown.freshness.previous import PreviousPack
from doctown.freshness.reuse import ReuseRule
from doctown.generation import GenerationEngine, PlannedSymbol
from doctown.generation.answered import Answer
from doctown.generation.cache import SummaryCache
from doctown.generation.grounding import GroundingPolicy, KnownNames, answer_ungrounded
from doctown.outputs import check_writable
from doctown.overviews.prompts import DEFAULT_MAX_OVERVIEW_PROMPT_TOKENS
from doctown.pipeline.overviews import OverviewAnswers, OverviewPlanner
from doctown.pipeline.packing import Outcomes, pack_content
from doctown.pipeline.selection import DocstringMode, Selection, inputs_of, select_as
from doctown.pipeline.sources import SourceTree, open_source
from doctown.pipeline.waves import dependency_order
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput, GenerateResponse, SymbolContext, SymbolInput

if TYPE_CHECKING:
    from doctown.distributed import Distributed

SOURCE = "doctown.pipeline"


@dataclass
class BuildOptions:
    source: str
    output: Path
    source_name: str | None = None  # what the pack calls the source; default: `source`
    ref: str | None = None
    include_private: bool = False
    include_tests: bool = False
    docstrings: DocstringMode | None = None  # None: reuse for the offline preview, else context
    source_excerpt: bool | None = None  # None: on for real models, off for the offline preview
    max_cost: Decimal | None = None
    created_at: datetime | None = None
    with_contexts: bool = True
    limit: int | None = None
    callee_summaries: bool = False  # generate callees first and tell callers what they do
    grounding: bool = True  # re-ask summaries that name unknown identifiers, mark the rest
    strict_grounding: bool = False  # drop (fail) summaries still ungrounded after the re-ask
    job_id: str | None = None
    distributed: Distributed | None = None  # generate in shards on `doctown worker` processes
    update: Path | None = None  # a previous pack whose unchanged summaries are reused
    reuse_foreign: bool = False  # ... even when another model or prompt version wrote them
    overviews: bool = True  # module, cluster and repository overviews after the summaries
    max_overview_prompt_tokens: int = DEFAULT_MAX_OVERVIEW_PROMPT_TOKENS


@dataclass
class Plan:
    """What a build will do, and what it will cost, before anything is spent."""

    tree: SourceTree
    analysis: AnalysisResult
    selection: Selection
    recipe: Recipe
    inputs: list[SymbolInput]
    prompts: dict[str, Prompt]  # by symbol id: as planned, then as really asked
    unique_prompts: int
    cached_prompts: int
    prompt_tokens: int  # of the requests that will really be sent (unique and not cached)
    cost_min: Decimal
    cost_max: Decimal
    seconds: dict[str, float] = field(default_factory=dict)
    batch_cost_min: Decimal = Decimal(0)  # the same requests through the Batch API
    batch_cost_max: Decimal = Decimal(0)
    uncached: dict[str, Prompt] = field(default_factory=dict)  # prompt key -> prompt to send
    previous: PreviousPack | None = None  # with --update
    from_previous: int = 0  # unique prompts the previous pack answers
    # The overview stage: what it is planned to ask, then (after `generate`) what it wrote.
    overviews: OverviewPlanner | None = None
    # Requests that ask the uncached symbol prompts (several symbols of a file share one).
    requests: int = 0

    @property
    def to_send(self) -> int:
        return self.unique_prompts - self.from_previous - self.cached_prompts


class Build:
    """One build job. Use as a context manager: clones and unpacked archives are removed after."""

    def __init__(
        self,
        options: BuildOptions,
        engine: GenerationEngine,
        *,
        subscribers: list[events.Subscriber] | None = None,
    ) -> None:
        self.options = options
        self.engine = engine
        self.job_id = options.job_id or f"build-{int(time.time())}-{os.getpid()}"
        self.emitter = events.EventEmitter(self.job_id, source=SOURCE, subscribers=subscribers)
        self._workdir = tempfile.TemporaryDirectory(prefix="doctown-build-")
        self.started = time.monotonic()

    def __enter__(self) -> Build:
        return self

    def __exit__(self, *exc: object) -> None:
        self._workdir.cleanup()

    def prepare(self) -> Plan:
        """Open the source, analyse it, select symbols, build and price every prompt."""
        check_writable(self.options.output, what="the pack")
        seconds: dict[str, float] = {}
        clock = time.monotonic()
        tree = open_source(
            self.options.source, ref=self.options.ref, workdir=Path(self._workdir.name)
        )
        seconds["source"] = time.monotonic() - clock
        previous = self._previous_pack()
        clock = time.monotonic()
        try:
            analysis = analyze_repository(
                tree.root, emitter=self.emitter, keep_snapshot=not tree.temporary
            )
        except sqlite3.DatabaseError as exc:  # the analysis cache is the only database there
            raise StateFileError(
                f"The analysis cache in {default_cache_dir()} is corrupt ({exc}); delete "
                "analysis.sqlite there (it is rebuilt from the sources) and run again."
            ) from None
        seconds["analysis"] = time.monotonic() - clock
        clock = time.monotonic()
        recipe = self.recipe()
        with collector.paused():  # a prompt for each of thousands of symbols
            selection = select_as(analysis, recipe)
            inputs = inputs_of(selection)
            backend = self.engine.backend
            cache = self.engine.cache
            unknown: set[str] = set()  # prompt keys that can only be guessed before the run
            if self.options.callee_summaries:
                prompts, unknown = self._prompts_in_waves(analysis, inputs, previous)
            else:
                prompts = {item.symbol_id: item.prompt for item in self.engine.plan(inputs)}
            unique = {prompt.key: prompt for prompt in prompts.values()}
            # What the previous pack answers, looked up once (another template's prompt may
            # have to be built to tell).
            from_pack: dict[str, Documentation] = {}
            if previous is not None:
                for prompt in unique.values():
                    found = previous.lookup(prompt) if prompt.key not in unknown else None
                    if found is not None:
                        from_pack[prompt.key] = found
            unanswered = [prompt for prompt in unique.values() if prompt.key not in from_pack]
            cache_keys = {
                prompt.key: SummaryCache.key(backend.name, backend.model, prompt)
                for prompt in unanswered
            }
            cached = cache.contains(cache_keys.values()) if cache is not None else set()
            uncached = [
                prompt
                for prompt in unanswered
                if prompt.key in unknown or cache_keys[prompt.key] not in cached
            ]
        requests = self.engine.requests_for(uncached)
        tokens, cost_min, cost_max = self.engine.price(requests)
        _, batch_min, batch_max = self.engine.price(requests, batch=True)
        overviews = None
        if self.options.overviews:
            overviews = OverviewPlanner(
                self.engine,
                analysis,
                tree,
                emitter=self.emitter,
                max_prompt_tokens=self.options.max_overview_prompt_tokens,
            )
            known = {
                analysis.symbols[index].id: sentence for index, sentence in selection.reused.items()
            }
            if cache is not None:
                known |= overviews.cached_summaries(prompts, cache_keys, cached)
            known |= overviews.previous_summaries(prompts, from_pack)
            estimate = overviews.estimate(
                [item.symbol_id for item in inputs], known, cache, previous
            )
            tokens += estimate.prompt_tokens
            cost_min += estimate.cost_min
            cost_max += estimate.cost_max
            batch_min += estimate.batch_cost_min
            batch_max += estimate.batch_cost_max
        seconds["plan"] = time.monotonic() - clock
        return Plan(
            tree=tree,
            analysis=analysis,
            selection=selection,
            recipe=recipe,
            inputs=inputs,
            prompts=prompts,
            unique_prompts=len(unique),
            cached_prompts=len(unanswered) - len(uncached),
            prompt_tokens=tokens,
            cost_min=cost_min,
            cost_max=cost_max,
            seconds=seconds,
            batch_cost_min=batch_min,
            batch_cost_max=batch_max,
            uncached={prompt.key: prompt for prompt in uncached},
            previous=previous,
            from_previous=len(from_pack),
            overviews=overviews,
            requests=len(requests),
        )

    def _prompts_in_waves(
        self, analysis: AnalysisResult, inputs: list[SymbolInput], previous: PreviousPack | None
    ) -> tuple[dict[str, Prompt], set[str]]:
        """The prompts as `--callee-summaries` will ask them, wave by wave: each caller told
        the summaries of its callees that the previous pack or the cache already hold. A
        caller of a callee still to be asked cannot be known before that answer: its prompt
        (without that summary) is returned with its key in the second set, counted as sent."""
        order = dependency_order(analysis, [item.symbol_id for item in inputs])
        by_id = {item.symbol_id: item for item in inputs}
        backend, cache = self.engine.backend, self.engine.cache
        table = None
        if self.options.grounding or self.options.strict_grounding:
            table = KnownNames.of(symbol.qualified_name for symbol in analysis.symbols)
        prompts: dict[str, Prompt] = {}
        unknown: set[str] = set()
        asked: set[str] = set()  # symbols whose new summary is not known before the run
        known: dict[str, str] = {}
        for wave in order.waves:
            written: dict[str, str] = {}  # a wave's members are not told about each other
            for item in self.engine.plan([order.enrich(by_id[i], known) for i in wave]):
                prompts[item.symbol_id] = prompt = item.prompt
                if any(callee in asked for _, callee in order.callees.get(item.symbol_id, [])):
                    asked.add(item.symbol_id)
                    unknown.add(prompt.key)
                    continue
                found = previous.lookup(prompt) if previous is not None else None
                if found is not None:  # served as it is; a caller is never told a made-up name
                    if found.grounded_summary is not None:
                        written[item.symbol_id] = found.grounded_summary
                    continue
                hit = None
                if cache is not None:
                    hit = cache.get(SummaryCache.key(backend.name, backend.model, prompt))
                if hit is None or (table is not None and _ungrounded(hit.summary, prompt, table)):
                    asked.add(item.symbol_id)  # asked (again, if grounding rejects the hit)
                else:
                    written[item.symbol_id] = hit.summary
            known.update(written)
        return prompts, unknown

    def recipe(self) -> Recipe:
        """How this build chooses symbols and writes prompts, with every default resolved."""
        backend = self.engine.backend
        excerpt = self.options.source_excerpt
        return Recipe(
            backend=backend.name,
            model=backend.model,
            prompt_version=self.engine.prompt_builder.version,
            max_prompt_tokens=self.engine.prompt_builder.max_prompt_tokens,
            max_completion_tokens=backend.max_completion_tokens,
            include_private=self.options.include_private,
            include_tests=self.options.include_tests,
            # A human's docstring is truer than anything the preview model would make of it.
            docstrings=self.options.docstrings or ("reuse" if backend.preview else "context"),
            source_excerpt=(not backend.preview) if excerpt is None else excerpt,
            limit=self.options.limit,
            callee_summaries=self.options.callee_summaries,
        )

    def _previous_pack(self) -> PreviousPack | None:
        """The pack given to --update, read as untrusted input like any other."""
        if self.options.update is None:
            return None
        backend = self.engine.backend
        rule = ReuseRule(backend.name, backend.model, reuse_foreign=self.options.reuse_foreign)
        return PreviousPack(read_docpack(self.options.update, load_contexts=False), rule)

    async def generate(
        self,
        plan: Plan,
        *,
        answers: Mapping[str, Answer] | None = None,
        stop: asyncio.Event | None = None,
        overview_answers: OverviewAnswers | None = None,
    ) -> GenerateResponse:
        """Document the selected symbols, then write the overviews above them; every answer
        is cached the moment it arrives.

        `answers` are answers obtained in advance by prompt key (`doctown build --batch`);
        `overview_answers` obtains each overview level's answers the same way. What the
        overviews cost is in `plan.overviews.run`, the response covers the symbols.
        A cache that cannot take a write is refused here, before the first paid request.
        Setting `stop` cancels: nothing more is sent, requests in flight finish.
        """
        if plan.to_send and self.engine.cache is not None:
            self.engine.cache.check_writable()
        clock = time.monotonic()
        analysis = plan.analysis
        grounding = None
        if self.options.grounding or self.options.strict_grounding:
            table = KnownNames.of(
                (symbol.qualified_name for symbol in analysis.symbols),
                refs=plan.overviews.known_refs() if plan.overviews is not None else (),
            )
            grounding = GroundingPolicy(table=table, strict=self.options.strict_grounding)
        order = None
        if self.options.callee_summaries:
            order = dependency_order(analysis, [item.symbol_id for item in plan.inputs])
        try:
            async with AsyncExitStack() as stack:
                engine = self.engine
                if self.options.distributed is not None:
                    engine = await stack.enter_async_context(
                        self.options.distributed.engine_for(engine, self.job_id)
                    )
                response = await engine.generate(
                    self.job_id,
                    plan.inputs,
                    emitter=self.emitter,
                    max_cost=self.options.max_cost,
                    grounding=grounding,
                    order=order,
                    planned=[
                        PlannedSymbol(i.symbol_id, plan.prompts[i.symbol_id]) for i in plan.inputs
                    ],
                    answers=answers,
                    stop=stop,
                    reuse=plan.previous,
                    # waves add callee summaries to prompts
                    on_prompt=plan.prompts.__setitem__,
                )
                plan.seconds["generation"] = time.monotonic() - clock
                if plan.overviews is not None:
                    clock = time.monotonic()
                    try:
                        await plan.overviews.write(
                            engine,
                            plan.selection,
                            response,
                            grounding=grounding,
                            max_cost=self.options.max_cost,
                            answers=overview_answers,
                            stop=stop,
                            reuse=plan.previous,
                        )
                    finally:
                        plan.seconds["overviews"] = time.monotonic() - clock
                return response
        finally:
            plan.seconds.setdefault("generation", time.monotonic() - clock)

    def pack(self, plan: Plan, response: GenerateResponse) -> Manifest:
        """Write the .docpack: every symbol, documented or with the reason it is not."""
        clock = time.monotonic()
        self.emitter.emit(events.PACK_STARTED, {"output": str(self.options.output)})
        symbols = plan.analysis.symbols
        outcomes = Outcomes(
            documented={d.symbol_id: d for d in response.documented_symbols},
            reused={
                symbols[index].id: sentence for index, sentence in plan.selection.reused.items()
            },
            failed={f.symbol_id: f for f in response.failed_symbols},
            prompts=plan.prompts,
            contexts={
                symbol_id: prompt.context
                for symbol_id, prompt in plan.prompts.items()
                if isinstance(prompt.context, SymbolContext)
            },
            carried=self.carried(plan, response),
        )
        with collector.paused():  # thousands of symbols, edges and prompts, serialised
            content = pack_content(
                plan.analysis,
                outcomes,
                backend=response.backend,
                model=response.model,
                preview=response.preview,
                with_contexts=self.options.with_contexts,
                recipe=plan.recipe,
            )
            if plan.overviews is not None and plan.overviews.run is not None:
                content = replace(
                    content, overviews=plan.overviews.entry(response.backend, response.model)
                )
            manifest = write_docpack(
                self.options.output,
                content,
                source=Source(
                    repo_url=plan.tree.repo_url,
                    path=self.options.source_name or plan.tree.path,
                    git_ref=plan.tree.ref,
                    commit_hash=plan.tree.commit,
                ),
                created_at=self.created_at(plan),
            )
        plan.seconds["pack"] = time.monotonic() - clock
        self.emitter.emit(
            events.PACK_COMPLETED,
            {
                "output": str(self.options.output),
                "docpack_id": manifest.docpack_id,
                "symbols": manifest.statistics.symbol_count,
            },
        )
        return manifest

    @staticmethod
    def carried(plan: Plan, response: GenerateResponse) -> dict[str, Documentation]:
        """The documentation the previous pack answered with, by symbol id: kept as it was
        (summary, provenance, fingerprint), so a summary never claims another maker."""
        if plan.previous is None:
            return {}
        served = plan.previous.served
        return {
            d.symbol_id: served[key]
            for d in response.documented_symbols
            if d.cached and (key := plan.prompts[d.symbol_id].key) in served
        }

    def created_at(self, plan: Plan) -> datetime:
        """The pack's timestamp: given, else the commit's, else SOURCE_DATE_EPOCH, else the
        newest modification time of the files it documents. Never the clock: the same source
        must give the same pack.
        """
        if self.options.created_at is not None:
            return self.options.created_at
        if plan.tree.commit_time is not None:
            return plan.tree.commit_time
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch and epoch.isdigit():
            return datetime.fromtimestamp(int(epoch), tz=UTC)
        return newest_modification(plan.tree.root, [record.path for record in plan.analysis.files])

    def finish(self, plan: Plan, response: GenerateResponse, manifest: Manifest | None) -> None:
        """The terminal event of the whole job."""
        remaining = sum(f.reason == "not_attempted" for f in response.failed_symbols)
        self.emitter.emit(
            events.JOB_COMPLETED,
            {
                "symbols": len(plan.selection.indices),
                "documented": len(response.documented_symbols),
                "reused": len(plan.selection.reused),
                "from_previous": len(self.carried(plan, response)),
                "cached": sum(d.cached for d in response.documented_symbols),
                "failed": len(response.failed_symbols) - remaining,
                "remaining": remaining,
                "usage": response.usage.model_dump(),
                "seconds": {stage: round(value, 3) for stage, value in plan.seconds.items()},
                "docpack_id": manifest.docpack_id if manifest else None,
                "warnings": response.warnings
                + (plan.overviews.warnings() if plan.overviews is not None else []),
                **({"overviews": plan.overviews.report()} if plan.overviews is not None else {}),
            },
            status=response.status,
        )


def newest_modification(root: Path, paths: list[str]) -> datetime:
    """The latest modification time (whole seconds, UTC) of `paths` under `root`; the
    folder's own when there are none."""
    times = []
    for path in paths:
        try:
            times.append((root / path).stat().st_mtime)
        except OSError:  # removed since the analysis read it: its time is no longer known
            continue
    newest = max(times) if times else root.stat().st_mtime
    return datetime.fromtimestamp(int(newest), tz=UTC)


def _ungrounded(summary: str, prompt: Prompt, table: KnownNames) -> bool:
    """Whether grounding would ask `summary` again: it names something that does not exist."""
    context = prompt.context
    output = DocumentationOutput.model_construct(summary=summary)
    return context is not None and bool(answer_ungrounded(output, context, table))

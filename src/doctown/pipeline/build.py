"""`doctown build`: ingest -> assemble -> generate -> pack, as one job with one event stream.

`Build.prepare` does everything that costs nothing (open the source, analyse it, choose the
symbols, build every prompt, look each up in the cache, price the rest); `Build.generate`
spends; `Build.pack` writes the .docpack. The CLI shows the plan between the first two.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from doctown import events
from doctown.analysis import AnalysisResult, analyze_repository
from doctown.docpack import Manifest, Source, write_docpack
from doctown.generation import GenerationEngine, PlannedSymbol
from doctown.generation.answered import Answer
from doctown.generation.cache import SummaryCache
from doctown.generation.grounding import GroundingPolicy, SymbolTable
from doctown.overviews.prompts import DEFAULT_MAX_OVERVIEW_PROMPT_TOKENS
from doctown.pipeline.overviews import OverviewAnswers, OverviewPlanner
from doctown.pipeline.packing import Outcomes, pack_content
from doctown.pipeline.selection import DocstringMode, Selection, select
from doctown.pipeline.sources import SourceTree, open_source
from doctown.pipeline.waves import dependency_order
from doctown.prompts import Prompt
from doctown.schemas import GenerateResponse, SymbolContext, SymbolInput

if TYPE_CHECKING:
    from doctown.distributed import Distributed

SOURCE = "doctown.pipeline"


@dataclass
class BuildOptions:
    source: str
    output: Path
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
    overviews: bool = True  # module, cluster and repository overviews after the summaries
    max_overview_prompt_tokens: int = DEFAULT_MAX_OVERVIEW_PROMPT_TOKENS


@dataclass
class Plan:
    """What a build will do, and what it will cost, before anything is spent."""

    tree: SourceTree
    analysis: AnalysisResult
    selection: Selection
    inputs: list[SymbolInput]
    prompts: dict[str, Prompt]
    unique_prompts: int
    cached_prompts: int
    prompt_tokens: int  # of the prompts that will really be sent (unique and not cached)
    cost_min: Decimal
    cost_max: Decimal
    seconds: dict[str, float] = field(default_factory=dict)
    batch_cost_min: Decimal = Decimal(0)  # the same requests through the Batch API
    batch_cost_max: Decimal = Decimal(0)
    uncached: dict[str, Prompt] = field(default_factory=dict)  # prompt key -> prompt to send
    # The overview stage: what it is planned to ask, then (after `generate`) what it wrote.
    overviews: OverviewPlanner | None = None

    @property
    def to_send(self) -> int:
        return self.unique_prompts - self.cached_prompts


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
        seconds: dict[str, float] = {}
        clock = time.monotonic()
        tree = open_source(
            self.options.source, ref=self.options.ref, workdir=Path(self._workdir.name)
        )
        seconds["source"] = time.monotonic() - clock
        clock = time.monotonic()
        analysis = analyze_repository(tree.root, emitter=self.emitter)
        seconds["analysis"] = time.monotonic() - clock
        clock = time.monotonic()
        excerpt = self.options.source_excerpt
        preview = self.engine.backend.preview
        selection = select(
            analysis,
            include_private=self.options.include_private,
            include_tests=self.options.include_tests,
            # A human's docstring is truer than anything the preview model would make of it.
            docstrings=self.options.docstrings or ("reuse" if preview else "context"),
            source_excerpt=(not preview) if excerpt is None else excerpt,
            limit=self.options.limit,
        )
        inputs = [
            SymbolInput(
                symbol_id=context["symbol_id"], context=SymbolContext.model_construct(**context)
            )
            for context in (selection.contexts[index] for index in sorted(selection.contexts))
        ]
        planned = self.engine.plan(inputs)
        prompts = {item.symbol_id: item.prompt for item in planned}
        unique = {prompt.key: prompt for prompt in prompts.values()}
        backend = self.engine.backend
        cache = self.engine.cache
        cache_keys = {
            key: SummaryCache.key(backend.name, backend.model, prompt)
            for key, prompt in unique.items()
        }
        cached = cache.contains(cache_keys.values()) if cache is not None else set()
        uncached = [prompt for key, prompt in unique.items() if cache_keys[key] not in cached]
        tokens, cost_min, cost_max = self.engine.cost_range(uncached)
        _, batch_min, batch_max = self.engine.cost_range(uncached, batch=True)
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
            estimate = overviews.estimate([item.symbol_id for item in inputs], known, cache)
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
            inputs=inputs,
            prompts=prompts,
            unique_prompts=len(unique),
            cached_prompts=len(unique) - len(uncached),
            prompt_tokens=tokens,
            cost_min=cost_min,
            cost_max=cost_max,
            seconds=seconds,
            batch_cost_min=batch_min,
            batch_cost_max=batch_max,
            uncached={prompt.key: prompt for prompt in uncached},
            overviews=overviews,
        )

    async def generate(
        self,
        plan: Plan,
        *,
        answers: Mapping[str, Answer] | None = None,
        overview_answers: OverviewAnswers | None = None,
    ) -> GenerateResponse:
        """Document the selected symbols, then write the overviews above them; every answer
        is cached the moment it arrives.

        `answers` are answers obtained in advance by prompt key (`doctown build --batch`);
        `overview_answers` obtains each overview level's answers the same way. What the
        overviews cost is in `plan.overviews.run`, the response covers the symbols.
        """
        clock = time.monotonic()
        analysis = plan.analysis
        grounding = None
        if self.options.grounding or self.options.strict_grounding:
            table = SymbolTable.of(
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
            contexts={item.symbol_id: item.context for item in plan.inputs},
        )
        content = pack_content(
            plan.analysis,
            outcomes,
            backend=response.backend,
            model=response.model,
            preview=response.preview,
            with_contexts=self.options.with_contexts,
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
                path=plan.tree.path,
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

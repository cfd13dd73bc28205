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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from doctown import events
from doctown.analysis import AnalysisResult, analyze_repository
from doctown.analysis.cache import default_cache_dir
from doctown.docpack import Manifest, Source, write_docpack
from doctown.errors import StateFileError
from doctown.generation import GenerationEngine, PlannedSymbol
from doctown.generation.answered import Answer
from doctown.generation.cache import SummaryCache
from doctown.generation.grounding import GroundingPolicy, SymbolTable
from doctown.outputs import check_writable
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
        check_writable(self.options.output, what="the pack")
        seconds: dict[str, float] = {}
        clock = time.monotonic()
        tree = open_source(
            self.options.source, ref=self.options.ref, workdir=Path(self._workdir.name)
        )
        seconds["source"] = time.monotonic() - clock
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
        )

    async def generate(
        self,
        plan: Plan,
        *,
        answers: Mapping[str, Answer] | None = None,
        stop: asyncio.Event | None = None,
    ) -> GenerateResponse:
        """Document the selected symbols; every summary is cached the moment it arrives.

        `answers` are answers obtained in advance by prompt key (`doctown build --batch`).
        A cache that cannot take a write is refused here, before the first paid request.
        Setting `stop` cancels: nothing more is sent, requests in flight finish.
        """
        if plan.to_send and self.engine.cache is not None:
            self.engine.cache.check_writable()
        clock = time.monotonic()
        analysis = plan.analysis
        grounding = None
        if self.options.grounding or self.options.strict_grounding:
            table = SymbolTable.of(symbol.qualified_name for symbol in analysis.symbols)
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
                return await engine.generate(
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
                )
        finally:
            plan.seconds["generation"] = time.monotonic() - clock

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
                "warnings": response.warnings,
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

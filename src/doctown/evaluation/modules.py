"""Module-level scoring: overviews against the human module docstrings they never saw.

Modules whose docstring has at least `MIN_MODULE_WORDS` words are sampled; their symbols are
documented with every docstring hidden (the module's own too), then each module overview is
written from those summaries, through the same engine, prompts and grounding as a build. The
overview is compared with the docstring's first paragraph, next to the same two baselines as
symbols: the name-only floor and another module's docstring (chance).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from doctown import events, pricing
from doctown.analysis import AnalysisResult
from doctown.backends.base import Completion
from doctown.evaluation.baselines import floor_text, modules_by_file
from doctown.evaluation.embedding import CachedEmbedder
from doctown.evaluation.metrics import position
from doctown.evaluation.sampling import rank
from doctown.generation import GenerationEngine
from doctown.generation.grounding import GroundingPolicy, KnownNames
from doctown.overviews.prompts import OverviewPromptBuilder
from doctown.overviews.schemas import Level, cluster_ref, module_ref
from doctown.overviews.stage import OverviewStage
from doctown.overviews.structure import Structure, analyse_structure
from doctown.pipeline.selection import select
from doctown.schemas import SymbolContext, SymbolInput

MIN_MODULE_WORDS = 5
MODULES_ONLY: tuple[Level, ...] = ("module",)
MAX_REFERENCE_WORDS = 80  # the first paragraph, cut to a length an embedding reads whole


@dataclass
class ModuleRecord:
    """One sampled module: its reference, baselines, overview (or failure) and scores."""

    corpus: str
    module: str
    reference: str
    floor: str
    chance: str | None
    children: int  # documented symbols its overview was written from
    summary: str | None = None
    failure: str | None = None
    ungrounded: list[str] = field(default_factory=list)
    groups: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: Decimal = Decimal(0)
    agreement: float | None = None
    floor_agreement: float | None = None
    chance_agreement: float | None = None


@dataclass
class ModuleRun:
    """The module overviews of one corpus, and what their children's summaries cost."""

    corpus: str
    records: list[ModuleRecord]
    seconds: float
    children_cost: Decimal
    children_tokens: int


def module_reference(docstring: str | None) -> str | None:
    """The docstring's first paragraph, when it has at least MIN_MODULE_WORDS words."""
    if not docstring:
        return None
    words = docstring.strip().split("\n\n", 1)[0].split()
    if len(words) < MIN_MODULE_WORDS:
        return None
    return " ".join(words[:MAX_REFERENCE_WORDS])


def module_references(analysis: AnalysisResult) -> dict[str, str]:
    """File path -> reference, for every module with a docstring long enough to score."""
    found = {}
    for symbol in analysis.symbols:
        if symbol.kind == "module":
            reference = module_reference(symbol.docstring)
            if reference is not None:
                found[symbol.file_path] = reference
    return found


def _chance(path: str, references: dict[str, str], seed: int) -> str | None:
    """Another module's reference, drawn with a seeded choice (never one equal to its own)."""
    others = sorted(p for p, text in references.items() if p != path and text != references[path])
    if not others:
        return None
    return references[random.Random(f"{seed}:{path}").choice(others)]  # noqa: S311


async def evaluate_modules(
    corpus: str,
    analysis: AnalysisResult,
    engine: GenerationEngine,
    *,
    limit: int,
    seed: int,
    max_prompt_tokens: int,
    embedder: CachedEmbedder | None,
    subscribers: Sequence[events.Subscriber] = (),
) -> ModuleRun:
    """Sample up to `limit` modules, write their overviews with docstrings hidden, score them."""
    started = time.monotonic()
    references = module_references(analysis)
    symbols = analysis.symbols
    module_symbol = {s.file_path: s for s in symbols if s.kind == "module"}
    hidden = select(analysis, docstrings="ignore", source_excerpt=False)
    chosen = {symbols[index].id for index in hidden.contexts}
    # Modules with something to write an overview from, in the seeded order.
    candidates = analyse_structure(analysis, chosen, root=None, name=corpus).modules
    ranked = sorted(
        (path for path in references if path in candidates and path in module_symbol),
        key=lambda path: rank(module_symbol[path], seed),
    )[:limit]
    sampled = set(ranked)
    children = {module_symbol[path].id for path in sampled}
    for path in sampled:
        children.update(candidates[path].members)
    inputs = [
        SymbolInput(
            symbol_id=symbols[index].id,
            context=SymbolContext.model_construct(**hidden.contexts[index]),
        )
        for index in sorted(hidden.contexts)
        if symbols[index].id in children
    ]
    refs = {s.id for s in symbols} | {module_ref(f.path) for f in analysis.files}
    refs |= {cluster_ref(c.id) for c in analysis.clusters}
    table = KnownNames.of((s.qualified_name for s in symbols), refs=refs)
    grounding = GroundingPolicy(table=table)
    response = await engine.generate(
        f"eval-modules-{corpus}", inputs, subscribers=list(subscribers), grounding=grounding
    )
    summaries = {d.symbol_id: d.summary for d in response.documented_symbols if not d.ungrounded}
    documented = {d.symbol_id for d in response.documented_symbols}
    full = analyse_structure(analysis, documented, root=None, name=corpus)
    structure = Structure(
        name=corpus,
        modules={p: m for p, m in full.modules.items() if p in sampled},
        clusters={},
        entry_points=[],
        readme=None,
    )
    builder = OverviewPromptBuilder(
        engine.prompt_builder.counter, max_prompt_tokens=max_prompt_tokens
    )
    stage = OverviewStage(
        engine, builder, structure, {s.id: s for s in symbols}, grounding=grounding
    )
    run = await stage.run(summaries, levels=MODULES_ONLY)
    names = modules_by_file(analysis)
    price = engine.backend.price
    records = []
    for path in ranked:
        record = ModuleRecord(
            corpus=corpus,
            module=path,
            reference=references[path],
            floor=floor_text(module_symbol[path], names.get(path, "")),
            chance=_chance(path, references, seed),
            children=len(structure.modules[path].members) if path in structure.modules else 0,
        )
        result = run.results.get(module_ref(path))
        if result is None:
            record.failure = "no_documented_symbols"
        else:
            answer = result.answer
            usage = answer.cost_to_make if isinstance(answer, Completion) else answer.usage
            for group in result.groups:
                found = run.results.get(group)
                if found is not None:
                    extra = found.answer
                    usage = usage + (
                        extra.cost_to_make if isinstance(extra, Completion) else extra.usage
                    )
            record.groups = len(result.groups)
            record.input_tokens, record.output_tokens = usage.input_tokens, usage.output_tokens
            record.cost = pricing.cost(usage, price)
            if isinstance(answer, Completion):
                record.summary = answer.summary
                record.ungrounded = list(answer.ungrounded)
            else:
                record.failure = answer.reason
        if embedder is not None and record.summary is not None:
            record.agreement = embedder.cosine(record.summary, record.reference)
            record.floor_agreement = embedder.cosine(record.floor, record.reference)
            if record.chance is not None:
                record.chance_agreement = embedder.cosine(record.chance, record.reference)
        records.append(record)
    return ModuleRun(
        corpus=corpus,
        records=records,
        seconds=time.monotonic() - started,
        children_cost=Decimal(str(response.total_cost)),
        children_tokens=response.total_tokens,
    )


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def module_scores(records: list[ModuleRecord]) -> dict[str, Any]:
    """Coverage, grounding, agreement (with floor, chance and position), tokens and cost per
    overview, for one set of module records."""
    written = [r for r in records if r.summary is not None]
    agreement = _mean([r.agreement for r in written if r.agreement is not None])
    floor = _mean([r.floor_agreement for r in written if r.floor_agreement is not None])
    chance = _mean([r.chance_agreement for r in written if r.chance_agreement is not None])
    asked = [r for r in records if r.failure != "no_documented_symbols"]
    count = len(asked) or 1
    return {
        "modules": len(records),
        "documented": len(written),
        "coverage": len(written) / len(records) if records else 0.0,
        "ungrounded": sum(bool(r.ungrounded) for r in written) / len(written) if written else 0.0,
        "agreement": agreement,
        "floor": floor,
        "chance": chance,
        "position": position(agreement, floor)
        if agreement is not None and floor is not None
        else None,
        "grouped": sum(r.groups > 0 for r in records),
        "input_tokens": sum(r.input_tokens for r in asked) / count,
        "output_tokens": sum(r.output_tokens for r in asked) / count,
        "dollars": float(sum((r.cost for r in asked), Decimal(0)) / count),
        "failures": sorted({r.failure for r in records if r.failure}),
    }

"""The evaluation run: for each corpus, analyse, sample, generate once per option, score.

Docstrings are hidden from the model and kept as the answer: each summary is compared with
the first sentence of its symbol's own docstring, next to the two baselines (name-only floor,
another symbol's docstring as chance). Generation goes through the same engine, policies and
prompts as `doctown build`; nothing from a corpus is executed or imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from doctown import events
from doctown.analysis import CONFIDENT, AnalysisResult, analyze_repository
from doctown.evaluation.baselines import chance_text, floor_text, modules_by_file
from doctown.evaluation.corpora import Corpus, CorpusSet, materialise
from doctown.evaluation.embedding import CachedEmbedder
from doctown.evaluation.form import form_issues
from doctown.evaluation.metrics import SymbolRecord
from doctown.evaluation.options import ContextOption, context_for
from doctown.evaluation.sampling import eligible, sample
from doctown.generation import GenerationEngine
from doctown.generation.grounding import GroundingPolicy, KnownNames, ungrounded
from doctown.pipeline.selection import DOCUMENTED_KINDS, select
from doctown.pipeline.waves import dependency_order
from doctown.schemas import GenerateResponse, SymbolContext, SymbolInput


@dataclass
class PreparedCorpus:
    """A corpus analysed and sampled: everything its runs share."""

    corpus: Corpus
    analysis: AnalysisResult
    eligible: int
    sample: list[int]
    references: dict[int, str]
    floors: dict[int, str]
    chances: dict[int, str | None]
    fields: dict[int, dict[str, Any]]
    table: KnownNames
    documentable: list[int] = field(default_factory=list)  # what a build would document

    def describe(self) -> dict[str, Any]:
        """What the report says about the corpus."""
        symbols = self.analysis.symbols
        return {
            "name": self.corpus.name,
            "label": self.corpus.label,
            "source": self.corpus.source,
            "version": self.corpus.version,
            "files": len(self.analysis.files),
            "symbols": len(symbols),
            "eligible": self.eligible,
            "sampled": len(self.sample),
            "languages": sorted({symbols[index].language for index in self.sample}),
        }


@dataclass
class Run:
    """One context option over one corpus' sample.

    `generated` counts every summary written, the sample's and any written only to be shown
    to it (its callees): the time of the run is spread over all of them.
    """

    corpus: str
    option: str
    records: list[SymbolRecord]
    seconds: float
    generated: int
    warnings: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0  # the process' CPU time while it generated


def prepare(corpus: Corpus, root: Path, *, limit: int, seed: int) -> PreparedCorpus:
    """Analyse `root` and choose the symbols to score, with their references and baselines."""
    analysis = analyze_repository(root)
    references = eligible(analysis)
    chosen = sample(analysis, sorted(references), limit=limit, seed=seed)
    modules = modules_by_file(analysis)
    symbols = analysis.symbols
    hidden = select(analysis, docstrings="ignore", source_excerpt=False).contexts
    return PreparedCorpus(
        corpus=corpus,
        analysis=analysis,
        eligible=len(references),
        sample=chosen,
        references={index: references[index] for index in chosen},
        floors={
            index: floor_text(symbols[index], modules.get(symbols[index].file_path, ""))
            for index in chosen
        },
        chances={index: chance_text(index, analysis, references, seed=seed) for index in chosen},
        fields={index: hidden[index] for index in chosen},
        table=KnownNames.of(symbol.qualified_name for symbol in symbols),
        documentable=sorted(hidden),
    )


def inputs_for(
    prepared: PreparedCorpus, option: ContextOption, indices: list[int] | None = None
) -> list[SymbolInput]:
    """The symbol inputs of one option (for the sample, or `indices`), docstrings hidden."""
    symbols = prepared.analysis.symbols
    raw = prepared.analysis.context_fields
    inputs = []
    for index in prepared.sample if indices is None else indices:
        context = context_for(
            option,
            prepared.fields.get(index, raw[index]),
            excerpt=raw[index].get("source_excerpt"),
            docstrings=docstrings_within(prepared.analysis, index),
        )
        inputs.append(
            SymbolInput(
                symbol_id=symbols[index].id, context=SymbolContext.model_construct(**context)
            )
        )
    return inputs


def callees_of(prepared: PreparedCorpus) -> list[int]:
    """Declarations the sample calls (confident edges only) that are not sampled themselves."""
    analysis = prepared.analysis
    position = {symbol.id: index for index, symbol in enumerate(analysis.symbols)}
    sampled = {analysis.symbols[index].id for index in prepared.sample}
    found = {
        position[edge.target]
        for edge in analysis.edges
        if edge.kind == "calls"
        and edge.confidence >= CONFIDENT
        and edge.source in sampled
        and edge.target not in sampled
        and analysis.symbols[position[edge.target]].kind in DOCUMENTED_KINDS
    }
    return sorted(found)


def grouped_with(
    prepared: PreparedCorpus, option: ContextOption, engine: GenerationEngine
) -> list[int]:
    """The sample and the symbols a build asks in the same requests, in a build's order.

    A build asks the symbols of a file in their order, several per request (`Grouping`);
    the requests that hold a sampled symbol are cut the same way here and kept whole.
    """
    sampled = set(prepared.sample)
    files = {prepared.analysis.symbols[index].file_path for index in sampled}
    candidates = [
        index
        for index in prepared.documentable
        if prepared.analysis.symbols[index].file_path in files
    ]
    planned = engine.plan(inputs_for(prepared, option, candidates))
    key_of = {index: item.prompt for index, item in zip(candidates, planned, strict=True)}
    unique = {prompt.key: prompt for prompt in key_of.values()}  # identical ones: asked once
    wanted = {key_of[index].key for index in sampled}
    kept: set[str] = set()
    for request in engine.requests_for(list(unique.values())):
        keys = {member.key for member in request.members}
        if keys & wanted:
            kept |= keys
    return [index for index in candidates if key_of[index].key in kept]


def docstrings_within(analysis: AnalysisResult, index: int) -> list[str]:
    """The docstrings of a symbol and of every symbol defined inside it, outermost first."""
    outer = analysis.symbols[index]
    return [
        symbol.docstring
        for symbol in analysis.symbols
        if symbol.docstring
        and symbol.file_path == outer.file_path
        and outer.start_byte <= symbol.start_byte < outer.end_byte
    ]


async def run_option(
    prepared: PreparedCorpus,
    option: ContextOption,
    engine: GenerationEngine,
    *,
    job_id: str,
    subscribers: Sequence[events.Subscriber] = (),
) -> Run:
    """Generate the sample's summaries with one option and check each (agreement aside).

    With `callee_summaries`, the sample's callees are documented too, first, so that their
    summaries can be shown; with `grouped`, the symbols a build asks with each sampled one.
    Only the sample is scored.
    """
    inputs = inputs_for(prepared, option)
    extra = inputs_for(prepared, option, callees_of(prepared)) if option.callee_summaries else []
    everything = inputs + extra
    if option.grouped:  # in a build's order, which decides who shares a request
        everything = inputs_for(prepared, option, grouped_with(prepared, option, engine))
    order = (
        dependency_order(prepared.analysis, [item.symbol_id for item in everything])
        if option.callee_summaries
        else None
    )
    grounding = GroundingPolicy(table=prepared.table) if option.grounding else None
    # The time since the previous symbol finished: for a backend that answers one prompt at a
    # time (the embedded model), what this symbol took; queueing makes `duration_ms` larger.
    durations: dict[str, float] = {}
    last = [time.monotonic()]

    def timed(event: events.Event) -> None:
        if event.type in (events.GENERATION_SYMBOL_DOCUMENTED, events.GENERATION_SYMBOL_FAILED):
            now = time.monotonic()
            durations[event.payload["symbol_id"]] = now - last[0]
            last[0] = now

    started, cpu_started = time.monotonic(), time.process_time()
    last[0] = started
    response = await engine.generate(
        job_id, everything, subscribers=[*subscribers, timed], grounding=grounding, order=order
    )
    seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
    scored = records(prepared, option, inputs, response)
    for record in scored:
        record.seconds = durations.get(record.symbol_id)
    return Run(
        corpus=prepared.corpus.name,
        option=option.name,
        records=scored,
        seconds=seconds,
        generated=len(response.documented_symbols),
        warnings=[w for w in response.warnings if w not in engine.standing_warnings],
        cpu_seconds=cpu_seconds,
    )


def records(
    prepared: PreparedCorpus,
    option: ContextOption,
    inputs: list[SymbolInput],
    response: GenerateResponse,
) -> list[SymbolRecord]:
    """One record per sampled symbol, in sample order, with grounding and form checked."""
    documented = {entry.symbol_id: entry for entry in response.documented_symbols}
    failed = {entry.symbol_id: entry for entry in response.failed_symbols}
    symbols = prepared.analysis.symbols
    result = []
    for index, item in zip(prepared.sample, inputs, strict=True):
        symbol = symbols[index]
        record = SymbolRecord(
            corpus=prepared.corpus.name,
            option=option.name,
            symbol_id=symbol.id,
            name=symbol.qualified_name,
            kind=symbol.kind,
            reference=prepared.references[index],
            floor=prepared.floors[index],
            chance=prepared.chances[index],
        )
        if symbol.id in documented:
            entry = documented[symbol.id]
            record.summary = entry.summary
            record.input_tokens, record.output_tokens = entry.input_tokens, entry.output_tokens
            record.cost = Decimal(str(entry.cost))
            record.reasked = entry.reasked
            record.ungrounded = ungrounded(entry.summary, item.context, prepared.table)
            record.form = form_issues(entry.summary)
        elif symbol.id in failed:
            failure = failed[symbol.id]
            record.failure = failure.reason
            # A failure's tokens are not split by direction; they are billed as input here.
            record.input_tokens = failure.tokens_used
            record.cost = Decimal(str(failure.cost))
        result.append(record)
    return result


def score_agreement(records: list[SymbolRecord], embedder: CachedEmbedder) -> None:
    """Fill in the cosines of each documented record's summary and baselines."""
    for record in records:
        if record.summary is None:
            continue
        record.agreement = embedder.cosine(record.summary, record.reference)
        record.floor_agreement = embedder.cosine(record.floor, record.reference)
        if record.chance is not None:
            record.chance_agreement = embedder.cosine(record.chance, record.reference)


@dataclass
class Evaluation:
    """Everything one `doctown eval` produced."""

    corpora: list[dict[str, Any]]
    runs: list[Run]


async def evaluate(
    corpus_set: CorpusSet,
    corpora: list[Corpus],
    options: list[ContextOption],
    engine: GenerationEngine,
    *,
    limit: int,
    cache_dir: Path,
    workdir: Path,
    embedder: CachedEmbedder | None,
    say: Callable[[str], None] = lambda message: None,
    subscribers: Sequence[events.Subscriber] = (),
) -> Evaluation:
    """Run every option on every corpus; `say` hears what is happening, stage by stage."""
    described = []
    runs = []
    for corpus in corpora:
        say(f"{corpus.label}: fetching and analysing")
        root = materialise(corpus, base=corpus_set.base, cache_dir=cache_dir, workdir=workdir)
        prepared = prepare(corpus, root, limit=limit, seed=corpus_set.seed)
        described.append(prepared.describe())
        for option in options:
            say(f"{corpus.label}: {len(prepared.sample)} symbols, option {option.name}")
            run = await run_option(
                prepared,
                option,
                engine,
                job_id=f"eval-{corpus.name}-{option.name}",
                subscribers=subscribers,
            )
            if embedder is not None:
                score_agreement(run.records, embedder)
            runs.append(run)
    return Evaluation(corpora=described, runs=runs)

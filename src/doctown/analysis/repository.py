"""The analysis of one repository, stage by stage: ingest, parse, resolve, graph, contexts."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

from doctown import collector
from doctown.analysis import incremental, snapshot
from doctown.analysis.cache import FactsCache, cache_key, decode_facts, encode_facts
from doctown.analysis.contexts import build_contexts
from doctown.analysis.facts import FileFacts
from doctown.analysis.forking import can_fork
from doctown.analysis.graph import analyse_graph
from doctown.analysis.ingest import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILES,
    Ingested,
    SourceFile,
    ingest,
)
from doctown.analysis.modules import Layout
from doctown.analysis.parse import extract
from doctown.analysis.records import CONFIDENT, AnalysisResult, Edge, FileRecord
from doctown.analysis.resolve import CallResolver, FileResolution, assemble
from doctown.analysis.symbols import SymbolTable, build_table, to_symbols
from doctown.events import EventEmitter

ASSEMBLY_STARTED = "assembly.started.v1"
ASSEMBLY_CLUSTER_CREATED = "assembly.cluster_created.v1"
ASSEMBLY_GRAPH_COMPLETED = "assembly.graph_completed.v1"
ASSEMBLY_COMPLETED = "assembly.completed.v1"

DEFAULT_WORKERS = 2
# Below this much source, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 2 * 1024 * 1024
BATCH_BYTES = 512 * 1024


def _parse_batch(batch: list[tuple[str, bytes]]) -> list[bytes]:
    # Facts travel back encoded: smaller than pickles, and ready for the cache as they are.
    gc.disable()
    return [encode_facts(extract(content, language)) for language, content in batch]


def _batches(files: Sequence[SourceFile]) -> Iterator[list[tuple[str, bytes]]]:
    batch: list[tuple[str, bytes]] = []
    size = 0
    for file in files:
        batch.append((file.language, file.content))
        size += len(file.content)
        if size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def parse_encoded(files: Sequence[SourceFile], *, workers: int) -> list[bytes]:
    """Encoded facts for each file, in order; parsed in `workers` processes when it pays."""
    if workers <= 1 or sum(len(file.content) for file in files) < PARALLEL_MIN_BYTES:
        return [encode_facts(extract(file.content, file.language)) for file in files]
    # Tree-sitter holds the GIL while parsing, so only processes run in parallel. Forking is
    # cheapest but unsafe once threads run (a lock held by another thread stays held in the
    # child); then workers start afresh.
    method = "fork" if can_fork() else "spawn"
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method)) as pool:
        return [data for batch in pool.map(_parse_batch, _batches(files)) for data in batch]


@contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - started, 4)


def analyze_repository(
    root: str | Path,
    *,
    emitter: EventEmitter | None = None,
    cache: FactsCache | None = None,
    use_cache: bool = True,
    workers: int = DEFAULT_WORKERS,
    exclude: tuple[str, ...] = (),
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
    keep_snapshot: bool = True,
) -> AnalysisResult:
    """Analyse the source tree at `root`: symbols, edges, centrality, clusters and contexts.

    Nothing in the tree is executed. Facts are cached by file content in `cache` (the user
    cache directory by default), with a snapshot of the whole result for an unchanged tree;
    `use_cache=False` computes everything and stores nothing. `keep_snapshot=False` is for a
    tree whose root will not be seen again (an unpacked upload, a fresh clone): its facts
    are cached, but no snapshot is looked up or kept for it.
    """
    timings: dict[str, float] = {}
    with _stage(timings, "ingest"):
        found = ingest(
            Path(root),
            emitter=emitter,
            exclude=exclude,
            max_file_bytes=max_file_bytes,
            max_files=max_files,
        )
    if emitter:
        emitter.emit(ASSEMBLY_STARTED, {"files": len(found.files)})
    owned = use_cache and cache is None
    store = (cache or FactsCache()) if use_cache else None
    try:
        with collector.paused():
            result = _from_snapshot(found, store if keep_snapshot else None, timings)
            if result is None:
                result = _analyse(found, store, workers, timings, keep_snapshot=keep_snapshot)
    finally:
        if owned and store is not None:
            store.close()
    result.timings = timings
    if emitter:
        _emit_assembly(emitter, result)
    return result


def _from_snapshot(
    found: Ingested, store: FactsCache | None, timings: dict[str, float]
) -> AnalysisResult | None:
    if store is None:
        return None
    with _stage(timings, "snapshot"):
        data = store.get_snapshot(str(found.root), snapshot.fingerprint(found))
        return snapshot.decode(data, found) if data is not None else None


def _analyse(
    found: Ingested,
    store: FactsCache | None,
    workers: int,
    timings: dict[str, float],
    *,
    keep_snapshot: bool,
) -> AnalysisResult:
    with _stage(timings, "parse"):
        facts, cached = _parse(found, store, workers)
    with _stage(timings, "resolve"):
        by_path = {
            file.path: file_facts for file, file_facts in zip(found.files, facts, strict=True)
        }
        layout = Layout(found.root, by_path)
        table = build_table(by_path, layout)
        hashes = {file.path: file.sha256 for file in found.files}
        resolutions, resolved = _resolve(found, store, table, layout, hashes, workers)
        resolution = assemble(table, resolutions)
        line_counts = {file.path: file.content.count(b"\n") + 1 for file in found.files}
        symbols = to_symbols(table, layout, [line_counts[path] for path in table.paths])
        edges = resolution.edges + [
            Edge(symbol.parent_id, symbol.id, "contains")
            for symbol in symbols
            if symbol.parent_id is not None
        ]
    records, analysis_warnings = _file_records(found, facts, layout, line_counts)

    with _stage(timings, "graph"):
        metrics = analyse_graph(symbols, edges)
        centrality = [float(score) for score in metrics.centrality]
    with _stage(timings, "contexts"):
        contexts = build_contexts(
            symbols,
            edges,
            centrality=centrality,
            clusters=metrics.clusters,
            imports=resolution.imports,
            contents={file.path: file.content for file in found.files},
        )
    if store is not None and keep_snapshot:
        with _stage(timings, "snapshot"):
            states = incremental.current_states(table, layout, hashes, resolutions)
            store.put_state(str(found.root), incremental.encode(states))
            data = snapshot.encode_resolved(
                records,
                symbols,
                edges,
                resolution.unresolved,
                resolution.imports,
                analysis_warnings,
            ) + snapshot.encode_graphed(metrics.clusters, contexts)
            store.put_snapshot(str(found.root), snapshot.fingerprint(found), data)
    return AnalysisResult(
        root=str(found.root),
        files=records,
        skipped=found.skipped,
        symbols=symbols,
        edges=edges,
        unresolved=resolution.unresolved,
        imports=resolution.imports,
        clusters=metrics.clusters,
        cluster_of={m: cluster.id for cluster in metrics.clusters for m in cluster.members},
        centrality={s.id: score for s, score in zip(symbols, centrality, strict=True)},
        context_fields=contexts,
        warnings=[*found.warnings, *analysis_warnings],
        parsed_files=len(found.files) - cached,
        resolved_files=resolved,
    )


def _file_records(
    found: Ingested, facts: list[FileFacts], layout: Layout, line_counts: dict[str, int]
) -> tuple[list[FileRecord], list[str]]:
    """The record of each file, and a warning for each file that did not parse cleanly."""
    warnings = []
    records = []
    for file, file_facts in zip(found.files, facts, strict=True):
        if file_facts.failure:
            warnings.append(
                f"{file.path}: could not be analysed ({file_facts.failure}); it is left out."
            )
        if file_facts.syntax_errors:
            warnings.append(
                f"{file.path}: {file_facts.syntax_errors} syntax error(s); analysed what parsed."
            )
        records.append(
            FileRecord(
                path=file.path,
                language=file.language,
                size=len(file.content),
                sha256=file.sha256,
                lines=line_counts[file.path],
                module=layout.modules[file.path].qualified,
                syntax_errors=file_facts.syntax_errors,
            )
        )
    return records, warnings


def _resolve(
    found: Ingested,
    store: FactsCache | None,
    table: SymbolTable,
    layout: Layout,
    hashes: dict[str, str],
    workers: int,
) -> tuple[list[FileResolution], int]:
    """Each file's resolution, in table order, and how many files were resolved afresh.

    Files the last analysis of this root resolved keep their resolution unless a change can
    affect it (see `incremental.py`).
    """
    resolver = CallResolver(table, layout)
    data = store.get_state(str(found.root)) if store is not None else None
    previous = incremental.decode(data) if data is not None else None
    todo: list[int] | None = None
    if previous is not None and store is not None:

        def old_facts(files: list[tuple[str, str]]) -> dict[str, FileFacts]:
            keys = {path: cache_key(previous[path].sha256, language) for path, language in files}
            cached = store.get_many(set(keys.values()))
            return {path: cached[key] for path, key in keys.items() if key in cached}

        todo = incremental.files_to_resolve(previous, table, layout, hashes, old_facts)
    if todo is None or previous is None:
        return resolver.resolve(range(len(table.paths)), processes=workers), len(table.paths)
    fresh = dict(zip(todo, resolver.resolve(todo, processes=workers), strict=True))
    return [
        fresh[file] if file in fresh else previous[path].resolution
        for file, path in enumerate(table.paths)
    ], len(todo)


def _emit_assembly(emitter: EventEmitter, result: AnalysisResult) -> None:
    for cluster in result.clusters:
        emitter.emit(
            ASSEMBLY_CLUSTER_CREATED,
            {
                "cluster_id": cluster.id,
                "label": cluster.label,
                "size": cluster.size,
                "representative": cluster.representative,
            },
        )
    calls = [edge for edge in result.edges if edge.kind == "calls"]
    emitter.emit(
        ASSEMBLY_GRAPH_COMPLETED,
        {
            "nodes": len(result.symbols),
            "edges": len(result.edges),
            "calls_resolved": sum(1 for edge in calls if edge.confidence >= CONFIDENT),
            "calls_low_confidence": sum(1 for edge in calls if edge.confidence < CONFIDENT),
            "calls_unresolved": len(result.unresolved),
            "clusters": len(result.clusters),
        },
    )
    emitter.emit(
        ASSEMBLY_COMPLETED,
        {
            "symbols": len(result.symbols),
            "contexts": len(result.context_fields),
            "warnings": result.warnings,
        },
        status="success",
    )


def _parse(found: Ingested, store: FactsCache | None, workers: int) -> tuple[list[FileFacts], int]:
    """Facts for every ingested file, from the cache where possible; and how many were cached."""
    if store is None:
        encoded = parse_encoded(found.files, workers=workers)
        return [decode_facts(data) for data in encoded], 0
    keys = [cache_key(file.sha256, file.language) for file in found.files]
    hits = store.get_many(set(keys))
    missing = [(file, key) for file, key in zip(found.files, keys, strict=True) if key not in hits]
    fresh = parse_encoded([file for file, _key in missing], workers=workers)
    store.put_many(zip((key for _file, key in missing), fresh, strict=True))
    for (_file, key), data in zip(missing, fresh, strict=True):
        hits[key] = decode_facts(data)
    return [hits[key] for key in keys], len(found.files) - len(missing)

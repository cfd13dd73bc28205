"""The analysis of one repository, stage by stage: ingest, parse, resolve, graph, contexts."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

from doctown.analysis.cache import FactsCache, cache_key
from doctown.analysis.contexts import build_contexts
from doctown.analysis.facts import FileFacts
from doctown.analysis.graph import analyse_graph
from doctown.analysis.ingest import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILES,
    Ingested,
    SourceFile,
    ingest,
)
from doctown.analysis.model import AnalysisResult, Edge, FileRecord
from doctown.analysis.modules import Layout
from doctown.analysis.parse import extract
from doctown.analysis.resolve import resolve_calls
from doctown.analysis.symbols import build_table, to_symbols
from doctown.events import EventEmitter

ASSEMBLY_STARTED = "assembly.started.v1"
ASSEMBLY_CLUSTER_CREATED = "assembly.cluster_created.v1"
ASSEMBLY_GRAPH_COMPLETED = "assembly.graph_completed.v1"
ASSEMBLY_COMPLETED = "assembly.completed.v1"

DEFAULT_WORKERS = 2
# Below this much source, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 2 * 1024 * 1024
BATCH_BYTES = 512 * 1024


def _parse_batch(batch: list[tuple[str, bytes]]) -> list[FileFacts]:
    return [extract(content, language) for language, content in batch]


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


def parse_files(files: Sequence[SourceFile], *, workers: int) -> list[FileFacts]:
    """Facts for each file, in order; parsed in `workers` processes when it pays."""
    if workers <= 1 or sum(len(file.content) for file in files) < PARALLEL_MIN_BYTES:
        return [extract(file.content, file.language) for file in files]
    # Tree-sitter holds the GIL while parsing, so only processes run in parallel. Forking is
    # cheapest but unsafe once threads run (a lock held by another thread stays held in the
    # child); then workers start afresh.
    method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method)) as pool:
        return [facts for batch in pool.map(_parse_batch, _batches(files)) for facts in batch]


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
) -> AnalysisResult:
    """Analyse the source tree at `root`: symbols, edges, centrality, clusters and contexts.

    Nothing in the tree is executed. Facts are cached by file content in `cache` (the user
    cache directory by default); `use_cache=False` parses everything and stores nothing.
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
    with _stage(timings, "parse"):
        facts, cached = _parse(found, cache if use_cache else None, use_cache, workers)
    with _stage(timings, "resolve"):
        by_path = {
            file.path: file_facts for file, file_facts in zip(found.files, facts, strict=True)
        }
        layout = Layout(found.root, by_path)
        table = build_table(by_path, layout)
        resolution = resolve_calls(table, layout)
        line_counts = {file.path: file.content.count(b"\n") + 1 for file in found.files}
        symbols = to_symbols(table, layout, [line_counts[path] for path in table.paths])
        edges = resolution.edges + [
            Edge(symbol.parent_id, symbol.id, "contains")
            for symbol in symbols
            if symbol.parent_id is not None
        ]
    with _stage(timings, "graph"):
        metrics = analyse_graph(symbols, edges)
        centrality = {
            symbol.id: float(score)
            for symbol, score in zip(symbols, metrics.centrality, strict=True)
        }
        cluster_of = {
            member: cluster.id for cluster in metrics.clusters for member in cluster.members
        }
    if emitter:
        for cluster in metrics.clusters:
            emitter.emit(
                ASSEMBLY_CLUSTER_CREATED,
                {
                    "cluster_id": cluster.id,
                    "label": cluster.label,
                    "size": cluster.size,
                    "representative": cluster.representative,
                },
            )
        emitter.emit(
            ASSEMBLY_GRAPH_COMPLETED,
            {
                "nodes": len(symbols),
                "edges": len(edges),
                "calls_resolved": sum(1 for e in resolution.edges if e.kind == "calls"),
                "calls_unresolved": len(resolution.unresolved),
                "clusters": len(metrics.clusters),
            },
        )
    with _stage(timings, "contexts"):
        contexts = build_contexts(
            symbols,
            edges,
            centrality=centrality,
            clusters=metrics.clusters,
            imports=resolution.imports,
            contents={file.path: file.content for file in found.files},
        )
    warnings = list(found.warnings)
    records = []
    for file, file_facts in zip(found.files, facts, strict=True):
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
    result = AnalysisResult(
        root=str(found.root),
        files=records,
        skipped=found.skipped,
        symbols=symbols,
        edges=edges,
        unresolved=resolution.unresolved,
        imports=resolution.imports,
        clusters=metrics.clusters,
        cluster_of=cluster_of,
        centrality=centrality,
        contexts=contexts,
        warnings=warnings,
        timings=timings,
        parsed_files=len(found.files) - cached,
    )
    if emitter:
        emitter.emit(
            ASSEMBLY_COMPLETED,
            {"symbols": len(symbols), "contexts": len(contexts), "warnings": warnings},
            status="success",
        )
    return result


def _parse(
    found: Ingested, cache: FactsCache | None, use_cache: bool, workers: int
) -> tuple[list[FileFacts], int]:
    """Facts for every ingested file, from the cache where possible; and how many were cached."""
    if not use_cache:
        return parse_files(found.files, workers=workers), 0
    owned = cache is None
    store = cache or FactsCache()
    try:
        keys = [cache_key(file.sha256, file.language) for file in found.files]
        hits = store.get_many(set(keys))
        missing = [file for file, key in zip(found.files, keys, strict=True) if key not in hits]
        fresh = parse_files(missing, workers=workers)
        store.put_many(
            (cache_key(file.sha256, file.language), facts)
            for file, facts in zip(missing, fresh, strict=True)
        )
        parsed = dict(zip((file.path for file in missing), fresh, strict=True))
        facts = [
            parsed[file.path] if file.path in parsed else hits[key]
            for file, key in zip(found.files, keys, strict=True)
        ]
        return facts, len(found.files) - len(missing)
    finally:
        if owned:
            store.close()

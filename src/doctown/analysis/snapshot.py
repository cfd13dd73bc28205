"""Whole-analysis snapshots: an unchanged repository is not resolved or clustered again.

A snapshot is keyed by a fingerprint of everything the result depends on: each file's path,
language and content hash, the build manifests module names come from (go.mod, Cargo.toml),
and the analysis code itself. When any input differs, the facts cache still spares the
parsing of every unchanged file.
"""

from __future__ import annotations

import hashlib
import marshal
from typing import Any, cast

from doctown.analysis.cache import code_version
from doctown.analysis.contexts import excerpt
from doctown.analysis.ingest import Ingested
from doctown.analysis.model import (
    AnalysisResult,
    Cluster,
    Edge,
    FileRecord,
    Symbol,
    UnresolvedCall,
)

MANIFESTS = ("go.mod", "Cargo.toml")
MAX_MANIFEST_BYTES = 256 * 1024


def fingerprint(found: Ingested) -> str:
    """What a snapshot of this tree must match to be reused."""
    digest = hashlib.sha256(code_version().encode())
    for file in found.files:
        digest.update(f"{file.path}\0{file.language}\0{file.sha256}\n".encode())
    for skipped in found.skipped:
        if skipped.path.rsplit("/", 1)[-1] in MANIFESTS:
            path = found.root / skipped.path
            if path.is_file() and not path.is_symlink():
                with path.open("rb") as stream:
                    digest.update(stream.read(MAX_MANIFEST_BYTES))
    return digest.hexdigest()


def encode(result: AnalysisResult, analysis_warnings: list[str]) -> bytes:
    """The result without what is recomputed at once (skipped files, excerpts, timings)."""
    plain = (
        [tuple(record) for record in result.files],
        [tuple(symbol) for symbol in result.symbols],
        [tuple(edge) for edge in result.edges],
        [tuple(call) for call in result.unresolved],
        result.imports,
        [tuple(cluster) for cluster in result.clusters],
        # Excerpts are most of a snapshot's bytes and cheap to cut again from the sources.
        [
            {key: value for key, value in fields.items() if key != "source_excerpt"}
            for fields in result.context_fields
        ],
        analysis_warnings,
    )
    return marshal.dumps(cast(Any, plain))


def decode(data: bytes, found: Ingested) -> AnalysisResult:
    """A result from a snapshot, completed with what ingest just found."""
    files, symbols, edges, unresolved, imports, clusters, contexts, warnings = marshal.loads(  # noqa: S302 - plain values only
        data
    )
    cluster_list = [Cluster._make(row) for row in clusters]
    symbol_list = [Symbol._make(row) for row in symbols]
    contents = {file.path: file.content for file in found.files}
    for symbol, fields in zip(symbol_list, contexts, strict=True):
        fields["source_excerpt"] = excerpt(contents.get(symbol.file_path, b""), symbol)
    return AnalysisResult(
        root=str(found.root),
        files=[FileRecord._make(row) for row in files],
        skipped=found.skipped,
        symbols=symbol_list,
        edges=[Edge._make(row) for row in edges],
        unresolved=[UnresolvedCall._make(row) for row in unresolved],
        imports=imports,
        clusters=cluster_list,
        cluster_of={m: c.id for c in cluster_list for m in c.members},
        centrality={fields["symbol_id"]: fields["centrality"] for fields in contexts},
        context_fields=contexts,
        warnings=[*found.warnings, *warnings],
    )

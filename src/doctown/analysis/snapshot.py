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
from doctown.analysis.records import (
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


def encode_resolved(
    files: list[FileRecord],
    symbols: list[Symbol],
    edges: list[Edge],
    unresolved: list[UnresolvedCall],
    imports: dict[str, list[str]],
    analysis_warnings: list[str],
) -> bytes:
    """The snapshot's first part: what the graph metrics are computed from."""
    plain = (
        [tuple(record) for record in files],
        [tuple(symbol) for symbol in symbols],
        [tuple(edge) for edge in edges],
        [tuple(call) for call in unresolved],
        imports,
        analysis_warnings,
    )
    data = marshal.dumps(cast(Any, plain))
    return len(data).to_bytes(8, "big") + data


def encode_graphed(clusters: list[Cluster], contexts: list[dict[str, Any]]) -> bytes:
    """The snapshot's second part: clusters and contexts, without their source excerpts."""
    # Excerpts are most of a snapshot's bytes and cheap to cut again from the sources. Each
    # is taken out and put back last, where `build_contexts` and `decode` put it.
    excerpts = [fields.pop("source_excerpt", None) for fields in contexts]
    try:
        return marshal.dumps(cast(Any, ([tuple(c) for c in clusters], contexts)))
    finally:
        for fields, text in zip(contexts, excerpts, strict=True):
            fields["source_excerpt"] = text


def decode(data: bytes, found: Ingested) -> AnalysisResult:
    """A result from a snapshot, completed with what ingest just found."""
    size = int.from_bytes(data[:8], "big")
    view = memoryview(data)
    resolved = marshal.loads(view[8 : 8 + size])  # noqa: S302 - plain values only
    clusters, contexts = marshal.loads(view[8 + size :])  # noqa: S302 - plain values only
    files, symbols, edges, unresolved, imports, warnings = resolved
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

"""Writing a .docpack: one zip of flat entries, byte-identical for the same content.

Determinism comes from four choices: every list is put in a canonical order (so the order in
which symbols finished never shows), entries are written in `ENTRY_ORDER`, every entry carries
the same fixed timestamp and mode, and `created_at` is given by the caller (the commit time,
or a flag) instead of read from the clock. The same content then gives the same bytes for a
given zlib.
"""

from __future__ import annotations

import os
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pydantic import BaseModel

from doctown import __version__
from doctown.docpack.format import (
    CLUSTERS,
    EMBEDDINGS,
    ENTRY_ORDER,
    GRAPH,
    MANIFEST,
    NODES,
    OVERVIEWS,
    SOURCE_MAP,
    SYMBOL_CONTEXTS,
    Checksum,
    Clusters,
    Generator,
    Graph,
    Manifest,
    OptionalEntries,
    PackContent,
    Source,
    SourceMap,
    SymbolContexts,
    content_digest,
    statistics_of,
)
from doctown.docpack.overviews import Overviews

# The earliest time a zip entry can carry; the pack's real time is the manifest's created_at.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESSION_LEVEL = 6
_UNIX = 3
_FILE_MODE = 0o100644 << 16


def canonical(content: PackContent) -> PackContent:
    """`content` with every collection in a fixed order: symbols by file and position, edges,
    clusters, files and contexts by key. Lists inside a symbol keep the order they were given.
    """
    files = [
        file.model_copy(
            update={"chunks": sorted(file.chunks, key=lambda c: (c.byte_range, c.chunk_id))}
        )
        for file in sorted(content.source_map.files, key=lambda f: f.file_path)
    ]
    contexts = content.symbol_contexts
    return PackContent(
        nodes=content.nodes.model_copy(
            update={
                "symbols": sorted(
                    content.nodes.symbols, key=lambda s: (s.file_path, s.byte_range, s.id)
                )
            }
        ),
        graph=Graph(
            nodes=sorted(content.graph.nodes),
            edges=sorted(content.graph.edges, key=lambda e: (e.from_, e.to, e.kind)),
            metrics=content.graph.metrics,
        ),
        clusters=Clusters(clusters=sorted(content.clusters.clusters, key=lambda c: c.cluster_id)),
        source_map=SourceMap(files=files),
        symbol_contexts=(
            SymbolContexts(contexts=dict(sorted(contexts.contexts.items()))) if contexts else None
        ),
        embeddings=content.embeddings,
        overviews=_canonical_overviews(content.overviews),
    )


def _canonical_overviews(overviews: Overviews | None) -> Overviews | None:
    """Modules by path, clusters by id: the order in which they were written never shows."""
    if overviews is None:
        return None
    return overviews.model_copy(
        update={
            "modules": sorted(overviews.modules, key=lambda m: m.path),
            "clusters": sorted(overviews.clusters, key=lambda c: _cluster_order(c.cluster_id)),
        }
    )


def _cluster_order(cluster_id: str) -> tuple[int, str]:
    return (int(cluster_id), "") if cluster_id.isdigit() else (1 << 62, cluster_id)


def _json(model: BaseModel, *, indent: int | None = None, exclude: set[str] | None = None) -> bytes:
    return model.model_dump_json(indent=indent, by_alias=True, exclude=exclude).encode() + b"\n"


def encode_content(content: PackContent) -> dict[str, bytes]:
    """The bytes of each content entry present, for canonical `content`."""
    entries = {
        NODES: _json(content.nodes),
        GRAPH: _json(content.graph),
        CLUSTERS: _json(content.clusters),
        SOURCE_MAP: _json(content.source_map),
    }
    if content.symbol_contexts is not None:
        entries[SYMBOL_CONTEXTS] = _json(content.symbol_contexts)
    if content.embeddings is not None:
        entries[EMBEDDINGS] = content.embeddings
    if content.overviews is not None:
        entries[OVERVIEWS] = _json(content.overviews)
    return entries


def build_manifest(
    content: PackContent,
    entries: dict[str, bytes],
    *,
    source: Source,
    created_at: datetime,
    generator: Generator,
) -> Manifest:
    """The manifest for `content`: statistics, flags and checksum are derived, never given."""
    digest = content_digest(entries)
    return Manifest(
        docpack_id=f"sha256:{digest}",
        created_at=created_at,
        generator=generator,
        source=source,
        statistics=statistics_of(content),
        checksum=Checksum(value=digest),
        optional=OptionalEntries(
            has_symbol_contexts=SYMBOL_CONTEXTS in entries,
            has_embeddings=EMBEDDINGS in entries,
            has_overviews=OVERVIEWS in entries,
        ),
    )


def _write_zip(stream: IO[bytes], entries: dict[str, bytes]) -> None:
    with zipfile.ZipFile(stream, "w") as archive:
        for name in ENTRY_ORDER:
            if name not in entries:
                continue
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = _FILE_MODE
            archive.writestr(info, entries[name], compresslevel=COMPRESSION_LEVEL)


def write_docpack(
    path: Path,
    content: PackContent,
    *,
    source: Source,
    created_at: datetime,
    generator: Generator | None = None,
) -> Manifest:
    """Write `content` as a pack at `path` and return its manifest.

    `created_at` must carry a time zone; it is stored in UTC. The file appears at `path` only
    once complete (written beside it, then renamed), so a reader never sees half a pack.
    """
    if created_at.tzinfo is None:
        raise ValueError("created_at needs a time zone, e.g. datetime(..., tzinfo=UTC)")
    content = canonical(content)
    entries = encode_content(content)
    manifest = build_manifest(
        content,
        entries,
        source=source,
        created_at=created_at.astimezone(UTC),
        generator=generator if generator is not None else Generator(version=__version__),
    )
    # Only the manifest is indented: it is small and read by people. Content entries are compact,
    # which makes them faster to parse.
    entries[MANIFEST] = _json(manifest, indent=2, exclude={"usage"})
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.partial")
    try:
        with partial.open("xb") as stream:
            _write_zip(stream, entries)
            stream.flush()
            os.fsync(stream.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest

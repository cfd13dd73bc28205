"""Reading a .docpack as untrusted input.

A pack may come from anywhere. Before decompressing anything the reader checks the zip's
directory: every entry has a flat, known name, appears once, and declares a size under the
limits and a plausible compression ratio. It then decompresses each entry counting the bytes,
so a directory that lies about sizes cannot make it hold more than the limits allow. It never
extracts: nothing is written to disk. Every problem raises a `DocpackError` naming the pack,
the entry and what is wrong.

The checksum covers the content entries. It catches corruption and edits; it is not a
signature, so someone who rewrites the content and the manifest together is not detected.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from doctown import collector
from doctown.docpack.format import (
    ADDED_IN_1_1,
    CLUSTERS,
    EMBEDDINGS,
    ENTRY_ORDER,
    GRAPH,
    LEGACY_SCHEMA_VERSION,
    MANIFEST,
    NODES,
    OVERVIEWS,
    REQUIRED_ENTRIES,
    SCHEMA_VERSION,
    SOURCE_MAP,
    SUPPORTED_VERSIONS,
    SYMBOL_CONTEXTS,
    Clusters,
    Graph,
    Manifest,
    Nodes,
    PackContent,
    SourceMap,
    Symbol,
    SymbolContexts,
    content_digest,
    statistics_of,
)
from doctown.docpack.overviews import Overviews
from doctown.errors import DocpackError, DocpackTamperedError

_Model = TypeVar("_Model", bound=BaseModel)

_CHUNK_BYTES = 1 << 20
_MAX_SHOWN_ERRORS = 5
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class Limits:
    """What the reader agrees to decompress; a pack beyond any limit is refused unread."""

    max_pack_bytes: int = 512 << 20
    max_entry_bytes: int = 256 << 20
    max_total_bytes: int = 512 << 20
    # Measured packs expand 10-30x (symbol_contexts.json, with its repeated prompt prefix, the
    # most); deflate tops out near 1000x, which zip bombs use. The size limits bound memory
    # whatever the ratio; this refuses a bomb before it is inflated at all.
    max_ratio: int = 200
    # Below this size an entry is harmless whatever its ratio (a short, repetitive file).
    ratio_floor_bytes: int = 1 << 20


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Docpack:
    """A pack read into memory.

    `problems` lists where the content disagrees with the manifest (checksum, statistics,
    flags); it is empty for an intact pack and can only be non-empty when read with
    `verify=False`.
    """

    path: Path
    manifest: Manifest
    content: PackContent
    problems: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        """True when the content matches the manifest."""
        return not self.problems

    @property
    def symbols(self) -> list[Symbol]:
        """The pack's symbols, as stored in nodes.json."""
        return self.content.nodes.symbols


def read_docpack(
    path: Path,
    *,
    verify: bool = True,
    load_contexts: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> Docpack:
    """Read and validate the pack at `path`.

    Raises DocpackError when the pack cannot be read safely. With `verify` (the default) a
    pack whose content disagrees with its manifest raises DocpackTamperedError; without it
    the disagreements are returned in `Docpack.problems`, for `doctown inspect` to show.
    Without `load_contexts`, symbol_contexts.json (often the largest entry) is checksummed
    but not parsed, and `content.symbol_contexts` is None.
    """
    entries = _read_entries(path, limits)
    manifest = _parse_manifest(path, entries[MANIFEST])
    if manifest.schema_version == LEGACY_SCHEMA_VERSION:
        for name in ADDED_IN_1_1:
            if name in entries:
                raise DocpackError(
                    f"{path}: entry {name!r} is not part of {LEGACY_SCHEMA_VERSION} (it came with "
                    f"{SCHEMA_VERSION}); refusing the pack."
                )
    contexts = entries.get(SYMBOL_CONTEXTS) if load_contexts else None
    overviews = entries.get(OVERVIEWS)
    with collector.paused():  # hundreds of thousands of small objects, no cycles
        content = PackContent(
            nodes=_parse(path, NODES, entries[NODES], Nodes),
            graph=_parse(path, GRAPH, entries[GRAPH], Graph),
            clusters=_parse(path, CLUSTERS, entries[CLUSTERS], Clusters),
            source_map=_parse(path, SOURCE_MAP, entries[SOURCE_MAP], SourceMap),
            symbol_contexts=(
                _parse(path, SYMBOL_CONTEXTS, contexts, SymbolContexts)
                if contexts is not None
                else None
            ),
            embeddings=entries.get(EMBEDDINGS),
            overviews=(
                _parse(path, OVERVIEWS, overviews, Overviews) if overviews is not None else None
            ),
        )
    _check_unique_ids(path, content.nodes)
    problems = integrity_problems(manifest, content, entries)
    if verify and problems:
        raise DocpackTamperedError(
            f"{path}: {'; '.join(problems)}. The pack was modified after it was written, or "
            "is corrupt: rebuild it with `doctown build`."
        )
    return Docpack(path=path, manifest=manifest, content=content, problems=tuple(problems))


def integrity_problems(
    manifest: Manifest, content: PackContent, entries: dict[str, bytes]
) -> list[str]:
    """Every way the content disagrees with the manifest; empty for an intact pack."""
    problems = []
    digest = content_digest(entries)
    if manifest.checksum.value != digest:
        problems.append(
            f"checksum mismatch: the content entries hash to {digest}, "
            f"the manifest says {manifest.checksum.value}"
        )
    if manifest.docpack_id != f"sha256:{digest}":
        problems.append(f"docpack_id {manifest.docpack_id} is not the content's sha256:{digest}")
    actual = statistics_of(content)
    for field in type(actual).model_fields:
        claimed, counted = getattr(manifest.statistics, field), getattr(actual, field)
        if claimed != counted:
            problems.append(f"statistics.{field} says {claimed}, the content has {counted}")
    for flag, name in (
        ("has_symbol_contexts", SYMBOL_CONTEXTS),
        ("has_embeddings", EMBEDDINGS),
        ("has_overviews", OVERVIEWS),
    ):
        if getattr(manifest.optional, flag) != (name in entries):
            present = "present" if name in entries else "absent"
            problems.append(
                f"optional.{flag} is {getattr(manifest.optional, flag)}, {name} is {present}"
            )
    return problems


# --- the zip ---------------------------------------------------------------------------------


def _name_problem(name: str) -> str | None:
    if "\x00" in name:
        return "has a NUL byte in its name"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "is an absolute path"
    if ".." in re.split(r"[/\\]", name):
        return "climbs out of the archive with '..'"
    if "/" in name or "\\" in name:
        return "is inside a folder, and docpack entries are flat"
    if name not in ENTRY_ORDER:
        return f"is not a docpack entry (those are {', '.join(ENTRY_ORDER)})"
    return None


def _check_directory(path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    seen: set[str] = set()
    total = 0
    for info in infos:
        # orig_filename is the name as stored; zipfile's `filename` is already cleaned up.
        name = info.orig_filename
        refuse = f"{path}: entry {name!r}"
        if problem := _name_problem(name):
            raise DocpackError(f"{refuse} {problem}; refusing the pack.")
        if name in seen:
            raise DocpackError(f"{refuse} appears twice; refusing an ambiguous pack.")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise DocpackError(f"{refuse} is encrypted; packs are never encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DocpackError(
                f"{refuse} uses compression method {info.compress_type}; packs use deflate."
            )
        if info.file_size > limits.max_entry_bytes:
            raise DocpackError(
                f"{refuse} is oversized: {info.file_size} bytes uncompressed, above the limit "
                f"of {limits.max_entry_bytes}."
            )
        if (
            info.file_size > limits.ratio_floor_bytes
            and info.file_size > limits.max_ratio * info.compress_size
        ):
            ratio = info.file_size // max(info.compress_size, 1)
            raise DocpackError(
                f"{refuse} expands {ratio}:1 ({info.compress_size} bytes to {info.file_size}), "
                f"above the {limits.max_ratio}:1 limit; refusing a likely zip bomb."
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise DocpackError(
                f"{path}: the entries add up to more than {limits.max_total_bytes} bytes "
                "uncompressed; refusing the pack."
            )
    missing = [name for name in REQUIRED_ENTRIES if name not in seen]
    if missing:
        raise DocpackError(
            f"{path}: missing required entr{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(missing)}; a docpack holds {', '.join(REQUIRED_ENTRIES)}."
        )


def _read_entry(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # zipfile itself stops at the declared size; counting here keeps the bound our own.
    parts = []
    count = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                count += len(chunk)
                if count > info.file_size:
                    raise DocpackError(
                        f"{path}: entry {info.orig_filename!r} decompresses to more than the "
                        f"{info.file_size} bytes it declares; refusing the pack."
                    )
                parts.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise DocpackError(f"{path}: entry {info.orig_filename!r} is corrupt: {exc}.") from None
    return b"".join(parts)


def _read_entries(path: Path, limits: Limits) -> dict[str, bytes]:
    if not path.is_file():
        raise DocpackError(f"{path}: no such file. Pass the path of a .docpack file.")
    size = path.stat().st_size
    if size > limits.max_pack_bytes:
        raise DocpackError(
            f"{path}: {size} bytes, above the {limits.max_pack_bytes} byte limit for a pack."
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise DocpackError(
            f"{path}: not a readable zip archive ({exc}); a .docpack is a zip file."
        ) from None
    with archive:
        infos = archive.infolist()
        _check_directory(path, infos, limits)
        return {info.orig_filename: _read_entry(path, archive, info) for info in infos}


# --- the JSON --------------------------------------------------------------------------------


def _parse_manifest(path: Path, data: bytes) -> Manifest:
    # Read the version before validating: a newer pack deserves "unsupported version", not a
    # list of unknown fields.
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise DocpackError(f"{path}: {MANIFEST} is not valid JSON: {exc}.") from None
    if not isinstance(raw, dict):
        raise DocpackError(f"{path}: {MANIFEST} must hold a JSON object.")
    if "schema_version" not in raw:
        raise DocpackError(f"{path}: {MANIFEST} has no schema_version; is this a docpack?")
    if raw["schema_version"] not in SUPPORTED_VERSIONS:
        raise DocpackError(
            f"{path}: schema_version {raw['schema_version']!r} is not supported; this doctown "
            f"reads {' and '.join(SUPPORTED_VERSIONS)}. Upgrade doctown, or rebuild the pack "
            "with this version."
        )
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise DocpackError(_invalid(path, MANIFEST, exc)) from None


def _parse(path: Path, entry: str, data: bytes, model: type[_Model]) -> _Model:
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        raise DocpackError(_invalid(path, entry, exc)) from None


def _invalid(path: Path, entry: str, exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if errors[0]["type"] == "json_invalid":
        return f"{path}: {entry} is not valid JSON: {errors[0]['msg']}."
    shown = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}"
        for error in errors[:_MAX_SHOWN_ERRORS]
    )
    more = len(errors) - _MAX_SHOWN_ERRORS
    return f"{path}: {entry} does not match the docpack schema: {shown}" + (
        f" (+{more} more)." if more > 0 else "."
    )


def _check_unique_ids(path: Path, nodes: Nodes) -> None:
    counts = Counter(symbol.id for symbol in nodes.symbols)
    repeated = sorted(symbol_id for symbol_id, count in counts.items() if count > 1)
    if repeated:
        raise DocpackError(
            f"{path}: {NODES} repeats symbol id{'s' if len(repeated) > 1 else ''} "
            f"{', '.join(map(repr, repeated[:_MAX_SHOWN_ERRORS]))}; ids must be unique."
        )

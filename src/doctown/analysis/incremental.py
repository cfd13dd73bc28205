"""Re-resolving only what a change can affect.

Each file is resolved on its own (`resolve.FileResolution`), and what it finds depends on
three things only: its own facts, the facts of the files its lookups read (recorded as
`reads`), and, for a call that reaches no symbol, which symbols in the repository bear the
called name. So when files change but the set of files and their modules stay as they
were, these are resolved again and every other file keeps its last resolution:

- the changed files;
- the files that read a file of a changed module: its importers, the files that reached it
  through them, the other files of its package. The files of one module share its members,
  so they stand for each other; Rust paths reach any module of any crate, so every Rust
  file stands for every other;
- the files that call a name whose bearers changed: a name a changed file defines, before
  or after the change, that went from no bearer, one or several to another of these, or to
  another single bearer.

A file added, removed or moved, or a module named differently (a new `package` line, an
edited go.mod or Cargo.toml), resolves everything again.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, cast

from doctown.analysis.facts import CALLABLE_KINDS, FileFacts
from doctown.analysis.modules import Layout, module_system
from doctown.analysis.resolve import FileResolution
from doctown.analysis.symbols import SymbolTable, local_names, symbol_ids

# Beyond this share of changed files, resolving everything costs less than sorting it out.
MAX_CHANGED_SHARE = 0.25


class FileState(NamedTuple):
    """A file as the last analysis saw it, with its resolution."""

    sha256: str
    language: str
    module_key: str
    module: str
    resolution: FileResolution


def current_states(
    table: SymbolTable,
    layout: Layout,
    hashes: Mapping[str, str],
    resolutions: Iterable[FileResolution],
) -> dict[str, FileState]:
    """What to keep of this analysis for the next one, by path."""
    return {
        path: FileState(
            hashes[path],
            facts.language,
            layout.modules[path].key,
            layout.modules[path].qualified,
            resolution,
        )
        for path, facts, resolution in zip(table.paths, table.facts, resolutions, strict=True)
    }


def encode(states: Mapping[str, FileState]) -> bytes:
    """States as bytes (plain values only: see `cache.py`)."""
    plain = {path: (*state[:4], tuple(state.resolution)) for path, state in states.items()}
    return marshal.dumps(cast(Any, plain))


def decode(data: bytes) -> dict[str, FileState]:
    """States from `encode` bytes."""
    plain = marshal.loads(data)  # noqa: S302 - plain values only
    return {
        path: FileState(sha256, language, key, module, FileResolution._make(resolution))
        for path, (sha256, language, key, module, resolution) in plain.items()
    }


def files_to_resolve(
    previous: Mapping[str, FileState],
    table: SymbolTable,
    layout: Layout,
    hashes: Mapping[str, str],
    old_facts: Callable[[list[tuple[str, str]]], Mapping[str, FileFacts]],
) -> list[int] | None:
    """The files (table indexes) whose last resolution may no longer hold; None for all.

    `hashes` gives each file's content hash now; `old_facts` returns the facts of files as
    they were, by path, from (path, language) pairs, leaving out any it no longer has.
    """
    paths = table.paths
    if previous.keys() != set(paths):
        return None
    for path, facts in zip(paths, table.facts, strict=True):
        state, info = previous[path], layout.modules[path]
        if (state.language, state.module_key, state.module) != (
            facts.language,
            info.key,
            info.qualified,
        ):
            return None
    changed = [file for file, path in enumerate(paths) if previous[path].sha256 != hashes[path]]
    if len(changed) > MAX_CHANGED_SHARE * len(paths):
        return None
    if not changed:
        return []
    before = old_facts([(paths[file], previous[paths[file]].language) for file in changed])
    if len(before) != len(changed):
        return None
    names = _names_with_other_bearers(table, changed, before)
    group = {path: _group(path, layout) for path in paths}
    changed_groups = {group[paths[file]] for file in changed}
    affected = set(changed)
    for file, (path, facts) in enumerate(zip(paths, table.facts, strict=True)):
        if file in affected:
            continue
        reads_a_change = any(
            group[read] in changed_groups for read in previous[path].resolution.reads
        )
        if reads_a_change or _calls_one_of(facts, names):
            affected.add(file)
    return sorted(affected)


def _calls_one_of(facts: FileFacts, names: set[str]) -> bool:
    return bool(names) and any(call.name.split("<", 1)[0] in names for call in facts.calls)


def _group(path: str, layout: Layout) -> str:
    """The files that stand for each other: one module's, or every Rust file."""
    key = layout.modules[path].key
    return "rust" if module_system(layout.files[path].language) == "rust" else key


def _names_with_other_bearers(
    table: SymbolTable, changed: list[int], before: Mapping[str, FileFacts]
) -> set[str]:
    """Names defined in the changed files, before or after, whose guessed target changed."""
    changed_files = set(changed)
    old: dict[str, list[str]] = {}
    new: dict[str, list[str]] = {}
    for file in changed:
        path = table.paths[file]
        facts = before[path]
        for definition, symbol_id in zip(
            facts.definitions, symbol_ids(path, local_names(facts)), strict=True
        ):
            if definition.kind in CALLABLE_KINDS:
                old.setdefault(definition.name, []).append(symbol_id)
        base = table.base[file]
        for offset, definition in enumerate(table.facts[file].definitions):
            if definition.kind in CALLABLE_KINDS:
                new.setdefault(definition.name, []).append(table.ids[base + offset])
    found = set()
    for name in old.keys() | new.keys():
        others = [
            table.ids[index]
            for index in table.by_name.get(name, ())
            if table.file_of[index] not in changed_files
        ]
        if _bearer(others + old.get(name, [])) != _bearer(others + new.get(name, [])):
            found.add(name)
    return found


def _bearer(ids: list[str]) -> str | int:
    """What a call by this name alone is guessed to reach: the one id, or how many (0, 2+)."""
    return ids[0] if len(ids) == 1 else min(len(ids), 2)

"""The symbol table: every definition of every file, numbered, named and indexed for lookup.

Symbol `i` for definition `d` of file `f` is `base[f] + d`; each file's module symbol comes
after all definitions. Ids are stable: a file's path, then the names from the file down to
the symbol (`src/app.py::Server.start`), with `#2`, `#3` for repeated names.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from doctown.analysis.facts import (
    CALLABLE_KINDS,
    MODULE_SCOPE,
    Binding,
    Definition,
    FileFacts,
    ImportFact,
)
from doctown.analysis.languages import LANGUAGES, Language, visibility
from doctown.analysis.modules import Layout
from doctown.analysis.records import Symbol


@dataclass(slots=True)
class SymbolTable:
    """Parallel arrays over symbols plus the indexes name lookup needs."""

    paths: list[str]
    facts: list[FileFacts]
    base: list[int] = field(default_factory=list)
    languages: list[Language] = field(default_factory=list)
    module_key: list[str] = field(default_factory=list)
    module_symbol: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    file_of: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    local_names: list[str] = field(default_factory=list)
    children: list[dict[str, list[int]]] = field(default_factory=list)
    module_members: list[dict[str, list[int]]] = field(default_factory=list)
    package_members: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    files_of_module: dict[str, list[int]] = field(default_factory=dict)
    default_exports: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, list[int]] = field(default_factory=dict)
    bindings_by_scope: list[dict[int, dict[str, list[Binding]]]] = field(default_factory=list)
    imports_by_scope: list[dict[int, list[ImportFact]]] = field(default_factory=list)
    # Filled by the resolver: methods declared outside their type, and what types implement.
    owners: dict[int, int] = field(default_factory=dict)
    implemented: dict[int, list[str]] = field(default_factory=dict)
    attributes: dict[int, dict[str, list[tuple[int, int, Binding]]]] = field(default_factory=dict)
    definitions_count: int = 0

    def definition(self, index: int) -> Definition:
        file = self.file_of[index]
        return self.facts[file].definitions[index - self.base[file]]


def build_table(files: dict[str, FileFacts], layout: Layout) -> SymbolTable:
    """Number and index every definition of every file."""
    paths = sorted(files)
    table = SymbolTable(paths=paths, facts=[files[path] for path in paths])
    total = 0
    for facts in table.facts:
        table.base.append(total)
        total += len(facts.definitions)
    table.definitions_count = total
    for file, (path, facts) in enumerate(zip(paths, table.facts, strict=True)):
        table.languages.append(LANGUAGES[facts.language])
        key = layout.modules[path].key
        table.module_key.append(key)
        table.files_of_module.setdefault(key, []).append(file)
        table.module_symbol.append(total + file)
        members: dict[str, list[int]] = defaultdict(list)
        package = table.package_members.setdefault(key, defaultdict(list))
        locals_ = local_names(facts)
        table.local_names.extend(locals_)
        table.ids.extend(symbol_ids(path, locals_))
        for offset, definition in enumerate(facts.definitions):
            index = table.base[file] + offset
            parent = (
                table.base[file] + definition.parent if definition.parent != MODULE_SCOPE else -1
            )
            table.kinds.append(definition.kind)
            table.file_of.append(file)
            table.parents.append(parent)
            table.children.append({})
            if parent != -1:
                table.children[parent].setdefault(definition.name, []).append(index)
            elif not definition.owner:
                members[definition.name].append(index)
                package[definition.name].append(index)
            if definition.kind in CALLABLE_KINDS:
                table.by_name.setdefault(definition.name, []).append(index)
        table.module_members.append(dict(members))
        scopes: dict[int, dict[str, list[Binding]]] = {}
        for binding in facts.bindings:
            if "." not in binding.target:
                scopes.setdefault(binding.scope, {}).setdefault(binding.target, []).append(binding)
        table.bindings_by_scope.append(scopes)
        imports: dict[int, list[ImportFact]] = {}
        for fact in facts.imports:
            imports.setdefault(fact.scope, []).append(fact)
        table.imports_by_scope.append(imports)
        if facts.default_exports:
            table.default_exports[key] = facts.default_exports[0]
    for file, path in enumerate(paths):
        table.ids.append(path)
        table.kinds.append("module")
        table.file_of.append(file)
        table.parents.append(-1)
        table.local_names.append("")
        table.children.append(table.module_members[file])
    return table


def local_names(facts: FileFacts) -> list[str]:
    """Each definition's name path inside its file: `Server.start`, `Store.add`."""
    names: list[str] = []
    for definition in facts.definitions:
        if definition.owner:
            names.append(f"{_owner_name(definition.owner)}.{definition.name}")
        elif definition.parent != MODULE_SCOPE:
            names.append(f"{names[definition.parent]}.{definition.name}")
        else:
            names.append(definition.name)
    return names


def symbol_ids(path: str, local: list[str]) -> list[str]:
    """The ids of a file's definitions from their `local_names`; `#2` marks a repeat."""
    seen: dict[str, int] = {}
    ids = []
    for name in local:
        count = seen[name] = seen.get(name, 0) + 1
        ids.append(f"{path}::{name}#{count}" if count > 1 else f"{path}::{name}")
    return ids


def _owner_name(owner: str) -> str:
    """`*Server[T]` -> `Server`: the type name a receiver or impl names."""
    name = owner.lstrip("*&").split("<")[0].split("[")[0]
    return name.rsplit("::", 1)[-1].rsplit(".", 1)[-1]


def to_symbols(table: SymbolTable, layout: Layout, lines: list[int]) -> list[Symbol]:
    """The public records of every symbol, module symbols first within each file.

    `lines` holds each file's line count, in the table's file order.
    """
    symbols: list[Symbol] = []
    for file, (path, facts) in enumerate(zip(table.paths, table.facts, strict=True)):
        info = layout.modules[path]
        language = LANGUAGES[facts.language]
        symbols.append(
            Symbol(
                id=path,
                name=info.qualified.rsplit(info.separator, 1)[-1] or path,
                qualified_name=info.qualified,
                kind="module",
                language=facts.language,
                file_path=path,
                start_byte=0,
                end_byte=0,
                start_line=1,
                end_line=lines[file],
                signature="",
                docstring=facts.module_doc,
                visibility="public",
                parent_id=None,
            )
        )
        for offset, definition in enumerate(facts.definitions):
            index = table.base[file] + offset
            parent = table.owners.get(index, table.parents[index])
            local = table.local_names[index].replace(".", info.separator)
            symbols.append(
                Symbol(
                    id=table.ids[index],
                    name=definition.name,
                    qualified_name=f"{info.qualified}{info.separator}{local}",
                    kind=definition.kind,
                    language=facts.language,
                    file_path=path,
                    start_byte=definition.start_byte,
                    end_byte=definition.end_byte,
                    start_line=definition.start_line,
                    end_line=definition.end_line,
                    signature=definition.signature,
                    docstring=definition.docstring,
                    visibility=visibility(language, definition.name, definition.modifiers),
                    parent_id=table.ids[parent] if parent != -1 else path,
                )
            )
    return symbols

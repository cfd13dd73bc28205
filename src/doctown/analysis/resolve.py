"""Call resolution in tiers: each call goes to the symbol the code names, or stays a name.

The tiers, most certain first (their confidences are in `model.TIER_CONFIDENCE`):

1. scope: a name defined in an enclosing function, the module, or its package;
2. import: an imported name or alias, or a member of an imported module;
3. self: `self.`/`this.`/`cls.`/`super()` through the enclosing class and its bases;
4. declared / inferred: a receiver whose type is annotated or declared, or assigned from
   `Class(...)`, `new Class()` or a function whose declared type or `return`s give one
   class, or a loop variable over a `list[X]`;
5. unique_name: the only function, method or class of that name in the repository; a guess,
   kept for the graph metrics but never shown to the model. Never for a call through a
   local variable or parameter, which hides outer names even when its value is unknown.

A call that reaches none of these stays a name: `external` when it leaves the repository,
`ambiguous` when several symbols could be meant, `unknown` otherwise. Nothing is guessed
beyond that: a wrong edge costs more than a missing one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from doctown.analysis.facts import CALLABLE_KINDS, MODULE_SCOPE
from doctown.analysis.forking import can_fork, in_forked_child
from doctown.analysis.names import Found, NameResolver, weaker
from doctown.analysis.records import TIER_CONFIDENCE, Edge, UnresolvedCall
from doctown.analysis.symbols import SymbolTable
from doctown.analysis.values import Defined, External, Module, Value, Variable

# Below this many calls, a second process costs more than it saves.
PARALLEL_MIN_CALLS = 20_000


class FileResolution(NamedTuple):
    """What resolving one file found, by symbol id, and the files it looked into.

    It stays true while none of the files in `reads` changes and no file changes which
    symbol a call by name alone would guess (see `incremental.py`). Plain strings and
    numbers, so that it crosses processes and is stored as it is.
    """

    # (source id, target id, call sites, tier): the file's calls that reach a symbol.
    calls: tuple[tuple[str, str, int, str], ...]
    # (source id, name as written, reason, line): the calls that stay names.
    unresolved: tuple[tuple[str, str, str, int], ...]
    # What the file's module imports: the symbols and modules it names, and the text.
    imports: tuple[str, ...]
    import_names: tuple[str, ...]
    # The paths of the files whose facts its resolution read, itself included.
    reads: tuple[str, ...]


@dataclass(slots=True)
class Resolution:
    """Resolved calls and imports."""

    edges: list[Edge] = field(default_factory=list)
    unresolved: list[UnresolvedCall] = field(default_factory=list)
    imports: dict[str, list[str]] = field(default_factory=dict)


class CallResolver(NameResolver):
    """Resolves every call site, and the imports of every file, through name lookup."""

    def start_file(self, file: int) -> None:
        super().start_file(file)
        self._call_cache: dict[tuple[int, int, str, str], Found] = {}

    def resolve(self, files: Sequence[int], *, processes: int = 1) -> list[FileResolution]:
        """Resolve the call sites and imports of `files`, in up to two processes when it pays."""
        table = self.table
        calls = sum(len(table.facts[file].calls) for file in files)
        if processes > 1 and calls >= PARALLEL_MIN_CALLS and can_fork():
            # Halves by call count. Files are resolved independently of each other, so the
            # halves give what one process would.
            running, middle = 0, len(files)
            for position, file in enumerate(files):
                running += len(table.facts[file].calls)
                if running >= calls // 2:
                    middle = position + 1
                    break
            mine, theirs = in_forked_child(
                lambda: [tuple(row) for row in self.resolve_files(files[middle:])],
                lambda: self.resolve_files(files[:middle]),
            )
            return mine + [FileResolution._make(row) for row in theirs]
        return self.resolve_files(files)

    def resolve_files(self, files: Iterable[int]) -> list[FileResolution]:
        """The resolution of each file, in order."""
        return [self.resolve_file(file) for file in files]

    def resolve_file(self, file: int) -> FileResolution:
        """Resolve one file's call sites and imports, from a clean slate."""
        self.start_file(file)
        table = self.table
        ids = table.ids
        weights: dict[tuple[int, int], tuple[int, str]] = {}
        unresolved: list[tuple[str, str, str, int]] = []
        facts = table.facts[file]
        language = table.languages[file]
        base = table.base[file]
        module_symbol = table.module_symbol[file]
        for call in facts.calls:
            source = base + call.scope if call.scope != MODULE_SCOPE else module_symbol
            if "<" in call.name:
                call = call._replace(name=call.name.split("<", 1)[0])  # new List<T>()
            value, tier = self.call_target(
                file, call.scope, call.name, call.receiver, language.super_names
            )
            if isinstance(value, Defined):
                self._read_symbol(value.index)
                if table.kinds[value.index] in CALLABLE_KINDS:
                    self._count(weights, source, value.index, tier)
                    continue
            shown = f"{call.receiver}.{call.name}" if call.receiver else call.name
            # A call through a variable of unknown value is not a call by that name.
            reason = (
                "external"
                if isinstance(value, External)
                else "unknown"
                if isinstance(value, Variable)
                else ""
            )
            if not reason:
                # Which symbols bear a name is read from every file; `incremental.py`
                # tracks it by name rather than as reads.
                candidates = (
                    table.by_name.get(call.name, [])
                    if call.name not in language.builtins or call.receiver
                    else []
                )
                if len(candidates) == 1:
                    self._count(weights, source, candidates[0], "unique_name")
                    continue
                reason = "ambiguous" if candidates else "unknown"
            unresolved.append((ids[source], shown, reason, call.line))
        imports, import_names = self._imports(file)
        return FileResolution(
            calls=tuple(
                (ids[source], ids[target], count, tier)
                for (source, target), (count, tier) in weights.items()
            ),
            unresolved=tuple(unresolved),
            imports=imports,
            import_names=import_names,
            reads=tuple(sorted(table.paths[read] for read in self.reads)),
        )

    @staticmethod
    def _count(
        weights: dict[tuple[int, int], tuple[int, str]], source: int, target: int, tier: str
    ) -> None:
        """One more call site from source to target; the edge keeps its most certain tier."""
        count, best = weights.get((source, target), (0, tier))
        if TIER_CONFIDENCE[tier] > TIER_CONFIDENCE[best]:
            best = tier
        weights[(source, target)] = (count + 1, best)

    def call_target(
        self, file: int, scope: int, name: str, receiver: str, super_names: frozenset[str]
    ) -> Found:
        """What a call names, and how it was found; memoised per scope and callee."""
        key = (file, scope, receiver, name)
        cached = self._call_cache.get(key)
        if cached is None:
            cuts = self._cuts
            cached = self._call_target(file, scope, name, receiver, super_names)
            if self._cuts == cuts:
                self._call_cache[key] = cached
        return cached

    def _call_target(
        self, file: int, scope: int, name: str, receiver: str, super_names: frozenset[str]
    ) -> Found:
        if not receiver:
            return self.lookup(file, scope, name)
        if receiver in super_names:
            owner = self.enclosing_type(file, scope)
            if owner is None:
                return None, "self"
            for cls in self.mro(owner)[1:]:
                found = self.table.children[cls].get(name)
                if found:
                    return Defined(found[0]), "self"
            return None, "self"
        if receiver.endswith(")"):
            value, tier = self.call_result(file, scope, receiver)
        else:
            value, tier = self.path_value(file, scope, receiver, 0)
        if value is None:
            return None, tier
        member, step = self.member(value, name)
        return member, weaker(tier, step)

    def _imports(self, file: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The symbols and modules a file's imports name, and the imports as written."""
        table = self.table
        source = table.ids[table.module_symbol[file]]
        targets: dict[str, None] = {}
        names: list[str] = []
        for fact in table.facts[file].imports:
            names.append(_import_text(fact.module, fact.name, fact.alias))
            for binding in self.layout.bindings(table.paths[file], fact):
                value: Value | None = (
                    self.target(binding.target, 0)[0]
                    if binding.name != "*"
                    else (Module(binding.target.key) if binding.target.kind == "star" else None)
                )
                target = self._symbol_of(value)
                if target is not None and target != source:
                    targets[target] = None
        return tuple(targets), tuple(names)

    def _symbol_of(self, value: Value | None) -> str | None:
        if isinstance(value, Module):
            self._read_module(value.key)
            files = self.table.files_of_module.get(value.key)
            return self.table.ids[self.table.module_symbol[files[0]]] if files else None
        if isinstance(value, Defined):
            self._read_symbol(value.index)
            return self.table.ids[value.index]
        return None


def _import_text(module: str, name: str, alias: str) -> str:
    text = f"{module}.{name}" if name and name != "*" else module
    return f"{text} as {alias}" if alias else text


def assemble(table: SymbolTable, resolutions: Sequence[FileResolution]) -> Resolution:
    """The edges and unresolved calls of every file, in the table's file order.

    `resolutions` holds each file's resolution in that order; the order of the edges is
    always the same, so that the graph metrics computed from them are too.
    """
    result = Resolution()
    edges = result.edges
    for resolution in resolutions:
        for source, target, count, tier in resolution.calls:
            edges.append(Edge(source, target, "calls", TIER_CONFIDENCE[tier], tier, count))
        result.unresolved.extend(UnresolvedCall._make(row) for row in resolution.unresolved)
    for file, resolution in enumerate(resolutions):
        source = table.ids[table.module_symbol[file]]
        edges.extend(Edge(source, target, "imports") for target in resolution.imports)
        result.imports[source] = list(resolution.import_names)
    return result

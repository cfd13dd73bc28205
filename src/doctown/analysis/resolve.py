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

import marshal
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from doctown.analysis.facts import CALLABLE_KINDS, MODULE_SCOPE
from doctown.analysis.model import TIER_CONFIDENCE, Edge, UnresolvedCall
from doctown.analysis.modules import Layout
from doctown.analysis.names import Found, NameResolver, weaker
from doctown.analysis.symbols import SymbolTable
from doctown.analysis.values import Defined, External, Module, Value, Variable

# Below this many calls, a second process costs more than it saves.
PARALLEL_MIN_CALLS = 20_000

# (source, target, call sites, tier) and (source, name as written, reason, line), by index.
EdgeRow = tuple[int, int, int, str]
UnresolvedRow = tuple[int, str, str, int]


@dataclass(slots=True)
class Resolution:
    """Resolved calls and imports."""

    edges: list[Edge] = field(default_factory=list)
    unresolved: list[UnresolvedCall] = field(default_factory=list)
    imports: dict[str, list[str]] = field(default_factory=dict)


class CallResolver(NameResolver):
    """Resolves every call site, and the imports of every file, through name lookup."""

    def __init__(self, table: SymbolTable, layout: Layout) -> None:
        super().__init__(table, layout)
        self._call_cache: dict[tuple[int, int, str, str], Found] = {}

    def resolve(self, *, processes: int = 1) -> Resolution:
        """Resolve every call site of every file, in up to two processes when it pays."""
        table = self.table
        files = range(len(table.facts))
        calls = sum(len(facts.calls) for facts in table.facts)
        if processes > 1 and calls >= PARALLEL_MIN_CALLS and can_fork():
            # Halves by call count; each half keeps file order, so the merged result is the
            # one a single process would produce.
            running, middle = 0, len(table.facts)
            for file, facts in enumerate(table.facts):
                running += len(facts.calls)
                if running >= calls // 2:
                    middle = file + 1
                    break
            weights, unresolved = in_forked_child(
                lambda: self.resolve_files(range(middle, len(files))),
                lambda: self.resolve_files(range(middle)),
            )
        else:
            weights, unresolved = self.resolve_files(files)
        result = Resolution()
        for source, target, count, tier in weights:
            result.edges.append(
                Edge(
                    table.ids[source],
                    table.ids[target],
                    "calls",
                    TIER_CONFIDENCE[tier],
                    tier,
                    count,
                )
            )
        result.unresolved = [
            UnresolvedCall(table.ids[source], name, reason, line)
            for source, name, reason, line in unresolved
        ]
        self._import_edges(result)
        return result

    def resolve_files(self, files: Iterable[int]) -> tuple[list[EdgeRow], list[UnresolvedRow]]:
        """Call edges (source, target, call sites, tier) and unresolved calls of some files."""
        table = self.table
        weights: dict[tuple[int, int], tuple[int, str]] = {}
        unresolved: list[UnresolvedRow] = []
        for file in files:
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
                if isinstance(value, Defined) and table.kinds[value.index] in CALLABLE_KINDS:
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
                    candidates = (
                        table.by_name.get(call.name, [])
                        if call.name not in language.builtins or call.receiver
                        else []
                    )
                    if len(candidates) == 1:
                        self._count(weights, source, candidates[0], "unique_name")
                        continue
                    reason = "ambiguous" if candidates else "unknown"
                unresolved.append((source, shown, reason, call.line))
        edges = [
            (source, target, count, tier) for (source, target), (count, tier) in weights.items()
        ]
        return edges, unresolved

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
            cached = self._call_target(file, scope, name, receiver, super_names)
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

    def _import_edges(self, result: Resolution) -> None:
        table = self.table
        seen: set[tuple[str, str]] = set()
        for file, facts in enumerate(table.facts):
            source = table.ids[table.module_symbol[file]]
            names: list[str] = []
            for fact in facts.imports:
                names.append(_import_text(fact.module, fact.name, fact.alias))
                for binding in self.layout.bindings(table.paths[file], fact):
                    value: Value | None = (
                        self.target(binding.target, 0)[0]
                        if binding.name != "*"
                        else (Module(binding.target.key) if binding.target.kind == "star" else None)
                    )
                    target = self._symbol_of(value)
                    if target is not None and (source, target) not in seen and target != source:
                        seen.add((source, target))
                        result.edges.append(Edge(source, target, "imports"))
            result.imports[source] = names

    def _symbol_of(self, value: Value | None) -> str | None:
        if isinstance(value, Module):
            files = self.table.files_of_module.get(value.key)
            return self.table.ids[self.table.module_symbol[files[0]]] if files else None
        if isinstance(value, Defined):
            return self.table.ids[value.index]
        return None


def _import_text(module: str, name: str, alias: str) -> str:
    text = f"{module}.{name}" if name and name != "*" else module
    return f"{text} as {alias}" if alias else text


def resolve_calls(table: SymbolTable, layout: Layout, *, processes: int = 1) -> Resolution:
    """Resolve the calls and imports of every file in the table."""
    return CallResolver(table, layout).resolve(processes=processes)


def can_fork() -> bool:
    """Forking is safe only while no other thread might hold a lock the child inherits."""
    return os.name == "posix" and threading.active_count() == 1


def in_forked_child(
    child: Callable[[], tuple[list[EdgeRow], list[UnresolvedRow]]],
    parent: Callable[[], tuple[list[EdgeRow], list[UnresolvedRow]]],
) -> tuple[list[EdgeRow], list[UnresolvedRow]]:
    """`parent()` here while a forked copy of this process computes `child()`; both results.

    The child shares the symbol table copy-on-write, so nothing is sent to it, and it sends
    back plain rows with marshal. Should it fail, its half is computed here instead.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child process, measured through its output
        os.close(read_end)
        status = 1
        try:
            with os.fdopen(write_end, "wb") as stream:
                stream.write(marshal.dumps(child()))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    mine = parent()
    with os.fdopen(read_end, "rb") as stream:
        data = stream.read()
    _pid, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        theirs = child()
    else:
        edges, unresolved = marshal.loads(data)  # noqa: S302 - our own child's plain rows
        theirs = ([tuple(row) for row in edges], [tuple(row) for row in unresolved])
    return mine[0] + theirs[0], mine[1] + theirs[1]

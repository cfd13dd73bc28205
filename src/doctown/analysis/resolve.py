"""Call resolution in tiers: each call goes to the symbol the code names, or stays a name.

The tiers, most certain first (their confidences are in `model.TIER_CONFIDENCE`):

1. scope: a name defined in an enclosing function, the module, or its package;
2. import: an imported name or alias, or a member of an imported module;
3. self: `self.`/`this.`/`cls.`/`super()` through the enclosing class and its bases;
4. declared / inferred: a receiver whose type is annotated or declared, or assigned from
   `Class(...)`, `new Class()` or a function with a declared return type;
5. unique_name: the only function, method or class of that name in the repository; a guess,
   kept for the graph metrics but never shown to the model.

A call that reaches none of these stays a name: `external` when it leaves the repository,
`ambiguous` when several symbols could be meant, `unknown` otherwise. Nothing is guessed
beyond that: a wrong edge costs more than a missing one.
"""

from __future__ import annotations

import builtins
import marshal
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from doctown.analysis.facts import MODULE_SCOPE, Binding
from doctown.analysis.languages import LANGUAGES
from doctown.analysis.model import TIER_CONFIDENCE, Edge, UnresolvedCall
from doctown.analysis.modules import ImportTarget, Layout
from doctown.analysis.symbols import SymbolTable

TYPE_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "object"})
CALLABLE_KINDS = frozenset({"function", "method", *TYPE_KINDS})
# Binding forms that state a type rather than imply one.
DECLARED_FORMS = frozenset({"type", "field"})
# Below this many calls, a second process costs more than it saves.
PARALLEL_MIN_CALLS = 20_000
# Recursion guard for chains of inferred types and re-exports.
MAX_DEPTH = 12

# Names every program can call without defining or importing them.
BUILTINS: dict[str, frozenset[str]] = {
    "python": frozenset(dir(builtins)),
    "js": frozenset(
        [
            "Array",
            "Boolean",
            "Date",
            "Error",
            "JSON",
            "Map",
            "Math",
            "Number",
            "Object",
            "Promise",
            "Proxy",
            "Reflect",
            "RegExp",
            "Set",
            "String",
            "Symbol",
            "WeakMap",
            "WeakSet",
            "console",
            "parseInt",
            "parseFloat",
            "isNaN",
            "require",
            "setTimeout",
            "clearTimeout",
            "setInterval",
            "clearInterval",
            "fetch",
            "structuredClone",
            "queueMicrotask",
        ]
    ),
    "go": frozenset(
        [
            "append",
            "cap",
            "clear",
            "close",
            "complex",
            "copy",
            "delete",
            "imag",
            "len",
            "make",
            "max",
            "min",
            "new",
            "panic",
            "print",
            "println",
            "real",
            "recover",
        ]
    ),
    "rust": frozenset(
        ["Some", "None", "Ok", "Err", "Box", "Vec", "String", "Default", "drop", "panic"]
    ),
    "java": frozenset(
        ["System", "String", "Object", "Math", "Integer", "Long", "Double", "Boolean"]
    ),
}

_PATH = re.compile(r"^[A-Za-z_$#][\w$]*(?:(?:\.|::)[A-Za-z_$#][\w$]*)*$")
_PATH_SPLIT = re.compile(r"\.|::")
_CALL_MEMBERS = re.compile(r"^(.*\))((?:(?:\.|::)[A-Za-z_$][\w$]*)+)$")
_GENERIC_ARGS = re.compile(r"::<.*?>|<.*>|\[.*\]$")
_WRAPPERS = re.compile(
    r"^(?:Optional|Box|Rc|Arc|RefCell|Mutex|ClassVar|Final|Annotated)[\[<](.*)[\]>]$"
)

# (source, target, call sites, tier) and (source, name as written, reason, line), by index.
EdgeRow = tuple[int, int, int, str]
UnresolvedRow = tuple[int, str, str, int]

# A resolved value: ("sym", index), ("inst", class index), ("mod", key) or ("ext", name).
Value = tuple[str, object]


def _weaker(tier: str, other: str) -> str:
    return tier if TIER_CONFIDENCE[tier] <= TIER_CONFIDENCE[other] else other


def type_path(text: str) -> str | None:
    """The named type in an annotation: `Optional[Foo]`, `*Foo`, `&mut Foo`, `"Foo"` -> Foo."""
    text = text.strip().lstrip(":").strip().strip("\"'")
    for _ in range(4):
        text = text.lstrip("*&").removeprefix("mut").removeprefix("dyn").removeprefix("impl")
        text = text.strip()
        wrapped = _WRAPPERS.match(text)
        if wrapped:
            text = wrapped.group(1)
            continue
        if "|" in text:
            options = [part.strip() for part in text.split("|") if part.strip() not in _NONE]
            if len(options) != 1:
                return None
            text = options[0]
            continue
        break
    text = _GENERIC_ARGS.sub("", text)
    return text if _PATH.match(text) else None


_NONE = frozenset({"None", "null", "undefined", "nil"})
_ITERABLE = re.compile(
    r"^(?:[\w.]+\.)?(?:Iterator|Iterable|Generator|AsyncIterator|AsyncIterable|"
    r"AsyncGenerator|Sequence|list|List|set|Set|frozenset|FrozenSet|Collection|tuple)"
    r"\[([^\[\],]+)(?:,.*)?\]$"
)


def element_type(text: str) -> str | None:
    """`Iterator[X]`, `list[X]`, `Generator[X, ...]` -> X: what iterating yields."""
    match = _ITERABLE.match(text.strip().lstrip(":").strip().strip("\"'"))
    return match.group(1).strip() if match else None


@dataclass(slots=True)
class Resolution:
    """Resolved calls and imports."""

    edges: list[Edge] = field(default_factory=list)
    unresolved: list[UnresolvedCall] = field(default_factory=list)
    imports: dict[str, list[str]] = field(default_factory=dict)


class Resolver:
    """Looks names up through scopes, imports, classes and inferred types."""

    def __init__(self, table: SymbolTable, layout: Layout) -> None:
        self.table = table
        self.layout = layout
        self._import_cache: dict[tuple[int, int], dict[str, ImportTarget]] = {}
        self._var_cache: dict[tuple[int, int, str], tuple[Value | None, str]] = {}
        self._attr_cache: dict[tuple[int, str], tuple[Value | None, str]] = {}
        self._mro_cache: dict[int, list[int]] = {}
        self._lookup_cache: dict[tuple[int, int, str], tuple[Value | None, str]] = {}
        self._member_cache: dict[tuple[Value, str], tuple[Value | None, str]] = {}
        self._call_cache: dict[tuple[int, int, str, str], tuple[Value | None, str]] = {}
        self._in_progress: set[object] = set()
        self._attach_owners()
        self._collect_attributes()

    def _attach_owners(self) -> None:
        """Methods declared outside their type (Go receivers, Rust impls) join the type."""
        table = self.table
        for file, facts in enumerate(table.facts):
            for offset, definition in enumerate(facts.definitions):
                if not definition.owner:
                    continue
                index = table.base[file] + offset
                path = type_path(definition.owner)
                if path is None:
                    continue
                value = self._instance(self.path_value(file, definition.parent, path, 1)[0])
                if value is None or value[0] != "inst":
                    continue
                owner = int(value[1])  # type: ignore[call-overload]
                table.owners[index] = owner
                table.children[owner].setdefault(definition.name, []).append(index)
            for type_text, trait in facts.implementations:
                path = type_path(type_text)
                value = (
                    self._instance(self.path_value(file, MODULE_SCOPE, path, 1)[0])
                    if path
                    else None
                )
                if value is not None and value[0] == "inst":
                    table.implemented.setdefault(int(value[1]), []).append(trait)  # type: ignore[call-overload]

    def _collect_attributes(self) -> None:
        """What is assigned to `self.x` / `this.x` in methods, and declared in type bodies."""
        table = self.table
        for file, facts in enumerate(table.facts):
            language = LANGUAGES[facts.language]
            definitions = facts.definitions
            self_params: dict[int, set[str]] = {}
            for binding in facts.bindings:
                if binding.form == "self":
                    self_params.setdefault(binding.scope, set()).add(binding.target)
            for binding in facts.bindings:
                scope = binding.scope
                head, dot, attribute = binding.target.partition(".")
                owner: int | None
                if binding.form == "field":
                    owner = self.enclosing_type(file, scope)
                    attribute = head
                elif not dot:
                    if scope != MODULE_SCOPE and definitions[scope].kind in TYPE_KINDS:
                        owner = table.base[file] + scope
                    else:
                        continue
                    attribute = head
                elif "." in attribute or not (
                    head in language.self_names or head in self_params.get(scope, ())
                ):
                    continue
                else:
                    owner = self.enclosing_type(file, scope)
                if owner is not None:
                    table.attributes.setdefault(owner, {}).setdefault(attribute, []).append(
                        (file, scope, binding)
                    )

    # Scopes.

    def imports_in(self, file: int, scope: int) -> dict[str, ImportTarget]:
        key = (file, scope)
        found = self._import_cache.get(key)
        if found is None:
            found = {}
            path = self.table.paths[file]
            for fact in self.table.imports_by_scope[file].get(scope, ()):
                for binding in self.layout.bindings(path, fact):
                    if binding.name == "*":
                        found.setdefault("*", ImportTarget("star", "", ""))
                        found[f"*{len(found)}"] = binding.target
                    else:
                        found[binding.name] = binding.target
            self._import_cache[key] = found
        return found

    def lookup(self, file: int, scope: int, name: str, depth: int = 0) -> tuple[Value | None, str]:
        """What `name` means at `scope` in `file`, and the tier that found it."""
        key = (file, scope, name)
        cached = self._lookup_cache.get(key)
        if cached is None:
            cached = self._lookup(file, scope, name, depth)
            self._lookup_cache[key] = cached
        return cached

    def _lookup(self, file: int, scope: int, name: str, depth: int) -> tuple[Value | None, str]:
        table = self.table
        facts = table.facts[file]
        language = LANGUAGES[facts.language]
        start = scope
        while scope != MODULE_SCOPE:
            definition = facts.definitions[scope]
            symbol = table.base[file] + scope
            if definition.kind in TYPE_KINDS:
                if language.implicit_self:
                    member = self.member(("inst", symbol), name, depth + 1)
                    if member[0] is not None:
                        return member[0], _weaker(member[1], "self")
                elif scope == start:
                    found = table.children[symbol].get(name)
                    if found is not None and len(found) == 1:
                        return ("sym", found[0]), "scope"
            else:
                bindings = table.bindings_by_scope[file].get(scope)
                if bindings and name in bindings:
                    return self.variable(file, scope, name, depth + 1)
                found = table.children[symbol].get(name)
                if found is not None:
                    return (("sym", found[0]), "scope") if len(found) == 1 else (None, "scope")
                imported = self.imports_in(file, scope).get(name)
                if imported is not None:
                    return self.target(imported, depth + 1)
            scope = definition.parent
        return self.module_lookup(file, name, depth)

    def module_lookup(self, file: int, name: str, depth: int) -> tuple[Value | None, str]:
        table = self.table
        found = table.module_members[file].get(name)
        if found is not None:
            return (("sym", found[0]), "scope") if len(found) == 1 else (None, "scope")
        imports = self.imports_in(file, MODULE_SCOPE)
        imported = imports.get(name)
        if imported is not None:
            return self.target(imported, depth + 1)
        bindings = table.bindings_by_scope[file].get(MODULE_SCOPE)
        if bindings and name in bindings:
            return self.variable(file, MODULE_SCOPE, name, depth + 1)
        package = table.package_members.get(table.module_key[file])
        if package is not None and name in package:
            found = package[name]
            return (("sym", found[0]), "scope") if len(found) == 1 else (None, "scope")
        for key, star in imports.items():
            if key.startswith("*") and star.key:
                value = self.member(("mod", star.key) if star.kind == "star" else None, name, depth)
                if star.kind == "path":
                    base = self.rust_path(star.key, star.member, depth + 1)
                    value = self.member(base, name, depth + 1) if base else (None, "import")
                if value[0] is not None:
                    return value[0], _weaker(value[1], "import")
        family = table.family[file]
        if family == "rust" and name in table.submodules.get(table.module_key[file], {}):
            return ("mod", table.submodules[table.module_key[file]][name]), "scope"
        if name in BUILTINS.get(family, ()):
            return ("ext", name), "scope"
        if family == "rust" and name in ("crate", "self", "super"):
            return self.rust_path(table.module_key[file], name, depth + 1), "scope"
        return None, "scope"

    def target(self, target: ImportTarget, depth: int) -> tuple[Value | None, str]:
        """The value an import binds."""
        if depth > MAX_DEPTH:
            return None, "import"
        if target.kind == "module":
            return ("mod", target.key), "import"
        if target.kind == "external":
            return ("ext", target.member), "import"
        if target.kind == "path":
            return self.rust_path(target.key, target.member, depth + 1), "import"
        value: Value | None = ("mod", target.key)
        for part in target.member.split("."):
            value = self.member(value, part, depth + 1)[0]
        return value, "import"

    def rust_path(self, module_key: str, path: str, depth: int) -> Value | None:
        """A Rust path (`crate::a::B`, `super::c`, `self::d`, `e::f`) from a module."""
        if depth > MAX_DEPTH:
            return None
        segments = [segment for segment in path.split("::") if segment]
        crate, _, module = module_key[len("rust:") :].partition(":")
        value: Value | None = None
        if not segments:
            return ("mod", module_key)
        head = segments[0]
        if head == "crate":
            value = ("mod", f"rust:{crate}:crate")
        elif head == "self":
            value = ("mod", module_key)
        elif head == "super":
            parent = module.rsplit("::", 1)[0] if "::" in module else module
            value = ("mod", f"rust:{crate}:{parent}")
        else:
            files = self.table.files_of_module.get(module_key, [])
            if files:
                value = self.lookup(files[0], MODULE_SCOPE, head, depth + 1)[0]
            if value is None:
                value = self.table.crates.get(head) or ("ext", head)
        for segment in segments[1:]:
            if segment == "super" and value and value[0] == "mod":
                key = str(value[1])
                value = ("mod", key.rsplit("::", 1)[0])
                continue
            value = self.member(value, segment, depth + 1)[0]
        return value

    # Members.

    def member(self, value: Value | None, name: str, depth: int = 0) -> tuple[Value | None, str]:
        """`value.name`: a module's member, a class's method, an instance's attribute."""
        if value is None or depth > MAX_DEPTH:
            return None, "scope"
        key = (value, name)
        cached = self._member_cache.get(key)
        if cached is None:
            cached = self._member(value, name, depth)
            self._member_cache[key] = cached
        return cached

    def _member(self, value: Value, name: str, depth: int) -> tuple[Value | None, str]:
        kind, what = value
        table = self.table
        if kind == "ext":
            return ("ext", f"{what}.{name}"), "import"
        if kind == "mod":
            return self.module_member(str(what), name, depth + 1)
        index = int(what)  # type: ignore[call-overload]
        if kind == "sym" and table.kinds[index] not in TYPE_KINDS:
            # A function's attributes and a module symbol's names.
            if table.kinds[index] == "module":
                return self.module_member(table.module_key[table.file_of[index]], name, depth + 1)
            return None, "scope"
        for cls in self.mro(index):
            found = table.children[cls].get(name)
            if found:
                methods = [f for f in found if table.kinds[f] in CALLABLE_KINDS]
                if not methods:
                    continue  # constructors and fields: not what a call by name reaches
                if _same_name_overloads(table, methods):
                    # A name defined again in one class is bound to its last definition
                    # (typing overloads, then the implementation).
                    return ("sym", methods[-1]), "scope"
                return None, "scope"
        if kind == "inst":
            return self.attribute(index, name, depth + 1)
        return None, "scope"

    def module_member(self, key: str, name: str, depth: int) -> tuple[Value | None, str]:
        table = self.table
        members = table.package_members.get(key)
        if members is not None and name in members:
            found = members[name]
            return (("sym", found[0]), "import") if len(found) == 1 else (None, "import")
        submodule = table.submodules.get(key, {}).get(name)
        if submodule is not None:
            return ("mod", submodule), "import"
        if depth > MAX_DEPTH:
            return None, "import"
        if name == "default" and key in table.default_exports:
            return self.module_member(key, table.default_exports[key], depth + 1)
        # Re-exports: a name the module itself imported (`from .core import x` in __init__).
        for file in table.files_of_module.get(key, ()):
            guard = ("reexport", key, name)
            if guard in self._in_progress:
                continue
            self._in_progress.add(guard)
            try:
                value, _tier = self.module_lookup_imports(file, name, depth + 1)
            finally:
                self._in_progress.discard(guard)
            if value is not None:
                return value, "import"
        return None, "import"

    def module_lookup_imports(self, file: int, name: str, depth: int) -> tuple[Value | None, str]:
        imports = self.imports_in(file, MODULE_SCOPE)
        imported = imports.get(name)
        if imported is not None:
            return self.target(imported, depth + 1)
        for key, star in imports.items():
            if key.startswith("*") and star.kind == "star":
                value = self.module_member(star.key, name, depth + 1)
                if value[0] is not None:
                    return value
        return None, "import"

    def mro(self, index: int) -> list[int]:
        """A class and its bases, depth first, each once (C3 order for simple hierarchies)."""
        cached = self._mro_cache.get(index)
        if cached is not None:
            return cached
        self._mro_cache[index] = [index]
        order = [index]
        for base in self.bases(index):
            for cls in self.mro(base):
                if cls not in order:
                    order.append(cls)
        self._mro_cache[index] = order
        return order

    def bases(self, index: int) -> list[int]:
        table = self.table
        file = table.file_of[index]
        definition = table.definition(index)
        found = []
        texts = list(definition.bases) + table.implemented.get(index, [])
        for text in texts:
            path = type_path(text)
            if path is None:
                continue
            value = self.path_value(file, definition.parent, path, 1)[0]
            if value is not None and value[0] == "sym" and table.kinds[int(value[1])] in TYPE_KINDS:  # type: ignore[call-overload]
                found.append(int(value[1]))  # type: ignore[call-overload]
        return found

    # Types of names.

    def variable(self, file: int, scope: int, name: str, depth: int) -> tuple[Value | None, str]:
        """The value of a local or module variable, when every assignment agrees on it."""
        key = (file, scope, name)
        cached = self._var_cache.get(key)
        if cached is not None:
            return cached
        if key in self._in_progress or depth > MAX_DEPTH:
            return None, "inferred"
        self._in_progress.add(key)
        try:
            bindings = _declared_first(self.table.bindings_by_scope[file][scope][name])
            result = self._agree([self.binding_value(file, scope, b, depth + 1) for b in bindings])
        finally:
            self._in_progress.discard(key)
        self._var_cache[key] = result
        return result

    def attribute(self, cls: int, name: str, depth: int) -> tuple[Value | None, str]:
        """The type of `instance.name` from assignments to it anywhere in the class."""
        key = (cls, name)
        cached = self._attr_cache.get(key)
        if cached is not None:
            return cached
        if key in self._in_progress or depth > MAX_DEPTH:
            return None, "inferred"
        self._in_progress.add(key)
        try:
            result: tuple[Value | None, str] = (None, "inferred")
            for owner in self.mro(cls):
                found = self.table.attributes.get(owner, {}).get(name)
                if found:
                    declared = [entry for entry in found if entry[2].form in DECLARED_FORMS]
                    result = self._agree(
                        [self.binding_value(f, s, b, depth + 1) for f, s, b in declared or found]
                    )
                    break
        finally:
            self._in_progress.discard(key)
        self._attr_cache[key] = result
        return result

    @staticmethod
    def _agree(values: list[tuple[Value | None, str]]) -> tuple[Value | None, str]:
        first = values[0][0]
        if first is None or any(value != first for value, _tier in values):
            return None, "inferred"
        tier = values[0][1]
        for _value, other in values[1:]:
            tier = _weaker(tier, other)
        return first, tier

    def binding_value(
        self, file: int, scope: int, binding: Binding, depth: int
    ) -> tuple[Value | None, str]:
        form = binding.form
        if form == "self":
            owner = self.enclosing_type(file, scope)
            return (("inst", owner), "self") if owner is not None else (None, "self")
        if form in ("type", "field", "new"):
            path = type_path(binding.value)
            if path is None:
                return None, "declared"
            value, tier = self.path_value(file, scope, path, depth + 1)
            return self._instance(value), _weaker(tier, "inferred" if form == "new" else "declared")
        if form == "call":
            callee, tier = self.path_value(file, scope, binding.value, depth + 1)
            return self.returned(callee, depth + 1), _weaker(tier, "inferred")
        if form == "iter":
            callee, tier = self.path_value(file, scope, binding.value, depth + 1)
            return self.returned(callee, depth + 1, element=True), _weaker(tier, "inferred")
        if form == "ref" and _PATH.match(binding.value):
            value, tier = self.path_value(file, scope, binding.value, depth + 1)
            return value, _weaker(tier, "inferred")
        return None, "inferred"

    def _instance(self, value: Value | None) -> Value | None:
        """An instance of the type `value` names; outside types stay outside."""
        if value is not None and value[0] == "ext":
            return value
        if value is not None and value[0] == "sym":
            index = int(value[1])  # type: ignore[call-overload]
            if self.table.kinds[index] in TYPE_KINDS:
                return ("inst", index)
        return None

    def returned(self, callee: Value | None, depth: int, *, element: bool = False) -> Value | None:
        """What calling `callee` produces: an instance of a class, or its declared return type.

        With `element`, what iterating over the result yields: `X` of `Iterator[X]`.
        """
        if callee is None or callee[0] != "sym" or depth > MAX_DEPTH:
            return None
        index = int(callee[1])  # type: ignore[call-overload]
        table = self.table
        if table.kinds[index] in TYPE_KINDS:
            return None if element else ("inst", index)
        definition = table.definition(index)
        text = definition.return_type
        if element:
            text = element_type(text) or ""
        path = type_path(text) if text else None
        if path is None:
            return None
        file = table.file_of[index]
        scope = index - table.base[file]
        return self._instance(self.path_value(file, scope, path, depth + 1)[0])

    def enclosing_type(self, file: int, scope: int) -> int | None:
        """The class a scope belongs to: its nearest enclosing type, or a method's owner."""
        table = self.table
        definitions = table.facts[file].definitions
        while scope != MODULE_SCOPE:
            index = table.base[file] + scope
            if table.kinds[index] in TYPE_KINDS:
                return index
            owner = table.owners.get(index)
            if owner is not None:
                return owner
            scope = definitions[scope].parent
        return None

    def path_value(self, file: int, scope: int, path: str, depth: int) -> tuple[Value | None, str]:
        """The value of a dotted (or `::`) path at a scope, with the weakest tier it used."""
        if not _PATH.match(path):
            return None, "scope"
        parts = _PATH_SPLIT.split(path)
        language = LANGUAGES[self.table.facts[file].language]
        head = parts[0]
        if head in language.self_names:
            owner = self.enclosing_type(file, scope)
            if owner is None:
                return None, "self"
            value: Value | None = ("sym", owner) if head == "Self" else ("inst", owner)
            tier = "self"
        else:
            value, tier = self.lookup(file, scope, head, depth + 1)
        for part in parts[1:]:
            if value is None:
                break
            value, step = self.member(value, part, depth + 1)
            tier = _weaker(tier, step)
        return value, tier

    # Calls.

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
            language = LANGUAGES[facts.language]
            base = table.base[file]
            module_symbol = table.module_symbol[file]
            for call in facts.calls:
                source = base + call.scope if call.scope != MODULE_SCOPE else module_symbol
                if "<" in call.name:
                    call = call._replace(name=call.name.split("<", 1)[0])  # new List<T>()
                value, tier = self.call_target(
                    file, call.scope, call.name, call.receiver, language.super_names
                )
                if value is not None and value[0] == "sym":
                    target = int(value[1])  # type: ignore[call-overload]
                    if table.kinds[target] in CALLABLE_KINDS:
                        self._count(weights, source, target, tier)
                        continue
                shown = f"{call.receiver}.{call.name}" if call.receiver else call.name
                reason = "external" if value is not None and value[0] == "ext" else ""
                if not reason:
                    candidates = (
                        table.by_name.get(call.name, [])
                        if call.name not in BUILTINS.get(table.family[file], ()) or call.receiver
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
    ) -> tuple[Value | None, str]:
        """What a call names, and how it was found; memoised per scope and callee."""
        key = (file, scope, receiver, name)
        cached = self._call_cache.get(key)
        if cached is None:
            cached = self._call_target(file, scope, name, receiver, super_names)
            self._call_cache[key] = cached
        return cached

    def _call_target(
        self, file: int, scope: int, name: str, receiver: str, super_names: frozenset[str]
    ) -> tuple[Value | None, str]:
        if not receiver:
            return self.lookup(file, scope, name)
        if receiver in super_names:
            owner = self.enclosing_type(file, scope)
            if owner is None:
                return None, "self"
            for cls in self.mro(owner)[1:]:
                found = self.table.children[cls].get(name)
                if found:
                    return ("sym", found[0]), "self"
            return None, "self"
        if receiver.endswith(")"):
            value, tier = self.call_result(file, scope, receiver)
        else:
            value, tier = self.path_value(file, scope, receiver, 0)
        if value is None:
            return None, tier
        member, step = self.member(value, name)
        return member, _weaker(tier, step)

    def call_result(self, file: int, scope: int, receiver: str) -> tuple[Value | None, str]:
        """The value of a receiver that is itself a call: `make().run()`, `A::new().go()`."""
        depth = 0
        for index in range(len(receiver) - 1, -1, -1):
            depth += receiver[index] == ")"
            depth -= receiver[index] == "("
            if depth == 0:
                break
        else:
            return None, "inferred"
        value, tier = self.expression_value(file, scope, receiver[:index])
        return self.returned(value, 1), _weaker(tier, "inferred")

    def expression_value(self, file: int, scope: int, text: str) -> tuple[Value | None, str]:
        """A path, or a call followed by member accesses: `a.b`, `f(x).g`."""
        if _PATH.match(text):
            return self.path_value(file, scope, text, 0)
        chained = _CALL_MEMBERS.match(text)
        if chained is None:
            return None, "inferred"
        value, tier = self.call_result(file, scope, chained.group(1))
        for part in _PATH_SPLIT.split(chained.group(2))[1:]:
            if value is None:
                break
            value, step = self.member(value, part)
            tier = _weaker(tier, step)
        return value, tier

    def _import_edges(self, result: Resolution) -> None:
        table = self.table
        seen: set[tuple[str, str]] = set()
        for file, facts in enumerate(table.facts):
            source = table.ids[table.module_symbol[file]]
            names: list[str] = []
            for fact in facts.imports:
                names.append(_import_text(fact.module, fact.name, fact.alias))
                for binding in self.layout.bindings(table.paths[file], fact):
                    value = (
                        self.target(binding.target, 0)[0]
                        if binding.name != "*"
                        else (
                            ("mod", binding.target.key) if binding.target.kind == "star" else None
                        )
                    )
                    target = self._symbol_of(value)
                    if target is not None and (source, target) not in seen and target != source:
                        seen.add((source, target))
                        result.edges.append(Edge(source, target, "imports"))
            result.imports[source] = names

    def _symbol_of(self, value: Value | None) -> str | None:
        if value is None:
            return None
        if value[0] == "mod":
            files = self.table.files_of_module.get(str(value[1]))
            return self.table.ids[self.table.module_symbol[files[0]]] if files else None
        if value[0] == "sym":
            return self.table.ids[int(value[1])]  # type: ignore[call-overload]
        return None


def _declared_first(bindings: list[Binding]) -> list[Binding]:
    """A declared type is what the code promises; assignments only count without one."""
    declared = [binding for binding in bindings if binding.form in DECLARED_FORMS]
    return declared or bindings


def _same_name_overloads(table: SymbolTable, candidates: list[int]) -> bool:
    """One method, or several definitions of one name in one class (overloads)."""
    return len({table.parents[c] for c in candidates}) == 1


def _import_text(module: str, name: str, alias: str) -> str:
    text = f"{module}.{name}" if name and name != "*" else module
    return f"{text} as {alias}" if alias else text


def resolve_calls(table: SymbolTable, layout: Layout, *, processes: int = 1) -> Resolution:
    """Resolve the calls and imports of every file in the table."""
    return Resolver(table, layout).resolve(processes=processes)


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

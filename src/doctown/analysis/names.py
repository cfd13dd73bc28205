"""Name lookup: what a name or dotted path means at a point of the code, and how sure it is.

`NameResolver` walks enclosing scopes, the module and its package, imports (following
re-exports), classes and their bases, and the types of variables and attributes as their
annotations and assignments declare them. Each answer carries the tier that found it; see
`resolve.py` for the tiers and how calls use them.
"""

from __future__ import annotations

import re

from doctown.analysis.facts import CALLABLE_KINDS, MODULE_SCOPE, TYPE_KINDS, Binding
from doctown.analysis.modules import ImportTarget, Layout
from doctown.analysis.parse import RETURNED
from doctown.analysis.records import TIER_CONFIDENCE
from doctown.analysis.symbols import SymbolTable
from doctown.analysis.typetext import PATH, PATH_SPLIT, element_type, type_path
from doctown.analysis.values import Defined, Elements, External, Instance, Module, Value, Variable

# Binding forms that state a type rather than imply one.
DECLARED_FORMS = frozenset({"type", "field"})
_CALL_MEMBERS = re.compile(r"^(.*\))((?:(?:\.|::)[A-Za-z_$][\w$]*)+)$")
# Recursion guard for chains of inferred types and re-exports.
MAX_DEPTH = 12

# What a name means, if anything, and the tier of the lookup that found it.
Found = tuple[Value | None, str]


def weaker(tier: str, other: str) -> str:
    """The less certain of two tiers."""
    return tier if TIER_CONFIDENCE[tier] <= TIER_CONFIDENCE[other] else other


class NameResolver:
    """Looks names up through scopes, imports, classes and inferred types.

    Lookups are memoised, and the memos are cleared by `start_file`: what one file's
    lookups find then never depends on which files were looked at before it, so a file can
    be resolved again alone and give what a whole run gives. A lookup cut short by a guard
    (a cycle, or a chain deeper than `MAX_DEPTH`) is not memoised either: its answer depends
    on where the lookup started, and a later lookup from elsewhere may find more. `reads`
    collects the files whose facts the lookups since `start_file` looked into.
    """

    def __init__(self, table: SymbolTable, layout: Layout) -> None:
        self.table = table
        self.layout = layout
        self.reads: set[int] = set()
        self.start_file(-1)
        self._attach_owners()
        self._collect_attributes()
        # What the two passes above looked up must not leak into any file's lookups.
        self.start_file(-1)

    def start_file(self, file: int) -> None:
        """Forget every memo and read, before resolving `file` (-1: none in particular)."""
        self._import_cache: dict[tuple[int, int], dict[str, ImportTarget]] = {}
        self._var_cache: dict[tuple[int, int, str], Found] = {}
        self._attr_cache: dict[tuple[int, str], Found] = {}
        self._mro_cache: dict[int, list[int]] = {}
        self._lookup_cache: dict[tuple[int, int, str], Found] = {}
        self._member_cache: dict[tuple[Value, str], Found] = {}
        self._in_progress: set[object] = set()
        # How many lookups a guard cut short so far: a memo is kept only if none was.
        self._cuts = 0
        self.reads = {file} if file >= 0 else set()

    def _read_symbol(self, index: int) -> None:
        self.reads.add(self.table.file_of[index])

    def _read_module(self, key: str) -> None:
        # Files of one module share their members: one of them stands for all.
        files = self.table.files_of_module.get(key)
        if files:
            self.reads.add(files[0])

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
                if not isinstance(value, Instance):
                    continue
                owner = value.cls
                table.owners[index] = owner
                table.children[owner].setdefault(definition.name, []).append(index)
            for type_text, trait in facts.implementations:
                path = type_path(type_text)
                value = (
                    self._instance(self.path_value(file, MODULE_SCOPE, path, 1)[0])
                    if path
                    else None
                )
                if isinstance(value, Instance):
                    table.implemented.setdefault(value.cls, []).append(trait)

    def _collect_attributes(self) -> None:
        """What is assigned to `self.x` / `this.x` in methods, and declared in type bodies."""
        table = self.table
        for file, facts in enumerate(table.facts):
            language = table.languages[file]
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
            self.reads.add(file)
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

    def lookup(self, file: int, scope: int, name: str, depth: int = 0) -> Found:
        """What `name` means at `scope` in `file`, and the tier that found it."""
        key = (file, scope, name)
        cached = self._lookup_cache.get(key)
        if cached is None:
            cuts = self._cuts
            cached = self._lookup(file, scope, name, depth)
            if self._cuts == cuts:
                self._lookup_cache[key] = cached
        return cached

    def _lookup(self, file: int, scope: int, name: str, depth: int) -> Found:
        table = self.table
        self.reads.add(file)
        facts = table.facts[file]
        language = table.languages[file]
        start = scope
        while scope != MODULE_SCOPE:
            definition = facts.definitions[scope]
            symbol = table.base[file] + scope
            if definition.kind in TYPE_KINDS:
                if language.implicit_self:
                    member = self.member(Instance(symbol), name, depth + 1)
                    if member[0] is not None:
                        return member[0], weaker(member[1], "self")
                elif scope == start:
                    found = table.children[symbol].get(name)
                    if found is not None and len(found) == 1:
                        return Defined(found[0]), "scope"
            else:
                bindings = table.bindings_by_scope[file].get(scope)
                if bindings and name in bindings:
                    return self._known_variable(self.variable(file, scope, name, depth + 1), name)
                found = table.children[symbol].get(name)
                if found is not None:
                    return (Defined(found[0]), "scope") if len(found) == 1 else (None, "scope")
                imported = self.imports_in(file, scope).get(name)
                if imported is not None:
                    return self.target(imported, depth + 1)
            scope = definition.parent
        return self.module_lookup(file, name, depth)

    def module_lookup(self, file: int, name: str, depth: int) -> Found:
        table = self.table
        self.reads.add(file)
        found = table.module_members[file].get(name)
        if found is not None:
            return (Defined(found[0]), "scope") if len(found) == 1 else (None, "scope")
        imports = self.imports_in(file, MODULE_SCOPE)
        imported = imports.get(name)
        if imported is not None:
            return self.target(imported, depth + 1)
        bindings = table.bindings_by_scope[file].get(MODULE_SCOPE)
        if bindings and name in bindings:
            return self._known_variable(self.variable(file, MODULE_SCOPE, name, depth + 1), name)
        package = table.package_members.get(table.module_key[file])
        if package is not None and name in package:
            found = package[name]
            return (Defined(found[0]), "scope") if len(found) == 1 else (None, "scope")
        for key, star in imports.items():
            if key.startswith("*") and star.key:
                value = self.member(Module(star.key) if star.kind == "star" else None, name, depth)
                if star.kind == "path":
                    base = self.module_path(star.key, star.member, depth + 1)
                    value = self.member(base, name, depth + 1) if base else (None, "import")
                if value[0] is not None:
                    return value[0], weaker(value[1], "import")
        language = table.languages[file]
        here = table.module_key[file]
        if language.module_path_roots:
            # Where paths run through the module tree, a module's children are in its scope.
            submodule = self.layout.submodules.get(here, {}).get(name)
            if submodule is not None:
                return Module(submodule), "scope"
        if name in language.builtins:
            return External(name), "scope"
        if name in language.module_path_roots:
            return self.module_path(here, name, depth + 1), "scope"
        return None, "scope"

    def target(self, target: ImportTarget, depth: int) -> Found:
        """The value an import binds."""
        if depth > MAX_DEPTH:
            self._cuts += 1
            return None, "import"
        if target.kind == "module":
            return Module(target.key), "import"
        if target.kind == "require":
            # `module.exports = thing` exports that thing; otherwise the module's names.
            self._read_module(target.key)
            exported = self.table.default_exports.get(target.key)
            if exported is not None:
                return self.module_member(target.key, exported, depth + 1)
            return Module(target.key), "import"
        if target.kind == "external":
            return External(target.member), "import"
        if target.kind == "path":
            return self.module_path(target.key, target.member, depth + 1), "import"
        value: Value | None = Module(target.key)
        for part in target.member.split("."):
            value = self.member(value, part, depth + 1)[0]
        return value, "import"

    def module_path(self, module_key: str, path: str, depth: int) -> Value | None:
        """A path through the module tree from a module: `crate::a::B`, `super::c`, `e::f`.

        Only module systems whose language has `module_path_roots` (Rust) make such paths.
        """
        if depth > MAX_DEPTH:
            self._cuts += 1
            return None
        segments = [segment for segment in path.split("::") if segment]
        if not segments:
            return Module(module_key)
        value: Value | None = None
        head = segments[0]
        if head == "crate":
            value = Module(Layout.crate_root(module_key))
        elif head == "self":
            value = Module(module_key)
        elif head == "super":
            value = Module(Layout.parent_module(module_key))
        else:
            files = self.table.files_of_module.get(module_key, [])
            if files:
                value = self.lookup(files[0], MODULE_SCOPE, head, depth + 1)[0]
            if value is None:
                crate = self.layout.crates.get(head)
                value = Module(crate) if crate is not None else External(head)
        for segment in segments[1:]:
            if segment == "super" and isinstance(value, Module):
                value = Module(Layout.parent_module(value.key))
                continue
            value = self.member(value, segment, depth + 1)[0]
        return value

    # Members.

    def member(self, value: Value | None, name: str, depth: int = 0) -> Found:
        """`value.name`: a module's member, a class's method, an instance's attribute."""
        if value is None:
            return None, "scope"
        if depth > MAX_DEPTH:
            self._cuts += 1
            return None, "scope"
        key = (value, name)
        cached = self._member_cache.get(key)
        if cached is None:
            cuts = self._cuts
            cached = self._member(value, name, depth)
            if self._cuts == cuts:
                self._member_cache[key] = cached
        return cached

    @staticmethod
    def _known_variable(found: Found, name: str) -> Found:
        """A variable is a variable even when its value is unknown: it hides outer names."""
        return found if found[0] is not None else (Variable(name), found[1])

    def _member(self, value: Value, name: str, depth: int) -> Found:
        table = self.table
        if isinstance(value, Defined):
            self._read_symbol(value.index)
        match value:
            case Variable():
                return None, "inferred"
            case Elements():
                return External(f"sequence.{name}"), "inferred"  # the container's own methods
            case External(dotted):
                return External(f"{dotted}.{name}"), "import"
            case Module(key):
                return self.module_member(key, name, depth + 1)
            case Defined(index) if table.kinds[index] not in TYPE_KINDS:
                # A function's attributes and a module symbol's names.
                if table.kinds[index] == "module":
                    return self.module_member(
                        table.module_key[table.file_of[index]], name, depth + 1
                    )
                return None, "scope"
            case Defined(cls) | Instance(cls):
                return self._type_member(value, cls, name, depth)

    def _type_member(self, value: Defined | Instance, cls: int, name: str, depth: int) -> Found:
        """A method of a class or an instance, through its bases; else an instance attribute."""
        table = self.table
        for owner in self.mro(cls):
            found = table.children[owner].get(name)
            if found:
                for method in found:
                    self._read_symbol(method)  # a method may be declared in another file
                methods = [f for f in found if table.kinds[f] in CALLABLE_KINDS]
                if not methods:
                    continue  # constructors and fields: not what a call by name reaches
                if _same_name_overloads(table, methods):
                    # A name defined again in one class is bound to its last definition
                    # (typing overloads, then the implementation).
                    return Defined(methods[-1]), "scope"
                return None, "scope"
        if isinstance(value, Instance):
            return self.attribute(cls, name, depth + 1)
        return None, "scope"

    def module_member(self, key: str, name: str, depth: int) -> Found:
        table = self.table
        self._read_module(key)
        members = table.package_members.get(key)
        if members is not None and name in members:
            found = members[name]
            return (Defined(found[0]), "import") if len(found) == 1 else (None, "import")
        submodule = self.layout.submodules.get(key, {}).get(name)
        if submodule is not None:
            return Module(submodule), "import"
        if depth > MAX_DEPTH:
            self._cuts += 1
            return None, "import"
        if name == "default" and key in table.default_exports:
            return self.module_member(key, table.default_exports[key], depth + 1)
        # Re-exports: a name the module itself imported (`from .core import x` in __init__).
        for file in table.files_of_module.get(key, ()):
            guard = ("reexport", key, name)
            if guard in self._in_progress:
                self._cuts += 1
                continue
            self._in_progress.add(guard)
            try:
                value, _tier = self.module_lookup_imports(file, name, depth + 1)
            finally:
                self._in_progress.discard(guard)
            if value is not None:
                return value, "import"
        return None, "import"

    def module_lookup_imports(self, file: int, name: str, depth: int) -> Found:
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
        guard = ("mro", index)
        if guard in self._in_progress:
            self._cuts += 1  # cyclic inheritance: the class stands alone here
            return [index]
        self._read_symbol(index)
        cuts = self._cuts
        self._in_progress.add(guard)
        order = [index]
        try:
            for base in self.bases(index):
                for cls in self.mro(base):
                    if cls not in order:
                        order.append(cls)
        finally:
            self._in_progress.discard(guard)
        if self._cuts == cuts:
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
            if isinstance(value, Defined) and table.kinds[value.index] in TYPE_KINDS:
                found.append(value.index)
        return found

    # Types of names.

    def variable(self, file: int, scope: int, name: str, depth: int) -> Found:
        """The value of a local or module variable, when every assignment agrees on it."""
        key = (file, scope, name)
        cached = self._var_cache.get(key)
        if cached is not None:
            return cached
        if key in self._in_progress or depth > MAX_DEPTH:
            self._cuts += 1
            return None, "inferred"
        self.reads.add(file)
        cuts = self._cuts
        self._in_progress.add(key)
        try:
            bindings = _declared_first(self.table.bindings_by_scope[file][scope][name])
            result = self._agree([self.binding_value(file, scope, b, depth + 1) for b in bindings])
        finally:
            self._in_progress.discard(key)
        if self._cuts == cuts:
            self._var_cache[key] = result
        return result

    def attribute(self, cls: int, name: str, depth: int) -> Found:
        """The type of `instance.name` from assignments to it anywhere in the class."""
        key = (cls, name)
        cached = self._attr_cache.get(key)
        if cached is not None:
            return cached
        if key in self._in_progress or depth > MAX_DEPTH:
            self._cuts += 1
            return None, "inferred"
        cuts = self._cuts
        self._in_progress.add(key)
        try:
            result: Found = (None, "inferred")
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
        if self._cuts == cuts:
            self._attr_cache[key] = result
        return result

    @staticmethod
    def _agree(values: list[Found]) -> Found:
        first = values[0][0]
        if first is None or any(value != first for value, _tier in values):
            return None, "inferred"
        tier = values[0][1]
        for _value, other in values[1:]:
            tier = weaker(tier, other)
        return first, tier

    def binding_value(self, file: int, scope: int, binding: Binding, depth: int) -> Found:
        self.reads.add(file)
        form = binding.form
        if form == "self":
            owner = self.enclosing_type(file, scope)
            return (Instance(owner), "self") if owner is not None else (None, "self")
        if form in ("type", "field", "new"):
            tier = "inferred" if form == "new" else "declared"
            value, found = self.type_value(file, scope, binding.value, depth + 1)
            return value, weaker(found, tier)
        if form == "call":
            callee, tier = self.path_value(file, scope, binding.value, depth + 1)
            return self.returned(callee, depth + 1), weaker(tier, "inferred")
        if form == "each":
            # A loop variable: one element of what the loop goes over.
            if binding.value.endswith(")"):
                iterated, tier = self.call_result(file, scope, binding.value)
            else:
                iterated, tier = self.path_value(file, scope, binding.value, depth + 1)
            if isinstance(iterated, Elements):
                return Instance(iterated.cls), weaker(tier, "inferred")
            return None, "inferred"
        if form == "ref" and PATH.match(binding.value):
            value, tier = self.path_value(file, scope, binding.value, depth + 1)
            return value, weaker(tier, "inferred")
        return None, "inferred"

    def type_value(self, file: int, scope: int, text: str, depth: int) -> Found:
        """What a written type stands for: an instance, a sequence of instances, outside."""
        element = element_type(text)
        if element is not None:
            path = type_path(element)
            if path is not None:
                value, tier = self.path_value(file, scope, path, depth + 1)
                instance = self._instance(value)
                if isinstance(instance, Instance):
                    return Elements(instance.cls), tier
        path = type_path(text)
        if path is None:
            return None, "declared"
        value, tier = self.path_value(file, scope, path, depth + 1)
        return self._instance(value), tier

    def call_result(self, file: int, scope: int, receiver: str) -> Found:
        """The value of an expression that is a call: `make()`, `A::new()`, `new Foo()`."""
        depth = 0
        for index in range(len(receiver) - 1, -1, -1):
            depth += receiver[index] == ")"
            depth -= receiver[index] == "("
            if depth == 0:
                break
        else:
            return None, "inferred"
        callee = receiver[:index]
        if callee.startswith("new "):  # `new Foo(...)`: an instance of Foo
            callee = callee[len("new ") :]
        value, tier = self.expression_value(file, scope, callee)
        return self.returned(value, 1), weaker(tier, "inferred")

    def expression_value(self, file: int, scope: int, text: str) -> Found:
        """A path, or a call followed by member accesses: `a.b`, `f(x).g`."""
        if PATH.match(text):
            return self.path_value(file, scope, text, 0)
        chained = _CALL_MEMBERS.match(text)
        if chained is None:
            return None, "inferred"
        value, tier = self.call_result(file, scope, chained.group(1))
        for part in PATH_SPLIT.split(chained.group(2))[1:]:
            if value is None:
                break
            value, step = self.member(value, part)
            tier = weaker(tier, step)
        return value, tier

    def _instance(self, value: Value | None) -> Value | None:
        """An instance of the type `value` names; outside types stay outside."""
        if isinstance(value, External):
            return value
        if isinstance(value, Defined):
            self._read_symbol(value.index)
            if self.table.kinds[value.index] in TYPE_KINDS:
                return Instance(value.index)
        return None

    def returned(self, callee: Value | None, depth: int) -> Value | None:
        """What calling `callee` produces: an instance of a class, or its declared return type.

        A declared `Iterator[X]` or `list[X]` gives a sequence of X, which a loop unpacks.
        """
        if not isinstance(callee, Defined):
            return None
        if depth > MAX_DEPTH:
            self._cuts += 1
            return None
        index = callee.index
        self._read_symbol(index)
        table = self.table
        if table.kinds[index] in TYPE_KINDS:
            return Instance(index)
        definition = table.definition(index)
        file = table.file_of[index]
        scope = index - table.base[file]
        if not definition.return_type:
            # Nothing declared: what every `return` in the body gives, when they agree.
            returns = table.bindings_by_scope[file].get(scope, {})
            if RETURNED in returns:
                value = self.variable(file, scope, RETURNED, depth + 1)[0]
                return value if isinstance(value, Instance | Elements) else None
            return None
        value = self.type_value(file, scope, definition.return_type, depth + 1)[0]
        return value if isinstance(value, Instance | Elements) else None

    def enclosing_type(self, file: int, scope: int) -> int | None:
        """The class a scope belongs to: its nearest enclosing type, or a method's owner."""
        table = self.table
        self.reads.add(file)
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

    def path_value(self, file: int, scope: int, path: str, depth: int) -> Found:
        """The value of a dotted (or `::`) path at a scope, with the weakest tier it used."""
        if not PATH.match(path):
            return None, "scope"
        parts = PATH_SPLIT.split(path)
        self.reads.add(file)
        language = self.table.languages[file]
        head = parts[0]
        if head in language.self_names or head in language.self_type_names:
            owner = self.enclosing_type(file, scope)
            if owner is None:
                return None, "self"
            value: Value | None = Instance(owner) if head in language.self_names else Defined(owner)
            tier = "self"
        else:
            value, tier = self.lookup(file, scope, head, depth + 1)
        for part in parts[1:]:
            if value is None:
                break
            value, step = self.member(value, part, depth + 1)
            tier = weaker(tier, step)
        return value, tier


def _declared_first(bindings: list[Binding]) -> list[Binding]:
    """A declared type is what the code promises; assignments only count without one.

    An untyped parameter that is also assigned takes the assigned value
    (`options = parse_options(options)`): the analysis does not follow the order of
    statements, and normalising a parameter up front is the common idiom.
    """
    declared = [binding for binding in bindings if binding.form in DECLARED_FORMS]
    if declared:
        return declared
    assigned = [binding for binding in bindings if binding.form != "param"]
    return assigned or bindings


def _same_name_overloads(table: SymbolTable, candidates: list[int]) -> bool:
    """One method, or several definitions of one name in one class (overloads)."""
    return len({table.parents[c] for c in candidates}) == 1

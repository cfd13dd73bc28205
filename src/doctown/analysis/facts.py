"""What parsing one file yields: plain records, independent of the file's path.

They hold no tree-sitter objects, so they cross process boundaries and go into the cache as
they are. Positions are byte offsets into the file and 1-based lines; `scope` is the index of
the innermost enclosing definition in `FileFacts.definitions`, or -1 for the module itself.
"""

from __future__ import annotations

from typing import NamedTuple

MODULE_SCOPE = -1
# The kinds of definition that are types: a function declared directly inside one is a
# method, and a call through one reaches its members.
TYPE_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "object"})
# What a call can reach.
CALLABLE_KINDS = frozenset({"function", "method", *TYPE_KINDS})


class Definition(NamedTuple):
    """A declared symbol: class, function, method, struct, ..."""

    kind: str
    name: str
    start_byte: int
    end_byte: int
    start_line: int
    end_line: int
    signature: str
    docstring: str | None
    # The type a method belongs to when it is declared outside it (Go receivers, Rust impls).
    owner: str
    bases: tuple[str, ...]
    return_type: str
    modifiers: str
    parent: int


class CallSite(NamedTuple):
    """`receiver.name(...)`, or `name(...)` when the receiver is empty."""

    scope: int
    name: str
    receiver: str
    line: int


class ImportFact(NamedTuple):
    """One imported binding: `module` as written, the `name` taken from it, its `alias`."""

    scope: int
    module: str
    name: str
    alias: str
    line: int


class Binding(NamedTuple):
    """What a name holds, for inferring receiver types.

    `form` is `type` (declared or annotated: `value` is the type), `field` (an attribute of
    the enclosing type, declared with type `value`), `call` (`value` is the
    callee), `new` (`value` is the constructed type), `each` (a loop variable over the name or
    call `value`), `ref` (`value` is another name), `param` (an untyped parameter), `self`
    (the name is the enclosing type's instance) or `unknown` (assigned something else).
    """

    scope: int
    target: str
    form: str
    value: str


class FileFacts(NamedTuple):
    """Everything the extractor found in one file."""

    language: str
    definitions: tuple[Definition, ...]
    calls: tuple[CallSite, ...]
    imports: tuple[ImportFact, ...]
    bindings: tuple[Binding, ...]
    # (type, trait) pairs from `impl Trait for Type`: the trait becomes a base of the type.
    implementations: tuple[tuple[str, str], ...]
    package: str
    module_doc: str | None
    default_exports: tuple[str, ...]
    syntax_errors: int
    # Set when extraction failed: the file then contributes its module and nothing else.
    failure: str = ""

"""The languages doctown analyses: how each is recognised and the few conventions it has.

Everything about a language's syntax lives in its query file, `queries/<name>.scm`. What is
here is what a query cannot say: file extensions, the grammar wheel, the module system, the
names every program may call, which words mean "this object", and how visibility is spelled.
Adding a language means one `Language` record here, its query file and a test fixture.
"""

from __future__ import annotations

import builtins
import importlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Literal

from tree_sitter import Language as Grammar
from tree_sitter import Query

from doctown.errors import ConfigurationError

Visibility = Literal["underscore", "capitalised", "modifiers"]
# How files become modules and what an import names; see `modules.py`.
ModuleSystem = Literal["python", "js", "go", "rust", "java"]

QUERIES: Traversable = resources.files("doctown.analysis").joinpath("queries")

# Names every program of a language can call without defining or importing them.
PYTHON_BUILTINS = frozenset(dir(builtins))
JS_BUILTINS = frozenset(
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
)
GO_BUILTINS = frozenset(
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
)
RUST_BUILTINS = frozenset(
    ["Some", "None", "Ok", "Err", "Box", "Vec", "String", "Default", "drop", "panic"]
)
JAVA_BUILTINS = frozenset(
    ["System", "String", "Object", "Math", "Integer", "Long", "Double", "Boolean"]
)


@dataclass(frozen=True, slots=True)
class Language:
    """One analysable language.

    `module_system` says how files become modules and imports name them; languages that
    share one (JavaScript, TypeScript, TSX) resolve imports between each other. `builtins`
    are names every program can call. `self_names` are receivers that always mean the
    enclosing type's instance, `self_type_names` the type itself (`Self`), and `super_names`
    its bases. `implicit_self` is true where an unqualified call may name a method of the
    enclosing class (Java). `module_path_roots` are the words a path through the module tree
    starts with (`crate`, `self`, `super`); with them, a module's submodules are names in its
    scope. `visibility` names the convention: a leading underscore (Python, JavaScript), a
    capital initial (Go), or explicit modifiers (Rust, Java, TypeScript), where
    `unmarked_visibility` is what a name without one gets.
    """

    name: str
    extensions: tuple[str, ...]
    grammar_module: str
    grammar_function: str
    module_system: ModuleSystem
    builtins: frozenset[str] = frozenset()
    separator: str = "."
    self_names: frozenset[str] = frozenset()
    self_type_names: frozenset[str] = frozenset()
    super_names: frozenset[str] = frozenset()
    implicit_self: bool = False
    module_path_roots: frozenset[str] = frozenset()
    visibility: Visibility = "underscore"
    unmarked_visibility: str = "public"
    shebangs: tuple[str, ...] = ()
    # Languages whose grammars share node names share one query file.
    query_file: str = ""
    queries: Traversable = QUERIES


LANGUAGES: dict[str, Language] = {
    language.name: language
    for language in (
        Language(
            "python",
            (".py", ".pyi"),
            "tree_sitter_python",
            "language",
            "python",
            builtins=PYTHON_BUILTINS,
            super_names=frozenset({"super()"}),
            shebangs=("python",),
        ),
        Language(
            "javascript",
            (".js", ".mjs", ".cjs", ".jsx"),
            "tree_sitter_javascript",
            "language",
            "js",
            builtins=JS_BUILTINS,
            self_names=frozenset({"this"}),
            super_names=frozenset({"super"}),
            shebangs=("node",),
        ),
        Language(
            "typescript",
            (".ts", ".mts", ".cts"),
            "tree_sitter_typescript",
            "language_typescript",
            "js",
            builtins=JS_BUILTINS,
            self_names=frozenset({"this"}),
            super_names=frozenset({"super"}),
            visibility="modifiers",
        ),
        Language(
            "tsx",
            (".tsx",),
            "tree_sitter_typescript",
            "language_tsx",
            "js",
            builtins=JS_BUILTINS,
            self_names=frozenset({"this"}),
            super_names=frozenset({"super"}),
            visibility="modifiers",
            query_file="typescript",
        ),
        Language(
            "go",
            (".go",),
            "tree_sitter_go",
            "language",
            "go",
            builtins=GO_BUILTINS,
            visibility="capitalised",
        ),
        Language(
            "rust",
            (".rs",),
            "tree_sitter_rust",
            "language",
            "rust",
            builtins=RUST_BUILTINS,
            separator="::",
            self_names=frozenset({"self"}),
            self_type_names=frozenset({"Self"}),
            module_path_roots=frozenset({"crate", "self", "super"}),
            visibility="modifiers",
            unmarked_visibility="private",
        ),
        Language(
            "java",
            (".java",),
            "tree_sitter_java",
            "language",
            "java",
            builtins=JAVA_BUILTINS,
            self_names=frozenset({"this"}),
            super_names=frozenset({"super"}),
            implicit_self=True,
            visibility="modifiers",
            unmarked_visibility="internal",
        ),
    )
}

BY_EXTENSION: dict[str, str] = {
    extension: language.name for language in LANGUAGES.values() for extension in language.extensions
}


@cache
def grammar(name: str) -> Grammar:
    """The tree-sitter grammar of a language, loaded from its wheel."""
    language = LANGUAGES[name]
    try:
        module = importlib.import_module(language.grammar_module)
    except ImportError:
        package = language.grammar_module.replace("_", "-")
        raise ConfigurationError(
            f"The {name} grammar is not installed. Install it with: pip install {package}"
        ) from None
    return Grammar(getattr(module, language.grammar_function)())


@cache
def query_source(name: str) -> str:
    """The text of a language's query file."""
    language = LANGUAGES[name]
    file = language.query_file or name
    return language.queries.joinpath(f"{file}.scm").read_text("utf-8")


@cache
def query(name: str) -> Query:
    """A language's compiled query."""
    return Query(grammar(name), query_source(name))


def visibility(language: Language, name: str, modifiers: str) -> str:
    """`public`, `private`, `protected` or `internal`, by the language's own convention."""
    if language.visibility == "capitalised":
        return "public" if name[:1].isupper() else "private"
    if language.visibility == "modifiers":
        words = set(modifiers.replace("(", " ").replace(")", " ").split())
        if "private" in words or name.startswith("#"):
            return "private"
        if "protected" in words:
            return "protected"
        if "crate" in words or "super" in words:
            return "internal"
        if "pub" in words or "public" in words:
            return "public"
        return language.unmarked_visibility
    if name.startswith("__") and name.endswith("__"):
        return "public"
    return "private" if name.startswith(("_", "#")) else "public"

"""The languages doctown analyses: how each is recognised and the few conventions it has.

Everything about a language's syntax lives in its query file, `queries/<name>.scm`. What is
here is what a query cannot say: file extensions, the grammar wheel, how names are joined,
which words mean "this object", and how visibility is spelled.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from tree_sitter import Language as Grammar
from tree_sitter import Query

from doctown.errors import ConfigurationError

Visibility = Literal["underscore", "capitalised", "modifiers"]


@dataclass(frozen=True, slots=True)
class Language:
    """One analysable language.

    `self_names` are receivers that always mean the enclosing type's instance; `super_names`
    mean its bases. `implicit_self` is true where an unqualified call may name a method of the
    enclosing class (Java). `visibility` names the convention: a leading underscore (Python,
    JavaScript), a capital initial (Go), or explicit modifiers (Rust, Java, TypeScript).
    """

    name: str
    extensions: tuple[str, ...]
    grammar_module: str
    grammar_function: str
    separator: str = "."
    self_names: frozenset[str] = frozenset()
    super_names: frozenset[str] = frozenset()
    implicit_self: bool = False
    visibility: Visibility = "underscore"
    shebangs: tuple[str, ...] = ()
    # Languages whose grammars share node names share one query file.
    query_file: str = ""


LANGUAGES: dict[str, Language] = {
    language.name: language
    for language in (
        Language(
            "python",
            (".py", ".pyi"),
            "tree_sitter_python",
            "language",
            super_names=frozenset({"super()"}),
            shebangs=("python",),
        ),
        Language(
            "javascript",
            (".js", ".mjs", ".cjs", ".jsx"),
            "tree_sitter_javascript",
            "language",
            self_names=frozenset({"this"}),
            super_names=frozenset({"super"}),
            shebangs=("node",),
        ),
        Language(
            "typescript",
            (".ts", ".mts", ".cts"),
            "tree_sitter_typescript",
            "language_typescript",
            self_names=frozenset({"this"}),
            super_names=frozenset({"super"}),
            visibility="modifiers",
        ),
        Language(
            "tsx",
            (".tsx",),
            "tree_sitter_typescript",
            "language_tsx",
            self_names=frozenset({"this"}),
            super_names=frozenset({"super"}),
            visibility="modifiers",
            query_file="typescript",
        ),
        Language("go", (".go",), "tree_sitter_go", "language", visibility="capitalised"),
        Language(
            "rust",
            (".rs",),
            "tree_sitter_rust",
            "language",
            separator="::",
            self_names=frozenset({"self", "Self"}),
            visibility="modifiers",
        ),
        Language(
            "java",
            (".java",),
            "tree_sitter_java",
            "language",
            self_names=frozenset({"this"}),
            super_names=frozenset({"super"}),
            implicit_self=True,
            visibility="modifiers",
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
    file = LANGUAGES[name].query_file or name
    return resources.files("doctown.analysis").joinpath(f"queries/{file}.scm").read_text("utf-8")


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
        # Unmarked means private in Rust, package-private in Java, public in TypeScript.
        return {"rust": "private", "java": "internal"}.get(language.name, "public")
    if name.startswith("__") and name.endswith("__"):
        return "public"
    return "private" if name.startswith(("_", "#")) else "public"

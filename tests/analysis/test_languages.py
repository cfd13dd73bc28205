"""The language records, and what adding a language takes: a record, a query file, a fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from doctown.analysis import analyze_repository, languages
from doctown.analysis.languages import LANGUAGES, Language
from tests.analysis.conftest import FIXTURES, call_edges, unresolved

QUERIES = Path(__file__).parent / "queries"

STARLARK = Language(
    "starlark",
    (".bzl",),
    "tree_sitter_python",
    "language",
    "python",
    builtins=frozenset({"fail", "len", "print", "native"}),
    queries=QUERIES,
)


@pytest.mark.parametrize("name", sorted(LANGUAGES))
def test_every_language_has_a_module_system_a_query_and_a_fixture(name: str) -> None:
    language = LANGUAGES[name]
    assert language.module_system in ("python", "js", "go", "rust", "java")
    assert languages.query(name).pattern_count > 5
    fixture = FIXTURES / (language.query_file or name)
    assert any(path.suffix in language.extensions for path in fixture.rglob("*")), fixture


def test_a_new_language_is_a_record_a_query_file_and_a_fixture(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Registering the record is all: detection, parsing, module names, lookup and
    # visibility come from the record and the query file, with no other code to change.
    monkeypatch.setitem(LANGUAGES, STARLARK.name, STARLARK)
    monkeypatch.setitem(languages.BY_EXTENSION, ".bzl", STARLARK.name)
    result = analyze_repository(FIXTURES / "starlark", use_cache=False, workers=1)

    assert {(f.path, f.language, f.module) for f in result.files} == {
        ("rules/defs.bzl", "starlark", "defs"),
        ("rules/checks.bzl", "starlark", "checks"),
    }
    symbols = {s.id: s for s in result.symbols}
    package = symbols["rules/defs.bzl::package"]
    assert (package.kind, package.qualified_name) == ("function", "defs.package")
    assert package.docstring == "Declares one archive of `srcs`."
    assert package.signature == "def package(name, version, srcs)"
    assert symbols["rules/defs.bzl::_archive_name"].visibility == "private"
    assert symbols["rules/defs.bzl"].docstring == "Rules for packaging."

    edges = call_edges(result)
    assert edges[("rules/defs.bzl::package", "rules/defs.bzl::_archive_name")] == "scope"
    # No imports in this fixture: the other file's function is only a unique-name guess.
    assert edges[("rules/defs.bzl::package", "rules/checks.bzl::check")] == "unique_name"
    calls = unresolved(result)
    assert calls[("rules/defs.bzl::package", "len")] == "external"
    assert calls[("rules/defs.bzl::package", "native.genrule")] == "external"
    assert calls[("rules/checks.bzl::check", "path.endswith")] == "unknown"
    assert [c["name"] for c in result.context_fields] == [s.name for s in result.symbols]

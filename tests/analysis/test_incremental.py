"""A changed file re-resolves only what it can affect, and the result is what a full run gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from doctown.analysis import AnalysisResult, analyze_repository
from doctown.analysis.cache import FactsCache
from tests.analysis.conftest import FIXTURES, call_edges

LANGUAGES = ["python", "javascript", "typescript", "go", "rust", "java"]
SOURCE_SUFFIXES = (".py", ".js", ".ts", ".tsx", ".go", ".rs", ".java")


def everything(result: AnalysisResult) -> tuple[object, ...]:
    return (
        result.symbols,
        result.edges,
        result.unresolved,
        result.imports,
        result.clusters,
        result.centrality,
        result.context_fields,
    )


def half(text: str) -> str:
    lines = text.splitlines()
    return "\n".join(lines[: len(lines) // 2]) + "\n"


def twice(text: str) -> str:
    # Every definition again: repeated ids, and names that now have two bearers.
    return text + "\n" + text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_change_to_every_fixture_file_gives_the_full_result(
    language: str, tmp_path: Path
) -> None:
    tree = Path(shutil.copytree(FIXTURES / language, tmp_path / language))
    cache = FactsCache(tmp_path / "cache")
    analyze_repository(tree, cache=cache, workers=1)
    sources = sorted(path for path in tree.rglob("*") if path.suffix in SOURCE_SUFFIXES)
    for path in sources:
        original = path.read_text()
        for change in (half, twice, lambda _text: ""):
            path.write_text(change(original))
            changed = analyze_repository(tree, cache=cache, workers=1)
            full = analyze_repository(tree, use_cache=False, workers=1)
            assert changed.parsed_files <= 1  # an empty file's facts may be cached
            assert everything(changed) == everything(full), (path.name, change)
        path.write_text(original)
    restored = analyze_repository(tree, cache=cache, workers=1)
    assert everything(restored) == everything(analyze_repository(tree, use_cache=False))


def test_a_leaf_change_leaves_the_files_that_do_not_read_it_alone(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "money.py").write_text("def cents(x):\n    return round(x * 100)\n")
    (tmp_path / "app" / "shop.py").write_text(
        "from app.money import cents\n\n\ndef price(x):\n    return cents(x)\n"
    )
    (tmp_path / "app" / "log.py").write_text("def write(line):\n    print(line)\n")
    cache = FactsCache(tmp_path / "cache")
    first = analyze_repository(tmp_path, cache=cache, workers=1)
    assert first.resolved_files == 4
    (tmp_path / "app" / "money.py").write_text(
        "def cents(x):\n    return dollars(x) * 100\n\n\ndef dollars(x):\n    return x\n"
    )
    second = analyze_repository(tmp_path, cache=cache, workers=1)
    # money.py and its importer shop.py; not log.py, nor the package's __init__.py.
    assert second.resolved_files == 2
    assert ("app/money.py::cents", "app/money.py::dollars") in call_edges(second)
    assert everything(second) == everything(analyze_repository(tmp_path, use_cache=False))


def test_a_new_definition_reaches_the_calls_that_guessed_by_its_name(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def run(job):\n    return schedule(job)\n")
    (tmp_path / "b.py").write_text("def other():\n    pass\n")
    cache = FactsCache(tmp_path / "cache")
    first = analyze_repository(tmp_path, cache=cache, workers=1)
    assert ("a.py::run", "schedule") in {(u.source, u.name) for u in first.unresolved}
    # b.py is not imported by a.py: only the name ties them.
    (tmp_path / "b.py").write_text("def other():\n    pass\n\n\ndef schedule(job):\n    pass\n")
    second = analyze_repository(tmp_path, cache=cache, workers=1)
    assert second.resolved_files == 2
    assert call_edges(second)[("a.py::run", "b.py::schedule")] == "unique_name"
    assert everything(second) == everything(analyze_repository(tmp_path, use_cache=False))


def test_adding_a_file_resolves_everything_again(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import b\n\n\ndef run():\n    return b.go()\n")
    cache = FactsCache(tmp_path / "cache")
    analyze_repository(tmp_path, cache=cache, workers=1)
    (tmp_path / "b.py").write_text("def go():\n    pass\n")
    second = analyze_repository(tmp_path, cache=cache, workers=1)
    assert second.resolved_files == 2
    assert call_edges(second)[("a.py::run", "b.py::go")] == "import"


def test_files_resolve_the_same_in_any_order(tmp_path: Path) -> None:
    from doctown.analysis.modules import Layout
    from doctown.analysis.parse import extract
    from doctown.analysis.resolve import CallResolver
    from doctown.analysis.symbols import build_table

    root = FIXTURES / "python"
    files = {
        str(path.relative_to(root)): extract(path.read_bytes(), "python")
        for path in root.rglob("*.py")
    }
    layout = Layout(root, files)
    forward = CallResolver(build_table(files, layout), layout)
    backward = CallResolver(build_table(files, layout), layout)
    count = len(files)
    assert forward.resolve(range(count)) == backward.resolve(range(count - 1, -1, -1))[::-1]

"""Symbols from each language's query: kinds, names, ranges, signatures, docs, visibility."""

from __future__ import annotations

from pathlib import Path

import pytest

from doctown.analysis import Symbol
from doctown.analysis.parse import clean_comment, clean_docstring, extract
from tests.analysis.conftest import FIXTURES, analysed


def symbol(language: str, symbol_id: str) -> Symbol:
    return next(s for s in analysed(language).symbols if s.id == symbol_id)


KINDS = [
    ("python", "shop/models.py", "module"),
    ("python", "shop/models.py::Cart", "class"),
    ("python", "shop/models.py::Cart.add", "method"),
    ("python", "shop/pricing.py::total", "function"),
    ("python", "shop/models.py::Cart._check.visit", "function"),
    ("javascript", "src/cart.js::Cart", "class"),
    ("javascript", "src/cart.js::Cart.summary", "method"),
    ("javascript", "src/cart.js::helper", "function"),
    ("typescript", "src/db.ts::Store", "interface"),
    ("typescript", "src/db.ts::Store.query", "method"),
    ("typescript", "src/db.ts::Mode", "enum"),
    ("typescript", "src/db.ts::Rows", "type_alias"),
    ("typescript", "src/repo.ts::Repository.name", "method"),
    ("typescript", "src/view.tsx::UserCount", "function"),
    ("go", "store/store.go::Store", "struct"),
    ("go", "store/store.go::Saver", "interface"),
    ("go", "store/store.go::Saver.Save", "method"),
    ("go", "store/count.go::Store.Count", "method"),
    ("go", "store/store.go::New", "function"),
    ("rust", "src/store/mod.rs::Item", "struct"),
    ("rust", "src/store/mod.rs::Describe", "trait"),
    ("rust", "src/store/mod.rs::Kind", "enum"),
    ("rust", "src/store/mod.rs::Store.add", "method"),
    ("rust", "src/lib.rs::fill", "function"),
    ("java", "src/com/shop/Cart.java::Cart", "class"),
    ("java", "src/com/shop/Cart.java::Cart.Cart", "constructor"),
    ("java", "src/com/shop/Cart.java::Cart.State", "enum"),
    ("java", "src/com/shop/model/Priced.java::Priced", "interface"),
    ("java", "src/com/shop/model/Item.java::Item.of", "method"),
]


@pytest.mark.parametrize(("language", "symbol_id", "kind"), KINDS)
def test_symbol_kinds(language: str, symbol_id: str, kind: str) -> None:
    assert symbol(language, symbol_id).kind == kind


@pytest.mark.parametrize("language", ["python", "javascript", "typescript", "go", "rust", "java"])
def test_byte_and_line_ranges_point_at_the_definition(language: str) -> None:
    for found in analysed(language).symbols:
        if found.kind == "module":
            continue
        source = (FIXTURES / language / found.file_path).read_bytes()
        text = source[found.start_byte : found.end_byte].decode()
        assert found.name in text
        lines = source.decode().splitlines()[found.start_line - 1 : found.end_line]
        assert found.name in "\n".join(lines)
        assert text.startswith(found.signature.split("\n")[0][:20]) or found.signature == ""


@pytest.mark.parametrize(
    ("language", "symbol_id", "signature"),
    [
        ("python", "shop/models.py::Cart.add", "def add(self, name: str, price: float) -> Item"),
        ("typescript", "src/repo.ts::Repository.count", "protected count(): number"),
        ("go", "store/store.go::Store.Save", "func (s *Store) Save(item string) error"),
        ("rust", "src/store/mod.rs::Item.named", "pub fn named(name: &str) -> Self"),
        ("java", "src/com/shop/model/Item.java::Item.of", "protected static Item of(String name)"),
        ("javascript", "src/cart.js::Cart.add", "add(price)"),
    ],
)
def test_signature_is_the_declaration_up_to_its_body(
    language: str, symbol_id: str, signature: str
) -> None:
    assert symbol(language, symbol_id).signature == signature


@pytest.mark.parametrize(
    ("language", "symbol_id", "docstring"),
    [
        ("python", "shop/models.py::Cart", "A customer's cart."),
        ("python", "shop/pricing.py", "Prices and discounts."),
        ("javascript", "src/cart.js::Cart", "A cart of priced items."),
        ("typescript", "src/db.ts::Store", "A database handle."),
        ("go", "store/store.go::Logger", "Logger writes lines."),
        ("rust", "src/store/mod.rs::Item", "Something to sell."),
        ("java", "src/com/shop/model/Item.java::Item", "Something to sell."),
    ],
)
def test_docstrings_and_doc_comments(language: str, symbol_id: str, docstring: str) -> None:
    assert symbol(language, symbol_id).docstring == docstring


@pytest.mark.parametrize(
    ("language", "symbol_id", "visibility"),
    [
        ("python", "shop/models.py::Cart._check", "private"),
        ("python", "shop/models.py::Cart.__init__", "public"),
        ("go", "store/store.go::helper", "private"),
        ("go", "store/store.go::New", "public"),
        ("rust", "src/store/mod.rs::Store.with_capacity", "private"),
        ("rust", "src/lib.rs::unknown_receiver", "internal"),
        ("rust", "src/store/mod.rs::helper", "public"),
        ("java", "src/com/shop/Cart.java::Cart.add", "internal"),
        ("java", "src/com/shop/model/Item.java::Item.of", "protected"),
        ("typescript", "src/repo.ts::Repository.count", "protected"),
        ("javascript", "src/cart.js::Cart.total", "public"),
    ],
)
def test_visibility_by_language_convention(language: str, symbol_id: str, visibility: str) -> None:
    assert symbol(language, symbol_id).visibility == visibility


@pytest.mark.parametrize(
    ("language", "symbol_id", "parent_id", "qualified_name"),
    [
        ("python", "shop/models.py::Cart.add", "shop/models.py::Cart", "shop.models.Cart.add"),
        (
            "go",
            "store/count.go::Store.Count",
            "store/store.go::Store",
            "example.com/shop/store.Store.Count",
        ),
        (
            "rust",
            "src/store/mod.rs::Store.label",
            "src/store/mod.rs::Store",
            "shop::store::Store::label",
        ),
        (
            "java",
            "src/com/shop/Cart.java::Cart.add",
            "src/com/shop/Cart.java::Cart",
            "com.shop.Cart.add",
        ),
    ],
)
def test_parent_and_qualified_name(
    language: str, symbol_id: str, parent_id: str, qualified_name: str
) -> None:
    found = symbol(language, symbol_id)
    assert found.parent_id == parent_id
    assert found.qualified_name == qualified_name


def test_syntax_errors_are_counted_not_fatal() -> None:
    facts = extract(b"def ok():\n    pass\n\ndef broken(:\n", "python")
    assert facts.syntax_errors >= 1
    assert "ok" in [d.name for d in facts.definitions]


def test_doc_text_is_cleaned() -> None:
    assert clean_docstring('r"""\n    Two\n    lines.\n    """') == "Two\nlines."
    assert clean_comment(["/**", " * Hello", " * world.", " */"]) == "Hello\nworld."
    assert clean_comment(["/// Rust doc"]) == "Rust doc"


def test_untrusted_source_is_bounded() -> None:
    huge_name = b"a" * 10_000
    facts = extract(b"def " + huge_name + b"():\n    pass\n", "python")
    assert len(facts.definitions[0].name) <= 200


def test_a_file_that_breaks_the_extractor_is_left_out_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from doctown.analysis import analyze_repository, parse

    (tmp_path / "good.py").write_text("def fine():\n    pass\n")
    (tmp_path / "bad.py").write_text("def trap():\n    pass\n")
    original = parse._Extraction.add

    def add(self: parse._Extraction, captures: dict[str, list[object]]) -> None:
        if b"trap" in self.source:
            raise IndexError("unexpected capture")
        original(self, captures)  # type: ignore[arg-type]

    monkeypatch.setattr(parse._Extraction, "add", add)
    result = analyze_repository(tmp_path, use_cache=False, workers=1)
    assert "good.py::fine" in {s.id for s in result.symbols}
    assert "bad.py::trap" not in {s.id for s in result.symbols}
    assert "bad.py: could not be analysed (IndexError); it is left out." in result.warnings


@pytest.mark.parametrize(
    "language", ["python", "javascript", "typescript", "tsx", "go", "rust", "java"]
)
def test_every_query_compiles(language: str) -> None:
    from doctown.analysis import languages

    assert languages.query(language).pattern_count > 5

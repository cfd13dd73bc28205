"""Call resolution on the JavaScript, TypeScript, Go, Rust and Java fixtures."""

from __future__ import annotations

import pytest

from tests.analysis.conftest import analysed, call_edges, unresolved

JS = "src/cart.js::"
FMT = "src/lib/format.js::"
DB = "src/db.ts::"
REPO = "src/repo.ts::"
STORE = "store/store.go::"
RS = "src/store/mod.rs::"
CART = "src/com/shop/Cart.java::"
ITEM = "src/com/shop/model/Item.java::"

RESOLVED = [
    # JavaScript: scope, default / aliased / namespace imports, this, super, `new`, inference.
    ("javascript", JS + "Cart.constructor", JS + "Logger", "scope"),
    ("javascript", JS + "checkout", JS + "helper", "scope"),
    ("javascript", JS + "Cart.add", FMT + "formatAmount", "import"),
    ("javascript", JS + "Cart.summary", FMT + "shout", "import"),
    ("javascript", JS + "Cart.summary", FMT + "formatAmount", "import"),
    ("javascript", JS + "Cart.add", JS + "Cart.total", "self"),
    ("javascript", JS + "SpecialCart.total", JS + "Cart.total", "self"),
    ("javascript", JS + "Cart.add", JS + "Logger.write", "inferred"),
    ("javascript", JS + "checkout", JS + "Cart.add", "inferred"),
    ("javascript", JS + "checkout", JS + "Logger.write", "unique_name"),
    # CommonJS: `require` of `module.exports = X`, of an exported object, destructured.
    ("javascript", "src/legacy.js::receipt", JS + "Cart", "import"),
    ("javascript", "src/legacy.js::receipt", JS + "Cart.add", "inferred"),
    ("javascript", "src/legacy.js::receipt", FMT + "formatAmount", "import"),
    ("javascript", "src/legacy.js::receipt", "src/tools.js::stamp", "import"),
    ("javascript", "src/legacy.js::receipt", FMT + "shout", "import"),
    # TypeScript: parameter properties, declared types, return types, interfaces, TSX.
    ("typescript", DB + "connect", DB + "Db", "scope"),
    ("typescript", REPO + "Users.total", DB + "connect", "import"),
    ("typescript", REPO + "Users.total", REPO + "Repository.count", "self"),
    ("typescript", REPO + "Repository.count", DB + "Db.query", "declared"),
    ("typescript", REPO + "Users.total", DB + "Store.query", "declared"),
    ("typescript", REPO + "Users.total", DB + "Db.query", "inferred"),
    ("typescript", "src/view.tsx::UserCount", REPO + "Users", "import"),
    ("typescript", "src/view.tsx::UserCount", REPO + "Users.name", "inferred"),
    # Go: same package across files, imported package alias, receivers, embedding, fields.
    ("go", "store/count.go::Store.Count", STORE + "helper", "scope"),
    ("go", "cmd/main.go::main", "cmd/main.go::run", "scope"),
    ("go", "cmd/main.go::run", STORE + "New", "import"),
    ("go", "cmd/main.go::run", STORE + "Store.Save", "inferred"),
    ("go", "cmd/main.go::run", "store/count.go::Store.Count", "inferred"),
    ("go", "cmd/main.go::run", STORE + "Logger.Write", "declared"),
    ("go", "cmd/main.go::run", STORE + "Saver.Save", "declared"),
    ("go", STORE + "Store.Save", STORE + "Logger.Write", "declared"),
    ("go", STORE + "Store.Save", STORE + "Base.Describe", "declared"),
    # Rust: `use` trees with aliases, `Self::`, impl and trait methods, module paths.
    ("rust", "src/lib.rs::fill", RS + "Store.new", "import"),
    ("rust", "src/lib.rs::fill", RS + "Item.named", "import"),
    ("rust", "src/lib.rs::fill", RS + "Store.add", "inferred"),
    ("rust", "src/lib.rs::fill", RS + "Describe.describe", "inferred"),
    ("rust", "src/lib.rs::fill", RS + "helper", "import"),
    ("rust", RS + "Store.new", RS + "Store.with_capacity", "self"),
    ("rust", RS + "Describe.describe", RS + "Describe.label", "self"),
    ("rust", RS + "Store.add", RS + "helper", "scope"),
    # Java: imports, same package, implicit this, super, `var`, fields, interfaces.
    ("java", CART + "Cart.Cart", CART + "Ledger", "scope"),
    ("java", CART + "Cart.add", ITEM + "Item", "import"),
    ("java", CART + "Cart.add", ITEM + "Item.describe", "declared"),
    ("java", CART + "Cart.add", CART + "Ledger.record", "declared"),
    ("java", CART + "Cart.add", CART + "Base.validate", "self"),
    ("java", CART + "Cart.add", "src/com/shop/model/Priced.java::Priced.price", "declared"),
    ("java", ITEM + "Item.of", ITEM + "Item", "scope"),
]

UNRESOLVED = [
    ("javascript", JS + "Logger.write", "console.log", "external"),
    ("javascript", JS + "checkout", "lodash.map", "external"),
    ("javascript", FMT + "formatAmount", "value.toFixed", "unknown"),
    ("typescript", REPO + "Users.total", "this.cache.clear", "external"),
    ("go", "cmd/main.go::run", "os.Exit", "external"),
    ("go", STORE + "Store.Save", "append", "external"),
    ("rust", RS + "Store.with_capacity", "HashMap.new", "external"),
    ("rust", "src/lib.rs::unknown_receiver", "thing.type_id", "unknown"),
    ("java", CART + "Cart.add", "System.out.println", "external"),
    ("java", CART + "Cart.add", "items.add", "external"),
    ("java", ITEM + "Item.describe", "name.trim", "external"),
]


@pytest.mark.parametrize(("language", "source", "target", "tier"), RESOLVED)
def test_call_resolved_through_its_tier(language: str, source: str, target: str, tier: str) -> None:
    assert call_edges(analysed(language)).get((source, target)) == tier


@pytest.mark.parametrize(("language", "source", "name", "reason"), UNRESOLVED)
def test_unresolvable_call_kept_as_name(language: str, source: str, name: str, reason: str) -> None:
    assert unresolved(analysed(language)).get((source, name)) == reason


def test_java_call_on_a_library_type_is_not_guessed_onto_a_same_named_method() -> None:
    # `items` is a java.util.List: its `add` is not Cart.add, however unique that name is.
    assert (CART + "Cart.add", CART + "Cart.add") not in call_edges(analysed("java"))

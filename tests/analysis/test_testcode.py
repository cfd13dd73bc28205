"""Test code is recognised by its path, and its calls become "tested by", not "called by"."""

from __future__ import annotations

from pathlib import Path

import pytest

from doctown.analysis import analyze_repository
from doctown.analysis.testcode import is_test_path


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_cart.py",
        "test/unit/helpers.py",
        "pkg/test_cart.py",
        "pkg/cart_test.py",
        "pkg/cart_tests.py",
        "conftest.py",
        "store/count_test.go",
        "src/cart.test.js",
        "src/view.spec.tsx",
        "src/cart.test.mjs",
        "web/__tests__/cart.js",
        "src/test/java/com/shop/CartTest.java",
        "src/main/java/com/shop/CartTest.java",
        "src/it/CartIT.java",
        "crate/tests/store.rs",
        "spec/models/cart_spec.js",
        "Tests/Shop/CartTests.java",
        "go/store/testdata/fixture.go",
    ],
)
def test_test_files_and_folders_are_test_code(path: str) -> None:
    assert is_test_path(path)


@pytest.mark.parametrize(
    "path",
    [
        "src/doctown/testing/fake_openai.py",  # test doubles shipped for users
        "src/contest.py",
        "src/attestation.py",
        "src/latest_version.py",
        "src/testimony.js",
        "src/main/java/com/shop/Contest.java",
        "store/test.go",
        "src/spectrum.ts",
        "testsuite.py",
    ],
)
def test_code_that_only_looks_like_tests_is_not(path: str) -> None:
    assert not is_test_path(path)


FILES = {
    "shop/__init__.py": "",
    "tests/__init__.py": "",
    "shop/pricing.py": (
        "def total(items):\n    return sum(items)\n\n\n"
        "def report(items):\n    return str(total(items))\n"
    ),
    "tests/helpers.py": "from shop.pricing import total\n\n\ndef three():\n    return [1, 2]\n",
    "tests/test_pricing.py": (
        "from shop.pricing import total\nfrom tests.helpers import three\n\n\n"
        "def test_total():\n    assert total(three()) == 3\n"
    ),
}


def test_calls_from_tests_are_tested_by_not_called_by(tmp_path: Path) -> None:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    result = analyze_repository(tmp_path, use_cache=False)
    contexts = {fields["symbol_id"]: fields for fields in result.context_fields}
    total = contexts["shop/pricing.py::total"]
    assert total["called_by"] == ["shop.pricing.report"]
    assert total["tested_by"] == ["tests.test_pricing.test_total"]
    # Test code calling test code is an ordinary call.
    assert contexts["tests/helpers.py::three"]["called_by"] == ["tests.test_pricing.test_total"]
    assert contexts["tests/helpers.py::three"]["tested_by"] == []

"""Recognising test code by where it lives: test folders and the naming rules of each language.

Tests call the code they check, so counting them as callers would bury the real callers of a
function under its tests. The analysis keeps them apart: a call from test code to code that is
not a test is a "tested by" relation, and test code is not documented unless asked for.

Only the path decides. It is cheap, it never needs the file's content, and it is what the test
runners themselves go by (pytest's `test_*.py`, go test's `*_test.go`, Maven's `src/test/java`).
"""

from __future__ import annotations

import functools
import re

# A file below a folder with one of these names is test code, whatever its own name. `testing`
# is left out on purpose: it names test helpers shipped for users (`doctown.testing`) and Go's
# standard `testing` package, not tests.
TEST_DIRECTORIES = frozenset(
    {"test", "tests", "__tests__", "__mocks__", "spec", "specs", "testdata", "e2e"}
)

# File names that are test code wherever they are, one rule per line.
_TEST_FILE_RULES = (
    r"test_.*\.py",  # pytest, unittest discovery
    r".*_tests?\.py",
    r"conftest\.py",  # pytest fixtures
    r".*_test\.go",  # go test
    r".*[._](test|spec)\.[cm]?[jt]sx?",  # jest, vitest, mocha: cart.test.js, view.spec.tsx
    r".*(Test|Tests|IT|TestCase)\.java",  # JUnit, surefire and failsafe
    r".*_test\.rs",
)
_TEST_FILE = re.compile("|".join(f"(?:{rule})" for rule in _TEST_FILE_RULES))


@functools.lru_cache(maxsize=1 << 16)
def is_test_path(path: str) -> bool:
    """True when the file at `path` (relative, POSIX separators) is test code.

    >>> is_test_path("tests/test_cart.py"), is_test_path("src/test/java/CartTest.java")
    (True, True)
    >>> is_test_path("pkg/store_test.go"), is_test_path("src/doctown/testing/fake.py")
    (True, False)
    """
    *folders, name = path.split("/")
    if any(folder.lower() in TEST_DIRECTORIES for folder in folders):
        return True
    return _TEST_FILE.fullmatch(name) is not None

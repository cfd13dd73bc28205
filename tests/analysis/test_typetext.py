"""Type annotations read as text, in each language's spelling."""

from __future__ import annotations

import pytest

from doctown.analysis.typetext import element_type, type_path


@pytest.mark.parametrize(
    ("written", "path"),
    [
        ("Foo", "Foo"),
        ('"Foo"', "Foo"),
        ("Optional[pkg.Foo]", "pkg.Foo"),
        ("Foo | None", "Foo"),
        ("None | Foo", "Foo"),
        ("Foo | Bar", None),
        ("list[Item]", "list"),
        (": Foo", "Foo"),
        ("*Server", "Server"),
        ("&mut Store", "Store"),
        ("&'a Store", "Store"),
        ("Box<dyn Describe>", "Describe"),
        ("Arc<Mutex<Store>>", "Store"),
        ("implementation.Thing", "implementation.Thing"),
        ("mutable", "mutable"),
        ("List<Item>", "List"),
        ("crate::store::Item", "crate::store::Item"),
        ("(int, str)", None),
    ],
)
def test_type_path(written: str, path: str | None) -> None:
    assert type_path(written) == path


@pytest.mark.parametrize(
    ("written", "element"),
    [
        ("cabc.Iterator[Signer]", "Signer"),
        ("list[Item]", "Item"),
        ("Generator[Node, None, None]", "Node"),
        ("dict[str, Item]", None),
        ("Item", None),
    ],
)
def test_element_type(written: str, element: str | None) -> None:
    assert element_type(written) == element

"""Reading type annotations and dotted paths as text, the same way in every language."""

from __future__ import annotations

import re

PATH = re.compile(r"^[A-Za-z_$#][\w$]*(?:(?:\.|::)[A-Za-z_$#][\w$]*)*$")
PATH_SPLIT = re.compile(r"\.|::")
# Pointer, reference and trait-object words in front of the type that matters.
_QUALIFIERS = re.compile(r"^(?:(?:mut|dyn|impl|const|readonly|'\w+)\s+)+")
_GENERIC_ARGS = re.compile(r"::<.*?>|<.*>|\[.*\]$")
_WRAPPERS = re.compile(
    r"^(?:Optional|Box|Rc|Arc|RefCell|Mutex|ClassVar|Final|Annotated)[\[<](.*)[\]>]$"
)


def type_path(text: str) -> str | None:
    """The named type in an annotation: `Optional[Foo]`, `*Foo`, `&mut Foo`, `"Foo"` -> Foo."""
    text = text.strip().lstrip(":").strip().strip("\"'")
    for _ in range(4):
        text = _QUALIFIERS.sub("", text.lstrip("*&").strip())
        wrapped = _WRAPPERS.match(text)
        if wrapped:
            text = wrapped.group(1)
            continue
        if "|" in text:
            options = [part.strip() for part in text.split("|") if part.strip() not in _NONE]
            if len(options) != 1:
                return None
            text = options[0]
            continue
        break
    text = _GENERIC_ARGS.sub("", text)
    return text if PATH.match(text) else None


_NONE = frozenset({"None", "null", "undefined", "nil"})
_ITERABLE = re.compile(
    r"^(?:[\w.]+\.)?(?:Iterator|Iterable|Generator|AsyncIterator|AsyncIterable|"
    r"AsyncGenerator|Sequence|list|List|set|Set|frozenset|FrozenSet|Collection|tuple)"
    r"\[([^\[\],]+)(?:,.*)?\]$"
)


def element_type(text: str) -> str | None:
    """`Iterator[X]`, `list[X]`, `Generator[X, ...]` -> X: what iterating yields."""
    match = _ITERABLE.match(text.strip().lstrip(":").strip().strip("\"'"))
    return match.group(1).strip() if match else None

"""What a name can stand for at a point of the code: the values name lookup computes.

Each is a small frozen record, so that lookups can be cached by value and compared: two
assignments agree when they give equal values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Defined:
    """A symbol of the repository itself: a function, a class, a module symbol, ..."""

    index: int


@dataclass(frozen=True, slots=True)
class Instance:
    """An instance of the type `cls` (a symbol index)."""

    cls: int


@dataclass(frozen=True, slots=True)
class Elements:
    """A list, iterator or other sequence of instances of `cls`: what a loop unpacks."""

    cls: int


@dataclass(frozen=True, slots=True)
class Module:
    """A module of the repository, by its key (see `modules.py`)."""

    key: str


@dataclass(frozen=True, slots=True)
class External:
    """Something outside the repository, by its dotted name: `os.path.join`."""

    name: str


@dataclass(frozen=True, slots=True)
class Variable:
    """A local name whose value is unknown: it still hides outer names."""

    name: str


Value = Defined | Instance | Elements | Module | External | Variable

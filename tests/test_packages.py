"""Every package says what it exports: `__all__` names exactly its public names, each defined."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing
from types import ModuleType

import doctown


def packages() -> list[ModuleType]:
    found = [doctown]
    for info in pkgutil.walk_packages(doctown.__path__, "doctown."):
        if info.ispkg:
            found.append(importlib.import_module(info.name))
    return found


def public_names(package: ModuleType) -> set[str]:
    """What the package offers its users: the classes, functions and constants its `__init__`
    defines or takes from its own modules (not what it imports from elsewhere to use)."""
    names = set()
    for name, value in vars(package).items():
        if name.startswith("_") or inspect.ismodule(value) or name == "annotations":
            continue
        home = getattr(value, "__module__", None)
        # Constants and type aliases (`Literal[...]`) say no module of their own.
        alias = home == "typing" and value is not getattr(typing, name, None)  # not typing.Any
        if not isinstance(home, str) or alias or home.startswith(package.__name__):
            names.add(name)
    return names


def test_every_package_lists_its_public_names_in_all() -> None:
    checked = 0
    for package in packages():
        public = public_names(package)
        exported = set(getattr(package, "__all__", ()))
        assert exported == public, (package.__name__, sorted(exported ^ public))
        checked += bool(public)
    assert checked >= 10  # the packages with an API: analysis, backends, docpack, ...

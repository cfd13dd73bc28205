"""Finding one symbol of a pack by id or name, and naming its callers and callees."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from doctown.docpack.format import Symbol

# What joins the parts of qualified names and ids: `pkg.mod.Class.method`, `py:src/a.py:f`,
# `crate::module::item`, `Class#method`.
_SEPARATORS = frozenset(".:/#")

MatchKind = Literal["id", "qualified_name", "name", "suffix"]


@dataclass(frozen=True, slots=True)
class Lookup:
    """The symbols a query matched and how: the first rule that matched anything wins."""

    query: str
    how: MatchKind | None
    symbols: tuple[Symbol, ...]

    @property
    def found(self) -> Symbol | None:
        """The symbol, when exactly one matched."""
        return self.symbols[0] if len(self.symbols) == 1 else None

    @property
    def ambiguous(self) -> bool:
        """True when several symbols matched and the query must be more precise."""
        return len(self.symbols) > 1


@dataclass(frozen=True, slots=True)
class Related:
    """A caller or callee: its id, and the symbol when the pack holds it."""

    id: str
    symbol: Symbol | None


def _ends_with_part(key: str | None, query: str) -> bool:
    """True when `query` is a whole trailing part of `key`: `Reader.read` of `a.Reader.read`."""
    if key is None or not key.endswith(query):
        return False
    return len(key) == len(query) or key[-len(query) - 1] in _SEPARATORS


def _display_order(symbol: Symbol) -> tuple[str, str, str]:
    return (symbol.qualified_name or symbol.name, symbol.file_path, symbol.id)


class SymbolIndex:
    """Symbols by id, qualified name and name, for lookups in constant time."""

    def __init__(self, symbols: Iterable[Symbol]) -> None:
        self.symbols = list(symbols)
        self._by_id = {symbol.id: symbol for symbol in self.symbols}
        self._by_name: dict[str, list[Symbol]] = defaultdict(list)
        self._by_qualified_name: dict[str, list[Symbol]] = defaultdict(list)
        for symbol in self.symbols:
            self._by_name[symbol.name].append(symbol)
            if symbol.qualified_name:
                self._by_qualified_name[symbol.qualified_name].append(symbol)

    def get(self, symbol_id: str) -> Symbol | None:
        """The symbol with this exact id."""
        return self._by_id.get(symbol_id)

    def lookup(self, query: str) -> Lookup:
        """Symbols matching `query`, trying in turn: exact id, exact qualified name, exact
        name, then a trailing part of qualified names and ids (`Reader.read`)."""
        query = query.strip()
        if symbol := self._by_id.get(query):
            return Lookup(query, "id", (symbol,))
        tables: tuple[tuple[MatchKind, dict[str, list[Symbol]]], ...] = (
            ("qualified_name", self._by_qualified_name),
            ("name", self._by_name),
        )
        for how, table in tables:
            if matches := table.get(query):
                return Lookup(query, how, tuple(sorted(matches, key=_display_order)))
        suffix = [
            symbol
            for symbol in self.symbols
            if _ends_with_part(symbol.qualified_name, query) or _ends_with_part(symbol.id, query)
        ]
        return Lookup(
            query, "suffix" if suffix else None, tuple(sorted(suffix, key=_display_order))
        )

    def callers(self, symbol: Symbol) -> list[Related]:
        """The symbols that call `symbol`, in the pack's order."""
        return [Related(i, self._by_id.get(i)) for i in symbol.called_by]

    def callees(self, symbol: Symbol) -> list[Related]:
        """The symbols `symbol` calls, in the pack's order."""
        return [Related(i, self._by_id.get(i)) for i in symbol.calls]

    def testers(self, symbol: Symbol) -> list[Related]:
        """The test code that calls `symbol` (kept out of its callers), in the pack's order."""
        return [Related(i, self._by_id.get(i)) for i in symbol.tested_by]

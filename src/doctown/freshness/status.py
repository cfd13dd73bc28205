"""A pack against a new analysis: which summaries still match their code.

Pure functions. `judge` decides one symbol from its documentation in the pack and the
fingerprint a build would give it now; `compare` does it for every symbol of both sides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, Literal

from doctown.analysis import Symbol as AnalysedSymbol
from doctown.docpack import Fingerprint, Recipe
from doctown.docpack import Symbol as PackSymbol
from doctown.freshness.fingerprint import changed_parts

State = Literal["fresh", "stale", "new", "removed", "undocumented", "dropped", "unknown"]
"""fresh: same fingerprint; stale: the prompt would differ (`changed` says which parts);
new: to document, not documented in the pack; removed: documented in the pack, gone from the
source; undocumented: in the pack without a summary (it failed, or a cost cap left it);
dropped: documented in the pack, no longer chosen (made private, say); unknown: the pack does
not say what its summary was made from (written before fingerprints)."""

# The order states are listed in: what needs attention first.
STATES: Final[tuple[State, ...]] = (
    "stale",
    "new",
    "removed",
    "undocumented",
    "dropped",
    "unknown",
    "fresh",
)
# What `status --fail-on-stale` fails on: documentation that no longer matches, or may not.
FAILING: Final = frozenset({"stale", "new", "unknown"})
# What a `build --update` asks the model again.
TO_ASK: Final = frozenset({"stale", "new", "undocumented", "unknown"})


@dataclass(frozen=True, slots=True)
class SymbolFreshness:
    """One symbol's freshness; `changed` names what differs when it is stale."""

    symbol_id: str
    state: State
    name: str
    kind: str
    file_path: str
    line: int | None = None
    changed: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The record as `status --json` prints it."""
        return {
            "id": self.symbol_id,
            "state": self.state,
            "name": self.name,
            "kind": self.kind,
            "file_path": self.file_path,
            "line": self.line,
            "changed": list(self.changed),
        }


@dataclass(frozen=True, slots=True)
class RefreshCost:
    """What bringing the pack up to date would ask and cost; None when no price is known."""

    backend: str
    model: str
    symbols: int
    prompts: int
    prompt_tokens: int
    cost_min: Decimal | None
    cost_max: Decimal | None

    def to_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model,
            "symbols": self.symbols,
            "prompts": self.prompts,
            "prompt_tokens": self.prompt_tokens,
            "cost_min": None if self.cost_min is None else float(self.cost_min),
            "cost_max": None if self.cost_max is None else float(self.cost_max),
        }


@dataclass(frozen=True)
class StatusReport:
    """Every symbol's freshness, sorted by file and line, and the cost of a refresh."""

    symbols: tuple[SymbolFreshness, ...]
    refresh: RefreshCost | None
    recipe: Recipe | None
    _by_id: dict[str, SymbolFreshness] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {record.symbol_id: record for record in self.symbols})

    def of(self, symbol_id: str) -> SymbolFreshness | None:
        """The freshness of one symbol, or None when neither side documents it."""
        return self._by_id.get(symbol_id)

    @property
    def counts(self) -> dict[State, int]:
        """How many symbols are in each state, every state listed."""
        counted = Counter(record.state for record in self.symbols)
        return {state: counted[state] for state in STATES}

    @property
    def failing(self) -> bool:
        """True when something is stale, new or of unknown freshness."""
        return any(record.state in FAILING for record in self.symbols)


def judge(
    previous: PackSymbol | None, current: Fingerprint | None
) -> tuple[State, list[str]] | None:
    """One symbol's state, and the parts that changed when it is stale.

    `previous` is its entry in the pack (None: not in the pack), `current` the fingerprint a
    build would give it now (None: a build would not document it). None when neither side
    documents it.
    """
    has_summary = previous is not None and previous.documentation.summary is not None
    if current is None:
        return ("dropped", []) if has_summary else None
    if previous is None:
        return "new", []
    doc = previous.documentation
    if not has_summary:
        newly_chosen = doc.status == "skipped" and doc.reason == "not_selected"
        return ("new" if newly_chosen else "undocumented"), []
    if doc.fingerprint is None:
        return "unknown", []
    changed = changed_parts(doc.fingerprint, current)
    return ("stale", changed) if changed else ("fresh", [])


def compare(
    pack_symbols: Sequence[PackSymbol],
    analysed: Sequence[AnalysedSymbol],
    current: Mapping[str, Fingerprint],
    *,
    forced: Mapping[str, Sequence[str]] | None = None,
    files: Iterable[str] | None = None,
) -> list[SymbolFreshness]:
    """Every symbol documented in the pack or to be documented now, with its state, sorted
    by file and line.

    `current` maps the symbols a build would document now to their fingerprints. `forced`
    names parts known to change although the prompt cannot be written yet (a caller whose
    callee will be documented again, with callee summaries on). `files` keeps only the
    symbols of those files (paths as the pack records them).
    """
    forced = forced or {}
    wanted = set(files) if files is not None else None
    previous = {symbol.id: symbol for symbol in pack_symbols}
    records: list[SymbolFreshness] = []
    for symbol in analysed:
        if wanted is not None and symbol.file_path not in wanted:
            continue
        judged = judge(previous.get(symbol.id), current.get(symbol.id))
        if judged is None:
            continue
        state, changed = judged
        extra = [part for part in forced.get(symbol.id, ()) if part not in changed]
        if extra and state in ("fresh", "stale"):
            state, changed = "stale", changed + extra
        records.append(
            SymbolFreshness(
                symbol_id=symbol.id,
                state=state,
                name=symbol.qualified_name or symbol.name,
                kind=symbol.kind,
                file_path=symbol.file_path,
                line=symbol.start_line,
                changed=tuple(changed),
            )
        )
    present = {symbol.id for symbol in analysed}
    for gone in pack_symbols:
        if gone.id in present or gone.documentation.summary is None:
            continue
        if wanted is not None and gone.file_path not in wanted:
            continue
        records.append(
            SymbolFreshness(
                symbol_id=gone.id,
                state="removed",
                name=gone.qualified_name or gone.name,
                kind=gone.kind,
                file_path=gone.file_path,
                line=gone.line_range[0] if gone.line_range else None,
            )
        )
    records.sort(key=lambda r: (r.file_path, r.line or 0, r.symbol_id))
    return records

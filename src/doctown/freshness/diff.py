"""Two packs side by side: which summaries were added, removed, re-documented or failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from doctown.docpack import Docpack, Documentation, Symbol
from doctown.freshness.fingerprint import changed_parts


@dataclass(frozen=True, slots=True)
class Change:
    """One symbol whose documentation differs: its summary before and after.

    `reason` is why the new pack has no summary (failed, or left by a cost cap); `changed`
    names the parts of the prompt that differ, when both fingerprints are known; `cost` is
    what making the new summary cost.
    """

    symbol_id: str
    name: str
    kind: str
    file_path: str
    line: int | None
    before: str | None
    after: str | None
    reason: str | None = None
    changed: tuple[str, ...] = ()
    cost: float = 0.0

    @property
    def where(self) -> str:
        return f"{self.file_path}:{self.line}" if self.line else self.file_path

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.symbol_id,
            "name": self.name,
            "kind": self.kind,
            "file_path": self.file_path,
            "line": self.line,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "changed": list(self.changed),
            "cost": self.cost,
        }


@dataclass(frozen=True)
class PackDiff:
    """What changed in the documentation between two packs, and what the changes cost."""

    added: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    redocumented: list[Change] = field(default_factory=list)
    failed: list[Change] = field(default_factory=list)
    unchanged: int = 0
    documented_before: int = 0
    documented_after: int = 0

    @property
    def cost(self) -> float:
        """What the added and re-documented summaries cost to make, in US dollars."""
        return sum(change.cost for change in (*self.added, *self.redocumented))

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.redocumented or self.failed)

    def to_json(self) -> dict[str, Any]:
        return {
            "totals": {
                "added": len(self.added),
                "removed": len(self.removed),
                "redocumented": len(self.redocumented),
                "failed": len(self.failed),
                "unchanged": self.unchanged,
                "documented_before": self.documented_before,
                "documented_after": self.documented_after,
                "cost": round(self.cost, 10),
            },
            "added": [change.to_json() for change in self.added],
            "removed": [change.to_json() for change in self.removed],
            "redocumented": [change.to_json() for change in self.redocumented],
            "failed": [change.to_json() for change in self.failed],
        }


def _tried_and_failed(doc: Documentation) -> bool:
    """Failed, or left undone by a cost cap or a stopped job; not merely not chosen."""
    return doc.status == "failed" or (doc.status == "skipped" and doc.reason != "not_selected")


def _change(symbol: Symbol, before: Documentation | None, after: Documentation | None) -> Change:
    changed: list[str] = []
    if before and after and before.fingerprint and after.fingerprint:
        changed = changed_parts(before.fingerprint, after.fingerprint)
    made = after.provenance if after is not None and after.summary is not None else None
    return Change(
        symbol_id=symbol.id,
        name=symbol.qualified_name or symbol.name,
        kind=symbol.kind,
        file_path=symbol.file_path,
        line=symbol.line_range[0] if symbol.line_range else None,
        before=before.summary if before is not None else None,
        after=after.summary if after is not None else None,
        reason=after.reason if after is not None and after.summary is None else None,
        changed=tuple(changed),
        cost=made.cost if made is not None else 0.0,
    )


def diff(old: Docpack, new: Docpack) -> PackDiff:
    """The documentation of `new` against `old`, symbol by symbol, sorted by file and line."""
    before = {symbol.id: symbol for symbol in old.symbols}
    after = {symbol.id: symbol for symbol in new.symbols}
    lists: dict[str, list[Change]] = {"added": [], "removed": [], "redocumented": [], "failed": []}
    unchanged = 0
    for symbol_id in before.keys() | after.keys():
        was, now = before.get(symbol_id), after.get(symbol_id)
        old_doc = was.documentation if was is not None else None
        new_doc = now.documentation if now is not None else None
        had = old_doc is not None and old_doc.summary is not None
        has = new_doc is not None and new_doc.summary is not None
        symbol = now or was
        assert symbol is not None
        if new_doc is not None and _tried_and_failed(new_doc):
            kind = "failed"
        elif has != had:
            kind = "added" if has else "removed"
        elif not has:
            continue
        elif _same(old_doc, new_doc):
            unchanged += 1
            continue
        else:
            kind = "redocumented"
        lists[kind].append(_change(symbol, old_doc, new_doc))
    for changes in lists.values():
        changes.sort(key=lambda c: (c.file_path, c.line or 0, c.symbol_id))
    return PackDiff(
        **lists,
        unchanged=unchanged,
        documented_before=sum(s.documentation.summary is not None for s in old.symbols),
        documented_after=sum(s.documentation.summary is not None for s in new.symbols),
    )


def _same(before: Documentation | None, after: Documentation | None) -> bool:
    """The same summary, made from the same prompt (when both packs say)."""
    assert before is not None and after is not None
    if before.summary != after.summary:
        return False
    if before.fingerprint is None or after.fingerprint is None:
        return True
    return before.fingerprint.digest == after.fingerprint.digest

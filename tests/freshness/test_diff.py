"""Diffing two packs: each kind of change, with the summaries before and after."""

from __future__ import annotations

from pathlib import Path

from doctown.docpack import Documentation, Fingerprint, Provenance, read_docpack, write_docpack
from doctown.freshness.diff import diff
from tests.docpack.factory import CART, CREATED_AT, SOURCE, content_for, symbol

MADE = Provenance(backend="openai", model="gpt-5-nano", prompt_version="2", cost=0.25)


def fp(letter: str, **parts: str) -> Fingerprint:
    return Fingerprint(prompt_version="2", digest="sha256:" + letter * 64, parts=parts)


def doc(summary: str, fingerprint: Fingerprint, cost: float = 0.25) -> Documentation:
    made = MADE.model_copy(update={"cost": cost})
    return Documentation(summary=summary, provenance=made, fingerprint=fingerprint)


def failed() -> Documentation:
    return Documentation(status="failed", reason="refusal", message="refused")


def pack(path: Path, docs: dict[str, Documentation]) -> Path:
    symbols = [
        symbol(f"shop.cart.{name}", file_path=CART, lines=(line, line + 1), documentation=d)
        for line, (name, d) in enumerate(docs.items(), start=1)
    ]
    write_docpack(path, content_for(symbols), source=SOURCE, created_at=CREATED_AT)
    return path


def test_each_kind_of_change_with_before_and_after(tmp_path: Path) -> None:
    old = pack(
        tmp_path / "old.docpack",
        {
            "same": doc("Stays.", fp("a")),
            "reworded": doc("Old words.", fp("b", signature="1" * 16)),
            "reprompted": doc("Same words.", fp("c")),
            "gone": doc("Leaves.", fp("d")),
            "broke": doc("Worked once.", fp("e")),
            "never": failed(),
        },
    )
    new = pack(
        tmp_path / "new.docpack",
        {
            "same": doc("Stays.", fp("a")),
            "reworded": doc("New words.", fp("f", signature="2" * 16), cost=0.5),
            "reprompted": doc("Same words.", fp("0")),  # asked again, answered the same
            "broke": failed(),
            "never": failed(),
            "arrived": doc("Comes.", fp("9"), cost=0.125),
        },
    )
    result = diff(read_docpack(old), read_docpack(new))
    assert [c.name for c in result.redocumented] == ["shop.cart.reworded", "shop.cart.reprompted"]
    reworded = result.redocumented[0]
    assert (reworded.before, reworded.after, reworded.changed) == (
        "Old words.",
        "New words.",
        ("signature",),
    )
    assert [(c.name, c.after) for c in result.added] == [("shop.cart.arrived", "Comes.")]
    assert [(c.name, c.before) for c in result.removed] == [("shop.cart.gone", "Leaves.")]
    assert [(c.name, c.reason, c.before) for c in result.failed] == [
        ("shop.cart.broke", "refusal", "Worked once."),
        ("shop.cart.never", "refusal", None),
    ]
    assert result.unchanged == 1
    assert (result.documented_before, result.documented_after) == (5, 4)
    assert result.cost == 0.5 + 0.25 + 0.125  # what the new and re-documented summaries cost
    totals = result.to_json()["totals"]
    assert totals["redocumented"] == 2 and totals["failed"] == 2 and totals["added"] == 1


def test_a_pack_against_itself_has_no_changes(tmp_path: Path) -> None:
    path = pack(tmp_path / "a.docpack", {"same": doc("Stays.", fp("a"))})
    result = diff(read_docpack(path), read_docpack(path))
    assert result.empty and result.unchanged == 1 and result.cost == 0

"""Judging freshness from a pack entry and the fingerprint a build would give now."""

from __future__ import annotations

from doctown.analysis import Symbol as Analysed
from doctown.docpack import Documentation, Fingerprint, Provenance
from doctown.docpack import Symbol as Packed
from doctown.freshness.status import StatusReport, compare, judge
from tests.docpack.factory import symbol

A = Fingerprint(prompt_version="2", digest="sha256:" + "a" * 64, parts={"signature": "1" * 16})
B = Fingerprint(prompt_version="2", digest="sha256:" + "b" * 64, parts={"signature": "2" * 16})
MADE = Provenance(backend="openai", model="gpt-5-nano", prompt_version="2")


def packed(name: str, doc: Documentation, path: str = "shop/cart.py") -> Packed:
    return symbol(name, file_path=path, lines=(3, 9), documentation=doc)


def summary(fingerprint: Fingerprint | None = A) -> Documentation:
    return Documentation(summary="Does it.", provenance=MADE, fingerprint=fingerprint)


def analysed(name: str, path: str = "shop/cart.py", line: int = 3) -> Analysed:
    short = name.rsplit(".", 1)[-1]
    return Analysed(
        f"py:{name}", short, name, "function", "python", path, 0, 10, line, line + 2,
        f"def {short}()", None, "public", None,
    )  # fmt: skip


def test_each_state_from_both_sides() -> None:
    failed = Documentation(status="failed", reason="refusal", message="no")
    not_chosen = Documentation(status="skipped", reason="not_selected")
    capped = Documentation(status="skipped", reason="not_attempted")
    assert judge(packed("a", summary()), A) == ("fresh", [])
    assert judge(packed("a", summary()), B) == ("stale", ["signature"])
    assert judge(None, A) == ("new", [])
    assert judge(packed("a", not_chosen), A) == ("new", [])  # chosen now, not then
    assert judge(packed("a", failed), A) == ("undocumented", [])
    assert judge(packed("a", capped), A) == ("undocumented", [])
    assert judge(packed("a", summary()), None) == ("dropped", [])
    assert judge(packed("a", summary(None)), A) == ("unknown", [])  # written before fingerprints
    assert judge(packed("a", not_chosen), None) is None
    assert judge(None, None) is None


def test_compare_lists_both_sides_sorted_and_filters_by_file() -> None:
    pack = [
        packed("shop.cart.total", summary()),
        packed("shop.cart.gone", summary(), path="shop/old.py"),
        packed("shop.cart.never", Documentation(status="failed", reason="refusal", message="x"),
               path="shop/old.py"),
    ]  # fmt: skip
    now = [analysed("shop.cart.total", line=9), analysed("shop.cart.added", line=2)]
    current = {"py:shop.cart.total": B, "py:shop.cart.added": A}
    records = compare(pack, now, current)
    assert [(r.name, r.state, r.changed) for r in records] == [
        ("shop.cart.added", "new", ()),
        ("shop.cart.total", "stale", ("signature",)),
        ("shop.cart.gone", "removed", ()),  # the failed one that left says nothing
    ]
    report = StatusReport(tuple(records), refresh=None, recipe=None)
    assert report.failing and report.counts["stale"] == 1 and report.counts["fresh"] == 0
    assert report.of("py:shop.cart.total") is records[1] and report.of("py:nothing") is None
    only = compare(pack, now, current, files=["shop/old.py"])
    assert [r.state for r in only] == ["removed"]


def test_forced_parts_make_a_fresh_symbol_stale() -> None:
    pack = [packed("shop.cart.total", summary())]
    records = compare(
        pack, [analysed("shop.cart.total")], {"py:shop.cart.total": A},
        forced={"py:shop.cart.total": ["callees"]},
    )  # fmt: skip
    assert [(r.state, r.changed) for r in records] == [("stale", ("callees",))]
    fresh = StatusReport(
        tuple(compare(pack, [analysed("shop.cart.total")], {"py:shop.cart.total": A})),
        refresh=None,
        recipe=None,
    )
    assert not fresh.failing and fresh.counts["fresh"] == 1

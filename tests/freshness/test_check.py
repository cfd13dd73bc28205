"""Status from a real analysis: the same prompts a build would send, compared with the pack's.

The packs are built for real by the `facts` backend; "asked" is what a `build --update` sent
to it, which must be exactly what status called stale or new.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from doctown.analysis import analyze_repository
from doctown.docpack import Recipe, read_docpack
from doctown.freshness.check import check, check_source, freshness_lookup, price_of
from doctown.freshness.status import TO_ASK, StatusReport
from doctown.pricing import FREE
from tests.docpack.factory import before_fingerprints, rezip
from tests.freshness.conftest import Built, build_pack, edit


def status(pack: Path, repo: Path) -> StatusReport:
    return check(read_docpack(pack), analyze_repository(repo, use_cache=False))


def asked(built: Built) -> set[str]:
    """The symbols a build sent to the backend (not served from a previous pack or cache)."""
    sent = {d.symbol_id for d in built.response.documented_symbols if not d.cached}
    return sent | {f.symbol_id for f in built.response.failed_symbols}


def states(report: StatusReport) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {r.symbol_id: (r.state, r.changed) for r in report.symbols if r.state != "fresh"}


def test_an_unchanged_source_is_fresh_and_costs_nothing(repo: Path, tmp_path: Path) -> None:
    built = build_pack(repo, tmp_path / "old.docpack")
    report = status(built.pack.path, repo)
    assert not report.failing and states(report) == {}
    assert report.counts["fresh"] == len(built.plan.selection.indices)
    assert report.refresh is not None and report.refresh.symbols == 0
    assert report.recipe == built.pack.content.nodes.recipe


def test_each_change_is_named_and_update_asks_exactly_what_status_flagged(
    repo: Path, tmp_path: Path
) -> None:
    old = build_pack(repo, tmp_path / "old.docpack")
    pricing, cart, receipt = (
        repo / "shop" / name for name in ("pricing.py", "cart.py", "receipt.py")
    )
    edit(pricing, "percent: float) -> float:", "percent: float, floor: float = 0.0) -> float:")
    edit(cart, "self.items.append(price)", "self.items.append(round(price, 2))")
    edit(cart, '"""Total the cart and apply a discount."""', '"""Sum the cart, less a discount."""')
    edit(receipt, "from shop.cart import Cart", "import os\nfrom shop.cart import Cart")
    edit(receipt, "    amount = cart.checkout()\n", "    amount = sum(cart.items)\n")
    receipt.write_text(receipt.read_text() + "\n\ndef reprint(cart: Cart) -> str:\n    return ''\n")
    report = status(old.pack.path, repo)
    found = states(report)
    assert found["shop/pricing.py::apply_discount"][0] == "stale"
    assert {"signature", "body"} <= set(found["shop/pricing.py::apply_discount"][1])
    # Its body changed; the call graph around it too, so its importance and related symbols.
    assert found["shop/cart.py::Cart.add"][1][0] == "body"
    assert "docstring" in found["shop/cart.py::Cart.checkout"][1]
    assert "callers" in found["shop/cart.py::Cart.checkout"][1]  # print_receipt calls it no more
    assert "callees" in found["shop/receipt.py::print_receipt"][1]
    assert found["shop/receipt.py"][1][0] == "imports"
    assert found["shop/receipt.py::reprint"] == ("new", ())
    assert report.failing
    flagged = {r.symbol_id for r in report.symbols if r.state in TO_ASK}
    assert report.refresh is not None and report.refresh.symbols == len(flagged)
    assert report.refresh.cost_min == report.refresh.cost_max == 0  # the facts backend is free

    new = build_pack(repo, tmp_path / "new.docpack", update=old.pack.path)
    assert asked(new) == flagged
    assert not status(new.pack.path, repo).failing


def test_removed_symbols_and_a_file_filter(repo: Path, tmp_path: Path) -> None:
    old = build_pack(repo, tmp_path / "old.docpack")
    (repo / "shop" / "receipt.py").unlink()
    report = status(old.pack.path, repo)
    assert states(report)["shop/receipt.py::print_receipt"] == ("removed", ())
    only = check(
        read_docpack(old.pack.path),
        analyze_repository(repo, use_cache=False),
        files=["shop/pricing.py"],
    )
    assert {r.file_path for r in only.symbols} == {"shop/pricing.py"}


def test_an_older_pack_says_unknown_rather_than_guessing(repo: Path, tmp_path: Path) -> None:
    built = build_pack(repo, tmp_path / "new.docpack")
    older = rezip(tmp_path / "older.docpack", before_fingerprints(built.pack.path).items())
    edit(repo / "shop" / "cart.py", "self.items.append(price)", "self.items.append(-price)")
    (repo / "shop" / "extra.py").write_text("def extra() -> int:\n    return 1\n")
    report = status(older, repo)
    assert report.recipe is None and report.failing
    assert {state for state, _ in states(report).values()} == {"unknown", "new"}
    assert states(report)["shop/extra.py::extra"] == ("new", ())
    assert report.counts["fresh"] == 0 and report.counts["stale"] == 0


def test_reused_docstrings_follow_the_sentence_taken(repo: Path, tmp_path: Path) -> None:
    old = build_pack(repo, tmp_path / "old.docpack", docstrings="reuse")
    pricing = repo / "shop" / "pricing.py"
    edit(pricing, "return max(amount - amount * percent / 100, 0.0)", "return amount")
    assert "shop/pricing.py::apply_discount" not in states(status(old.pack.path, repo))
    edit(pricing, "never below zero.", "never below one.")
    assert states(status(old.pack.path, repo))["shop/pricing.py::apply_discount"] == (
        "stale",
        ("docstring",),
    )


def test_with_callee_summaries_callers_of_a_changed_callee_are_stale(
    repo: Path, tmp_path: Path
) -> None:
    old = build_pack(repo, tmp_path / "old.docpack", callee_summaries=True)
    # A change to what `total` returns changes its summary, which its callers are told.
    edit(
        repo / "shop" / "pricing.py",
        "def total(items: list[float]) -> float",
        "def total(items: list[float]) -> int",
    )
    report = status(old.pack.path, repo)
    found = states(report)
    assert found["shop/pricing.py::total"][0] == "stale"
    assert "callees" in found["shop/cart.py::Cart.checkout"][1]  # it is told what total does
    new = build_pack(repo, tmp_path / "new.docpack", update=old.pack.path, callee_summaries=True)
    # A caller of a re-asked callee is flagged before the callee's new summary is known; if
    # that summary comes back the same (as the deterministic facts backend's may), the
    # caller's prompt is unchanged and it is not asked.
    flagged = {r.symbol_id for r in report.symbols if r.state in TO_ASK}
    assert {"shop/pricing.py::total", "shop/cart.py::Cart.checkout"} <= asked(new) <= flagged


def test_the_viewer_s_lookup_and_a_git_ref(repo: Path, tmp_path: Path) -> None:
    from tests.pipeline.conftest import git

    old = build_pack(repo, tmp_path / "old.docpack")
    edit(repo / "shop" / "cart.py", "self.items.append(price)", "self.items.append(-price)")
    git(repo, "commit", "-qam", "negative prices")
    lookup = freshness_lookup(old.pack, str(repo))
    record = lookup("shop/cart.py::Cart.add")
    assert record is not None and (record.state, record.changed) == ("stale", ("body",))
    assert lookup("shop/cart.py::Cart.checkout") is not None
    assert lookup("no such symbol") is None
    at_first = check_source(old.pack, str(repo), ref="HEAD~1")
    assert not at_first.failing  # the commit the pack was built from


def test_prices_come_from_the_recipe_s_model() -> None:
    def recipe(backend: str, model: str) -> Recipe:
        return Recipe(backend=backend, model=model, prompt_version="2", max_prompt_tokens=2000)

    nano = price_of(recipe("openai", "gpt-5-nano"))
    assert nano is not None and nano.input == Decimal("0.05")
    assert price_of(recipe("local", "SmolLM2")) == price_of(recipe("facts", "x")) == FREE
    assert price_of(recipe("openai", "my-own-model")) is None  # unknown, not $0

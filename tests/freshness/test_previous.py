"""A previous pack answers unchanged prompts, as settled summaries that cost nothing now."""

from __future__ import annotations

from pathlib import Path

from doctown.backends.facts import MODEL_NAME
from doctown.docpack import read_docpack
from doctown.freshness.previous import PreviousPack
from doctown.freshness.reuse import ReuseRule
from doctown.pipeline.selection import inputs_of, select
from tests.docpack.factory import before_fingerprints, rezip
from tests.freshness.conftest import build_pack, edit, facts_engine


def prompts_now(pack_source: Path, few_shot: bool = False):  # type: ignore[no-untyped-def]
    from doctown.analysis import analyze_repository

    analysis = analyze_repository(pack_source)
    engine = facts_engine(few_shot=few_shot)
    return {p.symbol_id: p.prompt for p in engine.plan(inputs_of(select(analysis)))}


def test_unchanged_prompts_are_answered_and_changed_ones_are_not(
    repo: Path, tmp_path: Path
) -> None:
    built = build_pack(repo, tmp_path / "old.docpack")
    previous = PreviousPack(built.pack, ReuseRule("facts", MODEL_NAME))
    assert previous.foreign == 0 and len(previous.summaries) == len(
        built.response.documented_symbols
    )
    edit(repo / "shop" / "pricing.py", "def total(items: list[float])", "def total(items: list)")
    prompts = prompts_now(repo)
    answered = {sid for sid, prompt in prompts.items() if previous.lookup(prompt) is not None}
    assert "shop/pricing.py::total" not in answered
    assert answered == set(prompts) - {"shop/pricing.py::total"}
    # Serving one records it, with what it cost when made and no cost now.
    prompt = prompts["shop/cart.py::Cart.checkout"]
    completion = previous.find(prompt)
    assert completion is not None and completion.cached and completion.usage.input_tokens == 0
    assert completion.output.summary == previous.served[prompt.key].summary


def test_another_model_s_summaries_need_reuse_foreign(repo: Path, tmp_path: Path) -> None:
    built = build_pack(repo, tmp_path / "old.docpack")
    prompt = prompts_now(repo)["shop/cart.py::Cart.checkout"]
    assert PreviousPack(built.pack, ReuseRule("openai", "gpt-5-mini")).lookup(prompt) is None
    foreign = PreviousPack(built.pack, ReuseRule("openai", "gpt-5-mini", reuse_foreign=True))
    assert foreign.foreign == len(foreign.summaries)
    assert foreign.lookup(prompt) is not None


def test_a_summary_from_another_template_is_reused_when_that_template_s_prompt_holds(
    repo: Path, tmp_path: Path
) -> None:
    compact = build_pack(repo, tmp_path / "old.docpack", facts_engine(few_shot=True))
    assert compact.pack.content.nodes.recipe is not None
    assert compact.pack.content.nodes.recipe.prompt_version == "compact-1"
    full = prompts_now(repo)
    rule = ReuseRule("facts", MODEL_NAME, reuse_foreign=True)
    assert all(PreviousPack(compact.pack, rule).lookup(p) is not None for p in full.values())
    assert all(
        PreviousPack(compact.pack, ReuseRule("facts", MODEL_NAME)).lookup(p) is None
        for p in full.values()
    )
    # The compact template shows no imports: a new import leaves those summaries reusable.
    edit(repo / "shop" / "cart.py", "from shop.pricing", "import os\nfrom shop.pricing")
    later = prompts_now(repo)
    assert later["shop/cart.py"].key != full["shop/cart.py"].key
    assert PreviousPack(compact.pack, rule).lookup(later["shop/cart.py"]) is not None


def test_summaries_without_fingerprints_are_never_reused(repo: Path, tmp_path: Path) -> None:
    built = build_pack(repo, tmp_path / "new.docpack")
    older = rezip(tmp_path / "older.docpack", before_fingerprints(built.pack.path).items())
    previous = PreviousPack(read_docpack(older), ReuseRule("facts", MODEL_NAME))
    assert previous.summaries == {}
    assert all(previous.lookup(p) is None for p in prompts_now(repo).values())

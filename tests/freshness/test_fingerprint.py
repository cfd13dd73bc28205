"""Fingerprints follow the prompt exactly: what it does not show cannot make a summary stale."""

from __future__ import annotations

from doctown.freshness import fingerprint
from doctown.freshness.fingerprint import PROMPT, changed_parts
from doctown.prompts import PROMPT_VERSION, PromptBuilder
from doctown.schemas import SymbolContext
from doctown.tokens import TokenCounter
from tests.conftest import symbol


def prompt_for(ctx: SymbolContext, *, few_shot: bool = False):  # type: ignore[no-untyped-def]
    builder = PromptBuilder(TokenCounter("gpt-5-nano"), max_prompt_tokens=2000, few_shot=few_shot)
    return builder.build(ctx)


def fp(ctx: SymbolContext, *, few_shot: bool = False):  # type: ignore[no-untyped-def]
    return fingerprint.of_prompt(prompt_for(ctx, few_shot=few_shot))


def test_the_fingerprint_is_the_prompt_s_digest_and_is_deterministic() -> None:
    ctx = symbol("s1", "total", source_excerpt="return sum(items)").context
    first, again = fp(ctx), fp(ctx.model_copy())
    assert first == again
    assert (
        first.digest == f"sha256:{prompt_for(ctx).key}" and first.prompt_version == PROMPT_VERSION
    )
    assert set(first.parts) >= {"identity", "signature", "body", "callers", "callees"}
    assert all(len(value) == 16 for value in first.parts.values())


def test_a_change_the_prompt_does_not_show_keeps_the_fingerprint() -> None:
    callers = [f"caller_{i}" for i in range(20)]
    before = symbol("s1", called_by=callers).context
    # The 20th caller is beyond the 15 the prompt lists: only "(+5 more)" shows, unchanged.
    after = symbol("s1", called_by=[*callers[:-1], "renamed_caller"]).context
    assert fp(before) == fp(after)
    # The compact template shows no centrality, imports or related symbols.
    compact = symbol("s1", centrality=0.1, imports=["os"]).context
    moved = symbol("s1", centrality=0.9, imports=["sys"]).context
    assert fp(compact, few_shot=True) == fp(moved, few_shot=True)
    assert fp(compact) != fp(moved)  # the full template shows both


def test_a_change_the_prompt_shows_names_the_part() -> None:
    base = symbol("s1", "total", docstring="Adds.", source_excerpt="return 1").context
    cases = {
        "signature": {"signature": "def total(items, start=0)"},
        "body": {"source_excerpt": "return 2"},
        "docstring": {"docstring": "Adds them all."},
        "callers": {"called_by": ["main", "report"]},
        "callees": {"calls": ["sum"]},
        "imports": {"imports": ["typing", "os"]},
    }
    for part, change in cases.items():
        assert changed_parts(fp(base), fp(base.model_copy(update=change))) == [part], part
    # The full template does not show related symbols, the cluster or the centrality: a change
    # there leaves the prompt, so the summary, as it was (the compact template neither).
    for unseen in ({"cluster_label": "other"}, {"centrality": 0.2}, {"related_symbols": ["x"]}):
        assert changed_parts(fp(base), fp(base.model_copy(update=unseen))) == [], unseen
    both = base.model_copy(update={"signature": "def total(x)", "calls": []})
    assert changed_parts(fp(base), fp(both)) == ["signature", "callees"]
    assert changed_parts(fp(base), fp(base)) == []


def test_template_and_docstring_changes_are_named_too() -> None:
    ctx = symbol("s1", "total").context
    assert changed_parts(fp(ctx), fp(ctx, few_shot=True)) == [PROMPT]
    reused = fingerprint.of_docstring("Adds the items.")
    assert reused.prompt_version is None and reused == fingerprint.of_docstring("Adds the items.")
    assert changed_parts(reused, fingerprint.of_docstring("Adds every item.")) == ["docstring"]
    assert changed_parts(reused, fp(ctx)) == ["docstring"]
    # A smaller token budget shows as the parts it shortened.
    short = PromptBuilder(TokenCounter("gpt-5-nano"), max_prompt_tokens=300, few_shot=False)
    long_ctx = symbol("s1", source_excerpt="x = 1\n" * 400).context
    squeezed = fingerprint.of_prompt(short.build(long_ctx))
    assert "body" in changed_parts(fp(long_ctx), squeezed)


def test_a_signature_or_docstring_the_excerpt_holds_is_named_when_it_changes() -> None:
    code = 'def total(items):\n    """Adds."""\n    return sum(items)'
    base = symbol(
        "s1", "total", signature="def total(items)", docstring="Adds.", source_excerpt=code
    ).context
    assert "<untrusted-signature>" not in prompt_for(base).messages[-1]["content"]
    renamed = base.model_copy(
        update={
            "signature": "def total(values)",
            "source_excerpt": code.replace("(items):", "(values):"),
        }
    )
    assert changed_parts(fp(base), fp(renamed)) == ["signature", "body"]
    reworded = base.model_copy(
        update={"docstring": "Sums.", "source_excerpt": code.replace("Adds.", "Sums.")}
    )
    assert changed_parts(fp(base), fp(reworded)) == ["body", "docstring"]

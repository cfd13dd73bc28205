"""The reuse rule: the same prompt, and the same maker unless foreign work is accepted."""

from __future__ import annotations

from doctown.docpack import Fingerprint, Provenance
from doctown.freshness.reuse import ReuseRule

SAME = Fingerprint(prompt_version="2", digest="sha256:" + "a" * 64)
OTHER = Fingerprint(prompt_version="2", digest="sha256:" + "b" * 64)
NANO = Provenance(backend="openai", model="gpt-5-nano", prompt_version="2")
MINI = Provenance(backend="openai", model="gpt-5-mini", prompt_version="2")


def test_the_same_prompt_by_the_same_maker_is_reused() -> None:
    rule = ReuseRule("openai", "gpt-5-nano")
    assert rule.allows(SAME, NANO, SAME)
    assert not rule.allows(SAME, NANO, OTHER)


def test_another_maker_s_work_needs_consent() -> None:
    assert not ReuseRule("openai", "gpt-5-nano").allows(SAME, MINI, SAME)
    assert not ReuseRule("openai", "gpt-5-nano").allows(SAME, None, SAME)
    foreign = ReuseRule("openai", "gpt-5-nano", reuse_foreign=True)
    assert foreign.allows(SAME, MINI, SAME)
    assert not foreign.allows(SAME, MINI, OTHER)  # never when the prompt differs

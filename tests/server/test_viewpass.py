"""View passes: issued for a key, admitted until they expire, useless with another key."""

from __future__ import annotations

from doctown.server.viewpass import ViewPass

NOW = 1_800_000_000.0


def test_a_pass_is_admitted_until_it_expires() -> None:
    passes = ViewPass("key-1", seconds=60)
    token = passes.issue(NOW)
    assert passes.admits(token, NOW)
    assert passes.admits(token, NOW + 59)
    assert not passes.admits(token, NOW + 60)


def test_a_pass_says_nothing_of_the_key_and_only_its_key_admits_it() -> None:
    token = ViewPass("key-1").issue(NOW)
    assert "key-1" not in token
    assert not ViewPass("key-2").admits(token, NOW)


def test_forged_and_malformed_passes_are_refused() -> None:
    passes = ViewPass("key-1", seconds=60)
    expires, _, signature = passes.issue(NOW).partition(".")
    later = str(int(expires) + 3600)
    for token in (
        f"{later}.{signature}",  # a longer life, the old signature
        f"{expires}.{signature[:-1]}0" if signature[-1] != "0" else f"{expires}.{signature[:-1]}1",
        f"{expires}.",
        signature,
        "",
        "x" * 10_000,
        f"-1.{signature}",
    ):
        assert not passes.admits(token, NOW), token

"""The Markdown diff: inert whatever a summary says, and short enough for a PR comment."""

from __future__ import annotations

import re

from doctown.freshness import markdown
from doctown.freshness.diff import Change, PackDiff


def change(name: str, before: str | None, after: str | None, **extra: object) -> Change:
    return Change(
        symbol_id=f"py:{name}", name=name, kind="function", file_path="shop/cart.py", line=3,
        before=before, after=after, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def test_sections_show_before_and_after_side_by_side() -> None:
    text = markdown.render(
        PackDiff(
            redocumented=[change("total", "Adds.", "Sums.", changed=("signature",), cost=0.001)],
            added=[change("refund", None, "Refunds.", cost=0.002)],
            removed=[change("legacy", "Was old.", None)],
            failed=[change("checkout", "Pays.", None, reason="refusal")],
            unchanged=7,
            documented_before=9,
            documented_after=9,
        )
    )
    assert "**1 re-documented**, 1 added, 1 removed, 1 failed; 7 unchanged" in text
    assert "$0.003000" in text
    assert (
        "| total<br><sub>shop/cart.py\\:3</sub><br><sub>signature</sub> | Adds. | Sums. |" in text
    )
    assert "<summary>Failed (1)</summary>" in text and "| refusal | Pays. |" in text
    assert text.count("<details") == text.count("</details>") == 4


def test_hostile_summaries_stay_text() -> None:
    hostile = (
        "<img src=x onerror=alert(1)> | [click](https://evil.example) ![i](x) @admin #12 "
        "`code` **bold**\nnew line \x1b[31m"
    )
    text = markdown.render(PackDiff(added=[change("evil|name", None, hostile)]))
    row = next(line for line in text.splitlines() if "evil" in line)
    assert "<img" not in row and "&lt;img" in row
    # The summary's pipe is escaped: the row keeps its three cell borders, symbol | summary.
    assert row.count("|") - row.count("\\|") == 3
    assert "\\[click\\]" in row and "\\!\\[i\\]" in row and "\\@admin" in row and "\\#12" in row
    assert "\\`code\\`" in row and "\\*\\*bold\\*\\*" in row
    assert "\x1b" not in text and "new line" in row  # one line, no control characters


def test_a_huge_diff_fits_a_comment_and_says_what_it_left_out() -> None:
    many = [change(f"f{i}", "Before " * 60, "After " * 60) for i in range(3000)]
    text = markdown.render(PackDiff(redocumented=many, added=many[:50]))
    assert len(text) <= markdown.MAX_CHARS
    left_out = [int(n) for n in re.findall(r"… and (\d+) more", text)]
    shown = text.count("| f")
    assert len(left_out) == 2 and sum(left_out) + shown == 3050
    assert "<summary>Re-documented (3000)</summary>" in text
    assert "<summary>Added (50)</summary>" in text


def test_no_change_says_so() -> None:
    assert "No summary changed." in markdown.render(PackDiff(unchanged=3))

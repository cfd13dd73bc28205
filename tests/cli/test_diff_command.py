"""`doctown diff OLD NEW`: text, Markdown for a pull request, and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.process import doctown, invoke
from tests.freshness.test_diff import doc, failed, fp, pack


def packs(tmp_path: Path) -> tuple[Path, Path]:
    old = pack(
        tmp_path / "old.docpack", {"total": doc("Adds.", fp("a")), "pay": doc("Pays.", fp("b"))}
    )
    new = pack(tmp_path / "new.docpack", {"total": doc("Sums.", fp("c")), "pay": failed()})
    return old, new


def test_markdown_is_ready_for_a_pull_request_comment(tmp_path: Path) -> None:
    old, new = packs(tmp_path)
    result = doctown("diff", str(old), str(new), "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("### Documentation changes")
    assert "| Adds. | Sums. |" in result.stdout and "| refusal | Pays. |" in result.stdout


def test_text_and_json(tmp_path: Path) -> None:
    old, new = packs(tmp_path)
    text = invoke("diff", str(old), str(new)).stdout
    assert "1 re-documented, 0 added, 0 removed, 1 failed, 0 unchanged" in text
    assert "before: Adds." in text and "after:  Sums." in text and "reason: refusal" in text
    report = json.loads(invoke("diff", str(old), str(new), "--json").stdout)
    assert report["totals"]["redocumented"] == 1 and report["failed"][0]["before"] == "Pays."
    bad = invoke("diff", str(old), str(tmp_path / "missing.docpack"))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr

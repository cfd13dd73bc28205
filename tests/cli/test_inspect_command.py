from __future__ import annotations

import json
from pathlib import Path

from doctown.docpack import Source, write_docpack
from tests.cli.process import doctown, invoke
from tests.docpack.factory import (
    CREATED_AT,
    legacy_entries,
    read_entries,
    rezip,
    sample_content,
    write_sample,
)


def test_inspect_shows_the_manifest_and_a_verified_checksum(tmp_path: Path) -> None:
    manifest = write_sample(tmp_path / "shop.docpack")
    result = doctown("inspect", str(tmp_path / "shop.docpack"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "docpack/1.1",
        manifest.docpack_id,
        "2025-03-14T15:09:26Z",
        "https://example.com/shop.git @ main (abababababab)",
        "9: 6 documented, 1 failed, 1 reused, 1 skipped",
        "1 (refusal=1)",
        "openai (gpt-5-mini) x6",
        "1,800 in, 240 out to write the summaries",
        "$0.000930",
        "symbol contexts",
        "sha256 verified",
    ):
        assert expected in out


def test_inspect_shows_the_last_run_of_a_pack_written_before(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    old = rezip(tmp_path / "old.docpack", legacy_entries(tmp_path / "shop.docpack").items())
    result = doctown("inspect", str(old))
    assert result.returncode == 0, result.stderr
    assert "openai (gpt-5-mini): 1,020 tokens (100 cached) in 3 requests, $0.000465" in (
        result.stdout
    )


def test_inspect_json(tmp_path: Path) -> None:
    manifest = write_sample(tmp_path / "shop.docpack")
    result = invoke("inspect", str(tmp_path / "shop.docpack"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verified"] is True and report["problems"] == []
    assert report["manifest"]["docpack_id"] == manifest.docpack_id
    assert report["manifest"]["statistics"]["symbol_count"] == 9
    assert report["size_bytes"] == (tmp_path / "shop.docpack").stat().st_size


def test_inspect_reports_a_tampered_pack_and_fails(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    entries = read_entries(tmp_path / "shop.docpack")
    entries["nodes.json"] = entries["nodes.json"].replace(b"Adds a quantity", b"Deletes all")
    tampered = rezip(tmp_path / "tampered.docpack", entries.items())
    result = invoke("inspect", str(tampered))
    assert result.returncode == 1
    assert "sha256 MISMATCH" in result.stdout
    assert "modified after it was written" in result.stderr
    assert "checksum mismatch" in result.stderr
    as_json = invoke("inspect", str(tampered), "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["verified"] is False


def test_inspect_refuses_a_hostile_pack_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    write_sample(tmp_path / "shop.docpack")
    entries = read_entries(tmp_path / "shop.docpack")
    hostile = rezip(tmp_path / "hostile.docpack", [*entries.items(), ("../x.json", b"{}")])
    result = invoke("inspect", str(hostile))
    assert result.returncode == 1
    assert "entry '../x.json' climbs out of the archive" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_inspect_shows_a_huge_manifest_string_cut_short(tmp_path: Path) -> None:
    huge = "https://example.com/" + "line\n" * 20_000
    write_docpack(
        tmp_path / "huge.docpack",
        sample_content(),
        source=Source(repo_url=huge, git_ref="main"),
        created_at=CREATED_AT,
    )
    result = invoke("inspect", str(tmp_path / "huge.docpack"))
    assert result.returncode == 0, result.stderr
    shown = result.stdout[result.stdout.index("source") : result.stdout.index("\nfiles")]
    assert "line\\nline\\n" in shown and shown.rstrip().endswith("more characters)")
    assert len(result.stdout) < 5_000

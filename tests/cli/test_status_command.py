"""`doctown status`: a real git repository, a pack built against the fake server, edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doctown.prompts import PROMPT_VERSION
from doctown.testing import FakeOpenAIServer
from tests.cli.process import doctown, invoke
from tests.cli.test_generate import openai_env
from tests.docpack.factory import before_fingerprints, rezip
from tests.pipeline.conftest import git, write_repo


@pytest.fixture
def shop_repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "shop-repo")


@pytest.fixture
def pack(shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer) -> Path:
    out = tmp_path / "shop.docpack"
    made = invoke(
        "build", str(shop_repo), "-o", str(out), "--no-cache", "--yes", "--quiet",
        env=openai_env(fake_openai),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return out


def change_total(repo: Path) -> None:
    pricing = repo / "shop" / "pricing.py"
    pricing.write_text(
        pricing.read_text().replace("def total(items: list[float])", "def total(items: list)")
    )


def test_stale_documentation_fails_the_check_and_says_what_changed(
    shop_repo: Path, pack: Path
) -> None:
    fresh = doctown("status", str(pack), str(shop_repo), "--fail-on-stale")
    assert fresh.returncode == 0, fresh.stderr
    assert "everything is fresh" in fresh.stdout and "nothing to ask" in fresh.stdout
    change_total(shop_repo)
    stale = doctown("status", str(pack), str(shop_repo), "--fail-on-stale")
    assert stale.returncode == 3, stale.stderr
    assert "shop.pricing.total" in stale.stdout and "signature, body" in stale.stdout
    assert "at gpt-5-nano's prices" in stale.stdout
    # Without --fail-on-stale it only reports.
    assert invoke("status", str(pack), str(shop_repo)).returncode == 0


def test_json_lists_every_symbol_with_counts_and_the_refresh_cost(
    shop_repo: Path, pack: Path
) -> None:
    change_total(shop_repo)
    (shop_repo / "shop" / "refunds.py").write_text("def refund(amount: float) -> float:\n    ...\n")
    report = json.loads(invoke("status", str(pack), str(shop_repo), "--json").stdout)
    states = {s["name"]: (s["state"], s["changed"]) for s in report["symbols"]}
    assert states["shop.pricing.total"] == ("stale", ["signature", "body"])
    assert states["shop.refunds.refund"][0] == "new"
    assert states["shop.cart.Cart"] == ("fresh", [])
    assert report["counts"]["stale"] == 1 and report["failing"] is True
    assert (
        report["recipe"]["model"] == "gpt-5-nano"
        and report["recipe"]["prompt_version"] == PROMPT_VERSION
    )
    refresh = report["refresh"]
    assert refresh["symbols"] == sum(s["state"] in ("stale", "new") for s in report["symbols"])
    assert 0 < refresh["cost_min"] < refresh["cost_max"] and refresh["prompt_tokens"] > 0


def test_files_limit_the_report_as_a_pre_commit_hook_passes_them(
    shop_repo: Path, pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    change_total(shop_repo)
    monkeypatch.chdir(shop_repo)
    # SOURCE left out: the first file is one of FILES, and the source is the current folder.
    other = invoke("status", "--fail-on-stale", str(pack), "shop/cart.py", "shop/receipt.py")
    assert other.returncode == 0, other.stdout
    touched = invoke("status", "--fail-on-stale", str(pack), ".", "shop/pricing.py", "--json")
    assert touched.returncode == 3
    assert {s["file_path"] for s in json.loads(touched.stdout)["symbols"]} == {"shop/pricing.py"}


def test_a_git_ref_is_checked_without_touching_the_checkout(shop_repo: Path, pack: Path) -> None:
    change_total(shop_repo)
    git(shop_repo, "commit", "-qam", "total takes any list")
    check = ("status", str(pack), str(shop_repo), "--fail-on-stale", "--ref")
    assert invoke(*check, "HEAD~1").returncode == 0
    assert invoke(*check, "HEAD").returncode == 3
    missing = invoke("status", str(pack), str(shop_repo), "--ref", "no-such-branch")
    assert missing.returncode == 1 and "no-such-branch" in missing.stderr
    assert git(shop_repo, "status", "--porcelain") == ""


def test_an_older_pack_reports_unknown_and_fails_the_check(
    shop_repo: Path, pack: Path, tmp_path: Path
) -> None:
    older = rezip(tmp_path / "older.docpack", before_fingerprints(pack).items())
    result = invoke("status", str(older), str(shop_repo), "--fail-on-stale")
    assert result.returncode == 3
    assert "older doctown" in result.stdout and "unknown" in result.stdout


def test_an_unreadable_pack_is_one_line_and_status_1(shop_repo: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.docpack").write_bytes(b"not a zip")
    result = invoke("status", str(tmp_path / "bad.docpack"), str(shop_repo))
    assert result.returncode == 1 and "Error:" in result.stderr and "Traceback" not in result.stderr


def test_a_source_url_is_shown_without_its_credentials() -> None:
    from doctown.pipeline.git import public_url

    assert public_url("https://me:ghp_secret@example.com/shop.git") == (
        "https://example.com/shop.git"
    )
    assert public_url(".") == "." and public_url("git@example.com:a.git") == (
        "git@example.com:a.git"
    )

"""`doctown build --update OLD.docpack`: real git, the fake server over HTTP, a real
subprocess end to end and the variations in process.

No summary cache is used (`--no-cache`), as in CI: the previous pack is the only state.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from doctown.docpack import read_docpack
from doctown.testing import FakeOpenAIServer, ok, refusal
from tests.cli.process import Outcome, invoke
from tests.cli.test_generate import doctown, openai_env
from tests.pipeline.test_build import build


def update(
    repo: Path, old: Path, out: Path, server: FakeOpenAIServer, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return doctown(
        "build", str(repo), "--update", str(old), "-o", str(out), "--no-cache",
        "--yes", "--quiet", *args, env=openai_env(server, **env),
    )  # fmt: skip


def run(*args: str, server: FakeOpenAIServer, **env: str) -> Outcome:
    """`doctown ARGS` in this process, against the fake server, with no summary cache."""
    return invoke(*args, "--no-cache", "--yes", "--quiet", env=openai_env(server, **env))


def asked_symbols(server: FakeOpenAIServer) -> set[str]:
    """The `Symbol:` line of each prompt the server was sent."""
    prompts = [r["body"]["messages"][-1]["content"] for r in server.chat_requests()]
    return {
        line for prompt in prompts for line in prompt.split("\n") if line.startswith("Symbol: ")
    }


def test_an_unchanged_source_is_rebuilt_from_the_pack_alone(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    old, new = tmp_path / "old.docpack", tmp_path / "new.docpack"
    assert build(shop_repo, old, fake_openai).returncode == 0
    fake_openai.reset()
    dry = run(
        "build", str(shop_repo), "--update", str(old), "-o", str(new), "--dry-run", "--json",
        server=fake_openai,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)["plan"]
    assert plan["from_previous"] == plan["unique_prompts"] > 0 and plan["to_send"] == 0
    # The overviews are the pack's too: none to write, so the plan costs nothing.
    assert plan["overviews"]["to_send"] == 0 and plan["overviews"]["cached"] > 0
    assert plan["cost_max"] == 0
    assert "from old.docpack" in " ".join(dry.stderr.split())
    result = update(shop_repo, old, new, fake_openai, "--json")
    assert result.returncode == 0, result.stderr
    assert fake_openai.chat_requests() == []
    report = json.loads(result.stdout)["result"]
    assert report["from_previous"] == report["documented"] and report["usage"]["cost"] == 0
    # The same summaries, provenance and fingerprints: the same bytes as the build that paid.
    assert new.read_bytes() == old.read_bytes()


def test_only_what_changed_is_asked_and_status_said_so(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    old, new = tmp_path / "old.docpack", tmp_path / "new.docpack"
    assert run("build", str(shop_repo), "-o", str(old), server=fake_openai).returncode == 0
    fake_openai.reset()
    pricing = shop_repo / "shop" / "pricing.py"
    pricing.write_text(pricing.read_text().replace("return sum(items)", "return float(sum(items))"))
    status = invoke("status", str(old), str(shop_repo), "--json")
    flagged = {s["name"] for s in json.loads(status.stdout)["symbols"] if s["state"] != "fresh"}
    assert flagged == {"shop.pricing.total"}
    done = run("build", str(shop_repo), "--update", str(old), "-o", str(new), server=fake_openai)
    assert done.returncode == 0
    assert asked_symbols(fake_openai) == {"Symbol: total"}
    total = next(s for s in read_docpack(new).symbols if s.name == "total")
    before = next(s for s in read_docpack(old).symbols if s.name == "total")
    assert total.documentation.fingerprint != before.documentation.fingerprint


def test_another_model_s_summaries_are_kept_only_with_reuse_foreign(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    old = tmp_path / "mini.docpack"
    made = run("build", str(shop_repo), "-o", str(old), server=fake_openai, MODEL_NAME="gpt-5-mini")
    assert made.returncode == 0
    documented = len(fake_openai.chat_requests())
    fake_openai.reset()
    again = ("build", str(shop_repo), "--update", str(old), "-o")
    dry = run(*again, str(tmp_path / "x.docpack"), "--dry-run", "--json", server=fake_openai)
    plan = json.loads(dry.stdout)["plan"]
    assert plan["from_previous"] == 0 and plan["previous"]["foreign"] > 0
    assert "--reuse-foreign" in dry.stderr and "gpt-5-mini" in dry.stderr
    kept = tmp_path / "kept.docpack"
    result = run(*again, str(kept), "--reuse-foreign", "--json", server=fake_openai)
    assert result.returncode == 0, result.stderr
    assert fake_openai.chat_requests() == []
    assert json.loads(result.stdout)["result"]["from_previous"] > 0
    # A kept summary still says who wrote it.
    models = {
        s.documentation.provenance.model
        for s in read_docpack(kept).symbols
        if s.documentation.provenance is not None and s.documentation.status == "documented"
    }
    assert models == {"gpt-5-mini"}
    assert run(*again, str(tmp_path / "asked.docpack"), server=fake_openai).returncode == 0
    assert len(fake_openai.chat_requests()) == documented  # every one asked again


def test_a_re_ask_that_fails_is_packed_failed_not_stale(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    old, new = tmp_path / "old.docpack", tmp_path / "new.docpack"
    assert run("build", str(shop_repo), "-o", str(old), server=fake_openai).returncode == 0
    pricing = shop_repo / "shop" / "pricing.py"
    pricing.write_text(pricing.read_text().replace("return sum(items)", "return float(sum(items))"))
    fake_openai.on("Symbol: total\n", refusal())
    result = run("build", str(shop_repo), "--update", str(old), "-o", str(new), server=fake_openai)
    assert result.returncode == 3
    total = next(s for s in read_docpack(new).symbols if s.name == "total")
    assert total.documentation.status == "failed" and total.documentation.summary is None


def test_reuse_foreign_needs_a_previous_pack(shop_repo: Path, tmp_path: Path) -> None:
    result = invoke("build", str(shop_repo), "-o", str(tmp_path / "x.docpack"), "--reuse-foreign")
    assert result.returncode == 2 and "--reuse-foreign applies to --update" in result.stderr


def test_a_kept_summary_is_settled_grounding_does_not_ask_again(
    shop_repo: Path, tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.on(
        lambda text: "Symbol: total\n" in text or "`GhostHelper`" in text, ok("Uses `GhostHelper`.")
    )
    old, new = tmp_path / "old.docpack", tmp_path / "new.docpack"
    assert run("build", str(shop_repo), "-o", str(old), server=fake_openai).returncode == 0
    fake_openai.reset()
    done = run("build", str(shop_repo), "--update", str(old), "-o", str(new), server=fake_openai)
    assert done.returncode == 0
    assert fake_openai.chat_requests() == []  # the ungrounded one was settled when it was made
    total = next(s for s in read_docpack(new).symbols if s.name == "total")
    assert total.documentation.provenance is not None
    assert total.documentation.provenance.ungrounded == ["GhostHelper"]

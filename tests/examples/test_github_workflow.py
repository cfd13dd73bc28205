"""The example GitHub Actions workflow, run step by step on a git repository with several
commits: the same shell commands, real git remotes, doctown against the fake server, and a
stand-in `gh` that records the comment it is asked to post."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from doctown.docpack import read_docpack
from doctown.testing import FakeOpenAIServer
from tests.cli.process import invoke
from tests.conftest import TEST_KEY
from tests.examples.actions import JobRun, run_job, runner_env
from tests.pipeline.conftest import git, write_repo

WORKFLOW = Path(__file__).parents[2] / "examples" / "github-workflow.yml"
FAKE_GH = """#!/bin/sh
echo "$@" >> "$GH_LOG"
while [ $# -gt 0 ]; do
  [ "$1" = "--body-file" ] && cat "$2" > "$GH_LOG.body"
  shift
done
"""


class Repository:
    """A developer's clone and the remote the workflow checks out from."""

    def __init__(self, root: Path, server: FakeOpenAIServer) -> None:
        self.root, self.server = root, server
        self.origin = root / "origin.git"
        git(root, "init", "-q", "--bare", "-b", "main", str(self.origin))
        self.dev = write_repo(root / "dev")
        git(self.dev, "remote", "add", "origin", str(self.origin))
        git(self.dev, "push", "-q", "origin", "main")
        self.tools = root / "tools"
        self.tools.mkdir()
        gh = self.tools / "gh"
        gh.write_text(FAKE_GH)
        gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
        self.runs = 0

    def commit(self, message: str, path: str, old: str, new: str) -> None:
        file = self.dev / path
        text = file.read_text()
        file.write_text(text.replace(old, new, 1) if old else text + new)
        git(self.dev, "commit", "-qam", message)

    def ci(self, event: str, branch: str, **variables: str) -> tuple[JobRun, Path]:
        """One run of the job on a fresh machine: a new clone at `branch`, empty caches."""
        self.runs += 1
        machine = self.root / f"run-{self.runs}"
        checkout = machine / "checkout"
        git(self.root, "clone", "-q", "--branch", branch, str(self.origin), str(checkout))
        context = {
            "github.event_name": event,
            "github.sha": git(checkout, "rev-parse", "HEAD"),
            "github.token": "ghs_stand_in",
            "github.event.pull_request.number": "7",
            "secrets.OPENAI_API_KEY": TEST_KEY,
            **{f"vars.{name}": value for name, value in variables.items()},
        }
        env = runner_env(machine, tools=self.tools)
        env |= {"OPENAI_BASE_URL": self.server.base_url, "GH_LOG": str(machine / "gh.log")}
        return run_job(WORKFLOW, "docs", cwd=checkout, context=context, env=env), machine

    def published(self, into: Path) -> Path:
        """The pack on the docs branch of the remote."""
        blob = subprocess.run(
            ["git", "--git-dir", str(self.origin), "show", "doctown-docs:doctown.docpack"],
            capture_output=True,
            check=True,
        ).stdout
        into.write_bytes(blob)
        return into


def flagged(status_output: str) -> list[str]:
    """The symbols the status step listed as stale or new."""
    rows = [line.split() for line in status_output.splitlines()]
    return [row[1] for row in rows if row and row[0] in ("stale", "new")]


def test_the_workflow_publishes_comments_and_pays_only_for_changes(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    repo = Repository(tmp_path, fake_openai)

    # The first push: no published pack yet, so a full build, published on the docs branch.
    first, _ = repo.ci("push", "main")
    assert first.failed is None, first.steps
    assert set(first.steps) == {"previous", "build", "publish"}
    cold_requests = len(fake_openai.summary_requests())
    cold_overviews = len(fake_openai.overview_requests())
    assert cold_requests > 0 and cold_overviews > 0
    assert read_docpack(repo.published(tmp_path / "v1.docpack")).manifest.source.commit_hash == (
        git(repo.dev, "rev-parse", "HEAD")
    )

    # A pull request of two commits: a changed signature, then a new function.
    git(repo.dev, "checkout", "-q", "-b", "refunds")
    repo.commit("total takes any list", "shop/pricing.py", "items: list[float]", "items: list")
    repo.commit(
        "refunds", "shop/receipt.py", "", "\n\ndef refund(cart: Cart) -> float:\n    return 0.0\n"
    )
    git(repo.dev, "push", "-q", "origin", "refunds")
    fake_openai.reset()
    review, machine = repo.ci("pull_request", "refunds", DOCTOWN_FAIL_ON_STALE="true")
    listed = flagged(review.steps["status"].stdout)
    assert "shop.pricing.total" in listed and "shop.receipt.refund" in listed
    # --update asked exactly what status listed, from the published pack alone, and the
    # overviews above the changed code (the others are kept).
    assert len(fake_openai.summary_requests()) == len(listed) < cold_requests
    assert 0 < len(fake_openai.overview_requests()) < cold_overviews
    diff = (machine / "checkout" / "diff.md").read_text()
    assert "shop.receipt.refund" in diff and "shop.pricing.total" in diff
    assert (machine / "gh.log").read_text().startswith("pr comment 7 --body-file diff.md")
    assert (machine / "gh.log.body").read_text() == diff
    assert "Re-documented" in review.summary  # the diff is in the job's summary too
    # Asked to, the job fails on documentation the pull request leaves stale; nothing is published.
    assert review.failed == "gate" and review.steps["gate"].returncode == 3
    assert "publish" in review.skipped

    # Merged: main builds from the published pack again and publishes the new one.
    git(repo.dev, "checkout", "-q", "main")
    git(repo.dev, "merge", "-q", "--ff-only", "refunds")
    git(repo.dev, "push", "-q", "origin", "main")
    fake_openai.reset()
    merged, _ = repo.ci("push", "main", DOCTOWN_FAIL_ON_STALE="true")
    assert merged.failed is None, merged.steps
    assert "comment" in merged.skipped and "gate" in merged.skipped
    assert len(fake_openai.summary_requests()) == len(listed)
    assert len(fake_openai.overview_requests()) < cold_overviews
    latest = repo.published(tmp_path / "v2.docpack")
    fresh = invoke("status", str(latest), str(repo.dev), "--fail-on-stale")
    assert fresh.returncode == 0, fresh.stdout

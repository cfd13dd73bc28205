"""Runs the shell steps of a GitHub Actions job on this machine, as the runner would.

Only what the example workflow needs: `run:` steps in bash with `-e`, step `env:` and `if:`
with `${{ }}` expressions over a flat context (`github.event_name`, `secrets.X`, `vars.X`,
`steps.ID.outputs.KEY`) using `==`, `&&` and `||`, and `$GITHUB_OUTPUT` and
`$GITHUB_STEP_SUMMARY` files. `uses:` steps (checkout, setup-python, upload-artifact) are the
test's job, and steps named in `skip` (installing doctown) are already done.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_TEMPLATE = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_LITERAL = re.compile(r"^'(.*)'$")


@dataclass
class StepResult:
    id: str
    returncode: int
    stdout: str
    stderr: str


@dataclass
class JobRun:
    """What one run of the job did: each step that ran, the outputs and the step summary."""

    steps: dict[str, StepResult] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    summary: str = ""

    @property
    def failed(self) -> str | None:
        """The id of the step that failed (the job stops there), if any."""
        return next((sid for sid, step in self.steps.items() if step.returncode != 0), None)


def _value(expression: str, context: dict[str, str]) -> str:
    for alternative in expression.split("||"):
        term = alternative.strip()
        literal = _LITERAL.match(term)
        value = literal.group(1) if literal else context.get(term, "")
        if value:
            return value
    return ""


def _condition(expression: str, context: dict[str, str]) -> bool:
    for clause in expression.split("&&"):
        left, _, right = clause.partition("==")
        if _value(left, context) != _value(right, context):
            return False
    return True


def _render(text: str, context: dict[str, str]) -> str:
    return _TEMPLATE.sub(lambda match: _value(match.group(1), context), text)


def run_job(
    workflow: Path,
    job: str,
    *,
    cwd: Path,
    context: dict[str, str],
    env: dict[str, str],
    skip: tuple[str, ...] = ("install",),
) -> JobRun:
    """Run `job` of `workflow` in `cwd`. `context` answers expressions; `env` is the runner's
    environment (PATH, HOME, ...), under the workflow's own `env:`."""
    document: dict[str, Any] = yaml.safe_load(workflow.read_text())
    outputs_file, summary_file = cwd / ".github_output", cwd / ".github_step_summary"
    summary_file.write_text("")
    context = dict(context)
    base = {
        **env,
        **{k: _render(str(v), context) for k, v in document.get("env", {}).items()},
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "GITHUB_EVENT_NAME": context.get("github.event_name", ""),
        "GITHUB_SHA": context.get("github.sha", ""),
    }
    context.update({f"env.{k}": v for k, v in base.items()})
    result = JobRun()
    for step in document["jobs"][job]["steps"]:
        sid = step.get("id") or step.get("uses") or step.get("name", "")
        if "run" not in step or sid in skip:
            result.skipped.append(sid)
            continue
        if "if" in step and not _condition(str(step["if"]), context):
            result.skipped.append(sid)
            continue
        outputs_file.write_text("")
        step_env = {k: _render(str(v), context) for k, v in step.get("env", {}).items()}
        done = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=cwd,
            env={**base, **step_env, "GITHUB_OUTPUT": str(outputs_file)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        result.steps[sid] = StepResult(sid, done.returncode, done.stdout, done.stderr)
        for line in outputs_file.read_text().splitlines():
            key, _, value = line.partition("=")
            context[f"steps.{sid}.outputs.{key}"] = value
        if done.returncode != 0:
            break
    result.summary = summary_file.read_text()
    for scratch in (outputs_file, summary_file):
        scratch.unlink()
    return result


def runner_env(tmp: Path, *, tools: Path | None = None) -> dict[str, str]:
    """A fresh machine's environment: doctown (this interpreter's scripts) and `tools` on
    PATH, an empty home and empty caches."""
    path = [str(Path(sys.executable).parent), os.environ.get("PATH", "")]
    if tools is not None:
        path.insert(0, str(tools))
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.pathsep.join(path),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(tmp / "cache"),  # no summary or analysis cache from before
        "TIKTOKEN_CACHE_DIR": str(tmp / "tiktoken"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "COLUMNS": "200",
    }

"""Running `doctown` as a user would: in a real subprocess, or in-process for speed.

Each command has end-to-end tests through a real subprocess; its variations run in-process
with click's runner, which exercises the same code without paying the interpreter start-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

from click.testing import CliRunner

from doctown.cli import main

_ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def doctown(*args: str) -> Outcome:
    """Run `python -m doctown ARGS` in a subprocess with a wide, colourless terminal."""
    env = {**os.environ, **_ENV}
    env.pop("DOCTOWN_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "doctown", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def invoke(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """Run the `doctown` command group in this process, with the same terminal settings and
    `env` added to the environment."""
    result = CliRunner().invoke(
        main, list(args), env={**_ENV, "DOCTOWN_DEBUG": None, **(env or {})}
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)

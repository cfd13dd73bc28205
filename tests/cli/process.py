"""Running the installed `doctown` command in a real subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys


def doctown(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m doctown ARGS` with a wide, colourless terminal; never raises on exit."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("DOCTOWN_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "doctown", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

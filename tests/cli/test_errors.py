"""Doctown errors become one line and exit 1 in the command group, for every command."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from doctown.cli import COMMANDS, main
from doctown.errors import DocpackError, InputError
from tests.cli.process import invoke

SECRET = "sk-" + "s3cr3t" * 6


@click.command("explode")
def explode_command() -> None:
    """Raises a doctown error, as any command module may, with no wrapper of its own."""
    raise InputError(f"the input is wrong; fix it (key {SECRET})")


def test_a_command_that_raises_exits_1_with_one_redacted_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(COMMANDS, "explode", f"{__name__}:explode_command")
    result = invoke("explode")
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: the input is wrong; fix it (key ") and SECRET not in line


def test_a_real_command_given_bad_input_exits_1_with_the_readers_message(
    tmp_path: Path,
) -> None:
    not_a_pack = tmp_path / "notes.docpack"
    not_a_pack.write_text("not a zip")
    result = invoke("inspect", str(not_a_pack))
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ") and str(not_a_pack) in line


def test_doctown_debug_re_raises_the_error_itself(tmp_path: Path) -> None:
    not_a_pack = tmp_path / "notes.docpack"
    not_a_pack.write_text("not a zip")
    result = CliRunner().invoke(main, ["query", str(not_a_pack), "x"], env={"DOCTOWN_DEBUG": "1"})
    assert isinstance(result.exception, DocpackError)

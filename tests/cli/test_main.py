from click.testing import CliRunner

from doctown.cli import COMMANDS, main


def test_every_command_loads_and_has_help() -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["--help"])
    assert listing.exit_code == 0
    for name in COMMANDS:
        assert name in listing.output
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["documentize"])
    assert result.exit_code == 2 and "No such command" in result.output

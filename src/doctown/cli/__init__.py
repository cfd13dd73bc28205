"""The `doctown` command line. Errors become messages and exit codes here, and only here.

Each command lives in its own module and is imported only when it runs, so that a quick
command (`query`, `--help`) does not pay for the analysis or the HTTP stack. Commands raise
doctown errors; the group shows any that escapes a command as one line and exits 1
(cli/errors.py).
"""

from __future__ import annotations

import importlib
import logging

import click

from doctown import __version__
from doctown.cli import errors
from doctown.redaction import redact_logs

__all__ = ["COMMANDS", "LazyGroup", "main"]

# command name -> "module:attribute"; adding a command means adding one line here.
COMMANDS = {
    "analyze": "doctown.cli.analyze:analyze_command",
    "build": "doctown.cli.build:build_command",
    "cache": "doctown.cli.cache:cache_group",
    "diff": "doctown.cli.diff:diff_command",
    "eval": "doctown.cli.eval:eval_command",
    "export": "doctown.cli.export:export_command",
    "generate": "doctown.cli.generate:generate_command",
    "inspect": "doctown.cli.inspect:inspect_command",
    "mcp": "doctown.cli.mcp:mcp_command",
    "query": "doctown.cli.query:query_command",
    "search": "doctown.cli.search:search_command",
    "serve": "doctown.cli.serve:serve_command",
    "status": "doctown.cli.status:status_command",
    "view": "doctown.cli.view:view_command",
    "worker": "doctown.cli.worker:worker_command",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, and whose doctown errors are
    translated once, here, for every command."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def invoke(self, ctx: click.Context) -> object:
        with errors.translated_errors():
            return super().invoke(ctx)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="doctown")
def main() -> None:
    """doctown: documentation for source code, written by an LLM from computed facts."""
    redact_logs()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("doctown").setLevel(logging.INFO)

"""The `doctown` command line. Errors become messages and exit codes here, and only here."""

from __future__ import annotations

import logging

import click

from doctown import __version__
from doctown.cli.analyze import analyze_command
from doctown.cli.generate import generate_command
from doctown.cli.inspect import inspect_command
from doctown.cli.query import query_command
from doctown.cli.search import search_command
from doctown.cli.serve import serve_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="doctown")
def main() -> None:
    """doctown: documentation for source code, written by an LLM from computed facts."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")


main.add_command(serve_command)
main.add_command(generate_command)
main.add_command(inspect_command)
main.add_command(query_command)
main.add_command(search_command)
main.add_command(analyze_command)

"""The options of a command-line run, not of a check: output format, files, workers, debug.

The options of a check come from the one option table (``options.OPTIONS``); these are the
run's own, declared here once as typer parameters (``cli.py`` builds its command from both).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from gradcheck_cli import __version__
from gradcheck_cli.options import MAX_CHECKS


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"
    latex = "latex"


def version_option(value: bool) -> None:
    if value:
        typer.echo(f"gradcheck {__version__}")
        raise typer.Exit()


def run_options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show which operations lost the bits.")
    ] = False,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            help="Output: table, json, jsonl (one line per case), markdown (one check: the "
            "full report) or latex (the derivation).",
            metavar="table|json|jsonl|markdown|latex",
        ),
    ] = Format.table,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="The chain rule node by node, exact and autograd's (one check)."
        ),
    ] = False,
    graph: Annotated[
        str | None,
        typer.Option(
            help="Write the computation graph to FILE (.svg, .dot; .png if a converter"
            " is installed)."
        ),
    ] = None,
    files: Annotated[
        list[str] | None,
        typer.Option(
            "--file",
            help="Case file (TOML, or one model a line); repeatable; - reads stdin.",
            metavar="PATH",
        ),
    ] = None,
    junit: Annotated[
        str | None, typer.Option(help="Also write a JUnit XML report here.", metavar="PATH")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Processes for batch runs (at most one per case and CPU).", metavar="N"
        ),
    ] = 1,
    max_checks: Annotated[
        int,
        typer.Option(
            min=1, help="Most checks (cases x seeds) one batch run may hold.", metavar="N"
        ),
    ] = MAX_CHECKS,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an internal error.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress bar; batch table shows only the cases that did not pass.",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_option, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    no_import: Annotated[
        bool,
        typer.Option(
            "--no-import",
            help="Refuse --lower/--impl and those keys of case files: import no module of yours.",
        ),
    ] = False,
) -> None:
    """The options of the run, not of a check (their typer parameters are taken from here)."""

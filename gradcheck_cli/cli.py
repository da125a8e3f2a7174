"""The command line: options in, one core call, output, exit code.

The options of a check are not declared here: their typer parameters are built from the one
option table (``gradcheck_cli.options.OPTIONS``); only the options of the run (output, files,
workers) are. Every ``GradcheckError`` becomes ``Error: ...`` lines on stderr and its exit
code in one place, ``gradcheck`` below.

Imports nothing heavy at start-up: ``--help`` and parse errors never load torch or SymPy.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer

from gradcheck_cli import __version__
from gradcheck_cli.errors import ExitCode, GradcheckError, UsageError
from gradcheck_cli.options import OPTIONS, Option, from_command_line, make_options

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradcheck {__version__}")
        raise typer.Exit()


def _run_options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show which operations lost the bits.")
    ] = False,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format", help="Output: table, json, jsonl (one line per case) or markdown."
        ),
    ] = Format.table,
    files: Annotated[
        list[str] | None,
        typer.Option(
            "--file", help="Case file (TOML, or one model a line); repeatable; - reads stdin."
        ),
    ] = None,
    junit: Annotated[str | None, typer.Option(help="Also write a JUnit XML report here.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes for batch runs.")] = 1,
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
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """The options of the run, not of a check (their typer parameters are taken from here)."""


# The command-line type of each kind of option value (as typed, before from_command_line).
_CLI_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "number": float,
    "bool": bool,
    "names": str,  # comma-separated
    "table": list[str],  # NAME=NUMBER, repeatable
    "hand": list[str],
    "seeds": str,  # A..B
}


def _parameter(option: Option) -> inspect.Parameter:
    """The typer parameter of one option of the table."""
    kind = _CLI_TYPES[option.kind]
    default = option.default if option.kind in ("str", "int", "bool") else None
    declared = (option.flag,) if option.flag else ()
    return inspect.Parameter(
        option.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[
            kind if default is not None else kind | None,
            typer.Option(*declared, help=option.help, show_default=default is not None),
        ],
    )


_MODEL = inspect.Parameter(
    "model",
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    default=None,
    annotation=Annotated[
        str | None, typer.Argument(help="Model expression, e.g. 'w*x+b' (or give --file).")
    ],
)
_RUN = inspect.signature(_run_options, eval_str=True).parameters
_CHECK = [name for name, option in OPTIONS.items() if option.cli]


def gradcheck(model: str | None, **given: Any) -> None:
    """Check autograd's gradients of a model and loss against exact symbolic ones."""
    run = {name: given.pop(name) for name in _RUN}
    try:
        code = check(model, from_command_line(given), **run)
    except GradcheckError as exc:  # the one place errors are printed
        for message in exc.messages:
            typer.echo(f"Error: {message}", err=True)
        code = exc.exit_code
    raise typer.Exit(int(code))


gradcheck.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [_MODEL]
    + [_parameter(OPTIONS[name]) for name in _CHECK]
    + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in _RUN.values()]
)
app.command()(gradcheck)


def check(
    model: str | None,
    values: dict[str, Any],
    *,
    verbose: bool,
    fmt: Format,
    files: Sequence[str] | None,
    junit: str | None,
    workers: int,
    quiet: bool,
    version: bool = False,
) -> ExitCode:
    """Run a single check or a batch and print its report; raise GradcheckError."""
    if (model is None) == (not files):
        raise UsageError("give either a MODEL or --file (not both)")
    if files or values.get("seeds") or junit or fmt in (Format.jsonl, Format.markdown):
        from gradcheck_cli import cli_batch

        return cli_batch.run(
            model, files or [], values, fmt=fmt.value, junit=junit, workers=workers, quiet=quiet
        )
    options = make_options(values)
    from gradcheck_cli.pipeline import check_options
    from gradcheck_cli.report.console import print_result

    result = check_options(model, options)
    print_result(result, fmt.value, verbose)
    return ExitCode.OK if result.ok else ExitCode.FAILED


def main() -> None:
    app(prog_name="gradcheck")


if __name__ == "__main__":
    sys.exit(main())

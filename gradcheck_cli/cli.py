"""The command line: options in, one core call, output, exit code.

The options of a check are not declared here: their typer parameters are built from the one
option table (``gradcheck_cli.options.OPTIONS``); only the options of the run (output, files,
workers) are. Every ``GradcheckError`` becomes ``Error: ...`` lines on stderr and its exit
code in one place, ``gradcheck`` below; so does anything else that goes wrong: an unexpected
exception (``internal error in <stage>``, exit 3, the traceback with ``--debug``), a check
over ``--timeout`` (exit 4), Ctrl-C (130), a reader of stdout that went away (quietly, 141),
a closed or full stdout (exit 2). An output encoding that cannot show a character (latin-1,
ASCII) gets a replacement character instead of an error.

Imports nothing heavy at start-up: ``--help`` and parse errors never load torch or SymPy.
"""

from __future__ import annotations

import gc
import inspect
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from gradcheck_cli.cli_params import Format, run_options
from gradcheck_cli.cli_usage import EPILOG, Command
from gradcheck_cli.command_line import from_command_line
from gradcheck_cli.errors import ExitCode, GradcheckError, InternalError, OutputError, UsageError
from gradcheck_cli.options import MAX_CHECKS, OPTIONS, Option, make_options

app = typer.Typer(
    add_completion=True,
    rich_markup_mode=None,  # plain help: typer's rich help imports rich.markdown, pygments, ...
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
    "refs": list[str],  # NAME=MODULE:ATTR, repeatable
    "strings": list[str],  # repeatable
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
            typer.Option(
                *declared,
                help=option.help,
                show_default=default is not None,
                metavar=option.value_name(),
            ),
        ],
    )


_MODEL = inspect.Parameter(
    "model",
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    default=None,
    annotation=Annotated[
        str | None,
        typer.Argument(
            help="Model expression, e.g. 'w*x+b' (or give --file).",
            metavar="MODEL",
            show_default=False,
        ),
    ],
)
_RUN = inspect.signature(run_options, eval_str=True).parameters
_CHECK = [name for name, option in OPTIONS.items() if option.cli]


def gradcheck(model: str | None, **given: Any) -> None:
    """Check autograd's gradients of a model and loss against exact symbolic ones."""
    run = {name: given.pop(name) for name in _RUN}
    _tolerant_output()
    try:
        if sys.stdout is None:
            raise OutputError("cannot write to standard output: it is closed")
        code = check(model, from_command_line(given), **run)
        sys.stdout.flush()
    except BrokenPipeError:
        code = _reader_gone()
    except KeyboardInterrupt:
        _error("interrupted")
        code = ExitCode.INTERRUPTED
    except (GradcheckError, Exception) as exc:  # the one place errors are printed
        if not isinstance(exc, GradcheckError):
            exc = _internal(exc)
        for message in exc.messages:
            _error(message)
        if run["debug"] and isinstance(exc, InternalError):
            _error(exc.detail.rstrip(), prefix="")
        code = exc.exit_code
    raise typer.Exit(int(code))


def _error(message: str, prefix: str = "Error: ") -> None:
    try:
        typer.echo(f"{prefix}{message}", err=True)
    except OSError:  # stderr closed or full: the exit code still tells
        pass


def _tolerant_output() -> None:
    """Characters the output encoding cannot show (``±`` in ASCII) become replacements."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", "") == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def _reader_gone() -> ExitCode:
    """The reader of stdout went away (``| head -1``): end quietly, as the Python docs
    recommend (what is still buffered goes to devnull instead of failing at exit)."""
    from gradcheck_cli.cli_batch import drop_stdout

    drop_stdout()
    return ExitCode.BROKEN_PIPE


def _internal(exc: BaseException) -> GradcheckError:
    from gradcheck_cli.batch.guard import internal_error

    return internal_error(exc)


gradcheck.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [_MODEL]
    + [_parameter(OPTIONS[name]) for name in _CHECK]
    + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in _RUN.values()]
)
app.command(cls=Command, epilog=EPILOG)(gradcheck)


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
    max_checks: int = MAX_CHECKS,
    debug: bool = False,
    version: bool = False,
    explain: bool = False,
    graph: str | None = None,
    no_import: bool = False,
) -> ExitCode:
    """Run a single check or a batch and print its report; raise GradcheckError."""
    if no_import and (values.get("lower") or values.get("impl")):
        raise UsageError("--no-import refuses --lower and --impl (they import your modules)")
    if model is None and not files:
        raise UsageError('no MODEL: give one, e.g. gradcheck "w*x+b", or a case file (--file)')
    if model is not None and files:
        raise UsageError("give a MODEL or --file, not both")
    if files or values.get("seeds") or junit or fmt == Format.jsonl:
        if explain or graph is not None or fmt == Format.latex:
            raise UsageError("--explain, --graph and --format latex show one check (one MODEL)")
        from gradcheck_cli import cli_batch

        return cli_batch.run(
            model,
            files or [],
            values,
            fmt=fmt.value,
            junit=junit,
            workers=workers,
            quiet=quiet,
            max_checks=max_checks,
            notes=lambda note: _error(note, prefix="Note: "),
            no_import=no_import,
        )
    from gradcheck_cli import cli_single

    return cli_single.run(
        model,
        make_options(values),
        fmt=fmt.value,
        verbose=verbose,
        quiet=quiet,
        explain=explain,
        graph=graph,
    )


def main() -> None:
    code: Any = 0
    try:
        app(prog_name="gradcheck")
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:  # --help or --version into a closed pipe
        code = _reader_gone()
    except OSError as exc:  # --help or --version into a full disk
        code = _write_failed(exc)
    try:
        if sys.stdout is not None:
            sys.stdout.flush()  # what is still buffered is written here
    except BrokenPipeError:
        code = _reader_gone()
    except OSError as exc:
        code = _write_failed(exc)
    gc.freeze()  # the process ends: no last collection over torch's and SymPy's objects
    sys.exit(code)


def _write_failed(exc: OSError) -> ExitCode:
    _reader_gone()  # drop what cannot be written, or the exit would try again
    _error(f"cannot write to standard output: {exc.strerror or exc}")
    return ExitCode.USAGE


if __name__ == "__main__":
    sys.exit(main())

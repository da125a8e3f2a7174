"""The batch side of the command line: case files or a seed sweep in, reports out.

``cli.py`` reads the options and calls ``run``; this module loads the cases, runs them
(``cases.run_cases``), streams or prints the chosen report and returns the exit code.
Case-file problems are all raised at once (``CaseFileError``) before anything runs; ``cli.py``
prints them. Every report is written whatever happens in a case (a case's error is part of
the report); Ctrl-C ends the run with the count of what finished and no report at all, so a
report is always complete or absent.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gradcheck_cli.errors import CaseFileError, ExitCode, OutputError, UsageError
from gradcheck_cli.options import MAX_CHECKS

if TYPE_CHECKING:
    from gradcheck_cli.batch.casefile import CaseSpec


def load(
    model: str | None,
    files: Sequence[str],
    defaults: Mapping[str, Any],
    max_checks: int = MAX_CHECKS,
) -> list[CaseSpec]:
    """Every case of every file (or of the one model); raise CaseFileError with all problems.
    At most ``max_checks`` checks in all."""
    from gradcheck_cli.batch.casefile import load_cases, read_text
    from gradcheck_cli.batch.runner import model_cases

    if model is not None:
        return model_cases(model, defaults, max_checks=max_checks)
    specs: list[CaseSpec] = []
    errors: list[str] = []
    stdin_text: str | None = None
    for path in files:
        try:
            if path == "-" and stdin_text is None:
                stdin_text = read_text("-")
            text = stdin_text if path == "-" else None
            specs.extend(
                load_cases(path, text, defaults, max_checks=max_checks, checks_before=len(specs))
            )
        except CaseFileError as exc:
            errors.extend(exc.errors)
    if errors:
        raise CaseFileError(errors)
    return specs


def check_junit_path(junit: str, files: Sequence[str]) -> None:
    """Refuse a JUnit path that is one of the input files (it would be overwritten)."""
    for path in files:
        try:
            same = path != "-" and os.path.samefile(junit, path)
        except OSError:  # either does not exist (yet): not the same file
            same = False
        if same:
            raise UsageError(f"--junit {junit} is the case file {path}: it would be overwritten")


@contextmanager
def writing() -> Iterator[None]:
    """Output to stdout: a failed write (``> /dev/full``) is one ``OutputError`` (a reader
    that went away, BrokenPipeError, goes through to end the run quietly)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        drop_stdout()
        reason = exc.strerror or str(exc)
        raise OutputError(f"cannot write to standard output: {reason}") from None


def drop_stdout() -> None:
    """Send stdout to devnull from here on: what is still buffered, and cannot be written,
    must not fail again when the process exits."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests): nothing to do
        pass


def is_terminal(stream: Any) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def run(
    model: str | None,
    files: Sequence[str],
    defaults: Mapping[str, Any],
    *,
    fmt: str,
    junit: str | None,
    workers: int,
    quiet: bool,
    max_checks: int = MAX_CHECKS,
    notes: Any = None,
    no_import: bool = False,
) -> ExitCode:
    """Load, run and report; raise CaseFileError (before anything runs) or OutputError.
    ``notes`` is called with remarks for stderr (the workers actually used)."""
    if junit is not None:
        check_junit_path(junit, files)
    specs = load(model, files, defaults, max_checks)
    importing = [s for s in specs if s.lower or s.impl] if no_import else []
    if importing:
        first = importing[0]
        raise UsageError(
            f"{first.source}:{first.line}: case {first.name!r} names modules to import "
            "(lower / impl), refused by --no-import"
        )
    from gradcheck_cli.batch.runner import BatchInterrupted, max_workers, run_cases
    from gradcheck_cli.report import batch as batchreport
    from gradcheck_cli.report import console as report

    used = max(1, min(workers, len(specs), max_workers()))
    if used < workers and notes is not None:
        notes(
            f"using {used} worker{'s' if used > 1 else ''} ({len(specs)} cases, "
            f"{max_workers()} CPUs)"
        )
    if used == 1:  # cases run here: import what they need as a worker does (frozen, no gc)
        import gradcheck_cli.batch.warm  # noqa: F401
    progress = report.Progress(len(specs), enabled=is_terminal(sys.stderr) and not quiet)
    held: list[str] = []  # table lines wait while a progress bar may be drawn on the terminal
    stream_table = not (progress.enabled and is_terminal(sys.stdout))

    drawn: dict[int, str] = {}  # a failed case's report, drawn while the workers run

    def on_result(outcome: Any) -> None:
        progress.advance()
        if fmt == "table" and outcome.result is not None and not outcome.ok:
            drawn[outcome.index] = report.table_text(outcome.result, bool(outcome.spec.brief))
        with writing():
            if fmt == "jsonl":
                print(batchreport.to_jsonl_line(outcome), flush=True)
            elif fmt == "table" and not (quiet and outcome.ok):
                line = batchreport.case_line(outcome)
                print(line, flush=True) if stream_table else held.append(line)

    start = time.perf_counter()
    try:
        # a table and a JUnit file read the details (formulas, bounds) of failed cases only
        batch = run_cases(specs, workers=used, on_result=on_result, details=fmt != "table")
    except BatchInterrupted as exc:
        progress.close()
        for line in held:
            print(line)
        done = exc.batch
        counts = batchreport.count_line(done.summary())
        if notes is not None:
            notes(
                f"interrupted: {len(done.outcomes)} of {done.total} cases finished ({counts}); "
                "no report written"
            )
        return ExitCode.INTERRUPTED
    finally:
        progress.close()
    elapsed = time.perf_counter() - start
    with writing():
        _print_report(batch, fmt, held, drawn)
    if junit is not None:
        from gradcheck_cli.report.junit import write_junit

        try:
            write_junit(junit, "gradcheck", batchreport.junit_cases(batch), elapsed)
        except OSError as exc:
            raise OutputError(f"cannot write JUnit report {junit}: {exc.strerror or exc}") from None
    return ExitCode.OK if batch.ok else ExitCode.FAILED


def _print_report(batch: Any, fmt: str, held: list[str], drawn: Mapping[int, str]) -> None:
    from gradcheck_cli.report import batch as batchreport

    if fmt == "json":
        print(batchreport.to_json(batch))
    elif fmt == "markdown":
        print(batchreport.markdown(batch), end="")
    elif fmt == "table":
        for line in held:
            print(line)
        print(batchreport.count_line(batch.summary()), flush=True)
        for outcome in batch.outcomes:
            if outcome.result is not None and not outcome.ok:
                print()
                print(f"== {outcome.case} ({outcome.source}:{outcome.line}) ==")
                sys.stdout.write(drawn[outcome.index])

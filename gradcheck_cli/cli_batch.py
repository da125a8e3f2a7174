"""The batch side of the command line: case files or a seed sweep in, reports out.

``cli.py`` reads the options and calls ``run``; this module loads the cases, runs them
(``cases.run_cases``), streams or prints the chosen report and returns the exit code.
Case-file problems are all raised at once (``CaseFileError``) before anything runs; ``cli.py``
prints them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from gradcheck_cli.batch.casefile import CaseSpec, load_cases
from gradcheck_cli.errors import CaseFileError, ExitCode, OutputError


def load(model: str | None, files: Sequence[str], defaults: Mapping[str, Any]) -> list[CaseSpec]:
    """Every case of every file (or of the one model); raise CaseFileError with all problems."""
    from gradcheck_cli.batch.runner import model_cases

    if model is not None:
        return model_cases(model, defaults)
    specs: list[CaseSpec] = []
    errors: list[str] = []
    stdin_text: str | None = None
    for path in files:
        try:
            if path == "-" and stdin_text is None:
                stdin_text = sys.stdin.read()
            specs.extend(load_cases(path, stdin_text if path == "-" else None, defaults))
        except CaseFileError as exc:
            errors.extend(exc.errors)
    if errors:
        raise CaseFileError(errors)
    return specs


def run(
    model: str | None,
    files: Sequence[str],
    defaults: Mapping[str, Any],
    *,
    fmt: str,
    junit: str | None,
    workers: int,
    quiet: bool,
) -> ExitCode:
    """Load, run and report; raise CaseFileError (before anything runs) or OutputError."""
    specs = load(model, files, defaults)
    from gradcheck_cli.batch.runner import run_cases
    from gradcheck_cli.report import batch as batchreport
    from gradcheck_cli.report import console as report

    progress = report.Progress(len(specs), enabled=sys.stderr.isatty() and not quiet)
    held: list[str] = []  # table lines wait while a progress bar may be drawn on the terminal
    stream_table = not (progress.enabled and sys.stdout.isatty())

    def on_result(outcome: Any) -> None:
        progress.advance()
        if fmt == "jsonl":
            print(batchreport.to_jsonl_line(outcome), flush=True)
        elif fmt == "table" and not (quiet and outcome.ok):
            line = batchreport.case_line(outcome)
            print(line, flush=True) if stream_table else held.append(line)

    start = time.perf_counter()
    try:
        batch = run_cases(specs, workers=workers, on_result=on_result)
    finally:
        progress.close()
    elapsed = time.perf_counter() - start
    _print_report(batch, fmt, held)
    if junit is not None:
        from gradcheck_cli.report.junit import write_junit

        try:
            write_junit(junit, "gradcheck", batchreport.junit_cases(batch), elapsed)
        except OSError as exc:
            raise OutputError(f"cannot write JUnit report {junit}: {exc.strerror or exc}") from None
    return ExitCode.OK if batch.ok else ExitCode.FAILED


def _print_report(batch: Any, fmt: str, held: list[str]) -> None:
    from gradcheck_cli.report import batch as batchreport
    from gradcheck_cli.report import console as report

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
                report.print_result(outcome.result, "table")

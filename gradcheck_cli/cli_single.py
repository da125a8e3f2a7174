"""One check from the command line: run it within its time limit, then print its report."""

from __future__ import annotations

import sys
from typing import Any

from gradcheck_cli.errors import CheckTimedOut, ExitCode, GradcheckError, TimeLimit


def run(
    model: str,
    options: Any,
    *,
    fmt: str,
    verbose: bool,
    quiet: bool,
    explain: bool = False,
    graph: str | None = None,
) -> ExitCode:
    """Check ``model`` under ``options`` and print the report (raise GradcheckError)."""
    teaching = explain or graph is not None or fmt in ("latex", "markdown")
    from gradcheck_cli.batch.guard import internal_error, time_limit
    from gradcheck_cli.cli_batch import is_terminal, writing
    from gradcheck_cli.pipeline import check_options
    from gradcheck_cli.report.console import Progress, print_result

    shown = is_terminal(sys.stderr) and not quiet
    progress = Progress(None, enabled=shown, label=f"checking {model[:40]}")
    try:
        with time_limit(options.timeout):
            if teaching:
                from gradcheck_cli.explain.chain import check_explained

                result, explanation = check_explained(model, options)
            else:
                result = check_options(model, options)
    except TimeLimit as exc:
        raise CheckTimedOut(f"timed out after {exc.seconds:g} s (--timeout)") from None
    except (GradcheckError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise internal_error(exc) from exc
    finally:
        progress.close()
    with writing():
        if teaching:
            from gradcheck_cli.report import teach

            teach.write(result, explanation, fmt, verbose, explain, graph)
        else:
            print_result(result, fmt, verbose, brief=options.brief)
    return ExitCode.OK if result.ok else ExitCode.FAILED

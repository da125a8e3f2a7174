"""gradcheck's own errors and exit codes.

Every error the package reports to its user derives from ``GradcheckError``; the command line
turns them into ``Error: ...`` lines on stderr and an exit code in one place (``cli.py``).
Every error carries the text it complains about and, where it applies, the 1-based column.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (as httpie's ``ExitStatus``)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    INTERNAL = 3  # a bug: an unexpected exception inside gradcheck (--debug shows it)
    TIMEOUT = 4  # a single check ran longer than --timeout
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as a shell reports it
    BROKEN_PIPE = 141  # the reader of stdout went away (128 + SIGPIPE), e.g. `| head -1`


class GradcheckError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, text: str | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.text = text
        self.column = column

    def __str__(self) -> str:
        if self.column is None:
            return self.message
        return f"{self.message} at column {self.column} of {self.text!r}"

    @property
    def messages(self) -> tuple[str, ...]:
        """One message per problem (one ``Error:`` line each)."""
        return (str(self),)


class ParseError(GradcheckError):
    """The expression text is not in gradcheck's grammar."""


class UnsupportedError(GradcheckError):
    """Valid syntax that gradcheck refuses (unknown function, too large, too deep)."""


class RoleError(GradcheckError):
    """Symbol roles (inputs, target, parameters) or fixed values do not fit the model."""


class EvaluationError(GradcheckError):
    """The model cannot be evaluated at the requested point."""

    exit_code = ExitCode.FAILED


class BadValue(UnsupportedError):
    """One invalid option value (or case-file key); the message names the option."""


class CaseFileError(GradcheckError):
    """All problems found in case files; ``errors`` holds one message per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(self.errors)


class UserCodeError(GradcheckError):
    """The user's own code (``--lower``, ``--impl``, ``--define``) cannot be found, imported or
    used: the message names the reference and what is wrong."""


class OutputError(GradcheckError):
    """A report cannot be written (e.g. the JUnit file's directory does not exist)."""


class UsageError(GradcheckError):
    """Options that do not fit together (e.g. both a MODEL and --file)."""


class InternalError(GradcheckError):
    """An unexpected exception (a bug) inside one check, reported in one line; ``detail``
    holds its traceback (shown with ``--debug``, in the JSON ``detail`` and in JUnit)."""

    exit_code = ExitCode.INTERNAL

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class CheckTimedOut(GradcheckError):
    """A check ran longer than its time limit (``--timeout``)."""

    exit_code = ExitCode.TIMEOUT


class TimeLimit(BaseException):
    """Raised by the SIGALRM handler when a check's time is up.

    A BaseException, so that no ``except Exception`` inside the core can swallow it; the
    runner and the command line turn it into ``CheckTimedOut`` or a case's ``error``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class RoundingAnalysisError(GradcheckError):
    """The traced graph cannot be bounded exactly; the caller falls back (never shown alone)."""

    exit_code = ExitCode.FAILED


class UnsupportedOp(RoundingAnalysisError):
    """An aten op (or tensor shape / dtype) the exact graph evaluator does not know."""

    def __init__(self, op_name: str):
        super().__init__(f"unsupported aten op: {op_name}")
        self.op_name = op_name


class OutOfDomain(RoundingAnalysisError):
    """An exact intermediate of the graph is undefined or not real (log(-1), 1/0, ...)."""


class Ambiguous(GradcheckError):
    """An interval straddles a branch point (a sign test, a domain edge): undecidable there.

    A signal inside the exact evaluator, caught by its callers, which fall back to points."""

    def __init__(self, message: str = "an interval straddles a branch point"):
        super().__init__(message)


class NoInterval(Ambiguous):
    """A function without an interval version: the caller evaluates at points instead."""

    def __init__(self, message: str = "no interval version"):
        super().__init__(message)


class MagnitudeError(GradcheckError):
    """An exact value cannot be had within the caps on magnitude and precision (the argument
    of exp, sin or gamma beyond 2^40, as in exp(exp(exp(w))) at w = 30): no honest value."""

    exit_code = ExitCode.FAILED

"""gradcheck's own errors and exit codes.

The core raises these; the CLI turns them into one line on stderr and an exit code.
Every error carries the text it complains about and, where it applies, the 1-based column.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (as httpie's ``ExitStatus``)."""

    OK = 0
    FAILED = 1
    USAGE = 2


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


class ParseError(GradcheckError):
    """The expression text is not in gradcheck's grammar."""


class UnsupportedError(GradcheckError):
    """Valid syntax that gradcheck refuses (unknown function, too large, too deep)."""


class RoleError(GradcheckError):
    """Symbol roles (inputs, target, parameters) or fixed values do not fit the model."""


class EvaluationError(GradcheckError):
    """The model cannot be evaluated at the requested point."""

    exit_code = ExitCode.FAILED


class Ambiguous(Exception):
    """An interval straddles a branch point (a sign test, a domain edge): undecidable."""

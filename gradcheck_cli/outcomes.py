"""The words of a verdict, apart from the rules that decide it (``verdict``).

Results carry these, so a process that only reads and prints results (a batch's parent,
unpickling what its workers send) needs this module and not the exact side behind the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    KINK = "kink"  # no derivative at the point: torch's convention applies
    UNDEFINED = "undefined"  # the exact loss or gradient does not exist at the point


@dataclass(frozen=True)
class LadderCheck:
    """The ladder's rung as judged: the float64 autograd value, its error and tolerance."""

    dtype: str
    autograd: float | None
    abs_error: float
    tolerance: float
    passed: bool

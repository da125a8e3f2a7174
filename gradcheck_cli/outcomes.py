"""The words of a verdict, apart from the rules that decide it (``verdict``), and the smaller
checks a gradient's result carries: the ladder's rung, a hand value, a finite difference.

Results carry these, so a process that only reads and prints results (a batch's parent,
unpickling what its workers send) needs this module and not the exact side behind the rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


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
    tolerance: float | None  # None: not computed, its autograd value is the exact one rounded
    passed: bool


def json_number(value: float | None) -> float | str | None:
    """JSON has no NaN or infinity: those become the strings "nan", "inf", "-inf"."""
    if value is None or math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


@dataclass(frozen=True)
class HandCheck:
    param: str  # what the value is of: a parameter (its gradient), loss, z or z[i]
    value: float
    text: str
    classification: str  # "rounding" | "rounding (intermediates)" | "mistake"
    distance: float
    radii: float  # distance in envelope radii
    envelope: Any  # rounding.hand.Envelope

    def to_dict(self) -> dict[str, Any]:
        return {
            "param": self.param,
            "value": self.value,
            "text": self.text,
            "classification": self.classification,
            "distance": self.distance,
            "radii": self.radii,
            "envelope": self.envelope.to_dict(),
        }


@dataclass(frozen=True)
class FiniteDifference:
    """``--fd``: the central difference torch.autograd.gradcheck takes (float64, step eps) and
    the conclusion its default tolerances would draw (``finite_difference.py``)."""

    value: float
    eps: float
    abs_error: float  # |value - exact|
    autograd: float | None  # autograd's float64 gradient: what gradcheck compares with
    atol: float
    rtol: float
    torch_gradcheck_would_pass: bool  # |autograd - value| <= atol + rtol * |value|

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": json_number(self.value),
            "eps": self.eps,
            "abs_error": json_number(self.abs_error),
            "autograd_float64": json_number(self.autograd),
            "atol": self.atol,
            "rtol": self.rtol,
            "torch_gradcheck_would_pass": self.torch_gradcheck_would_pass,
        }

"""Hand calculations: was a hand-computed gradient rounding, or a mistake?

People compute gradients (and the loss, and the model's output) by hand with inputs rounded to
K decimals (the tutorial writes x = -0.6014). ``envelope`` encloses every value such a
calculation can reach: each input moved by up to half a unit of the K-th decimal, g(X) inside
g(c) + sum_i g_i'(X) (X_i - c_i) (the mean-value form, with g_i' enclosed over the whole box by
mpmath.iv interval arithmetic), widened by the rounding of the printed answer. A lenient band
adds the rounding of every intermediate result to K decimals (first order, through the SymPy
gradient). The verdict on a hand value (``verdict.judge_hand``) is ``rounding`` (inside the
envelope), ``rounding (intermediates)`` (inside the band) or ``mistake`` (outside, and how many
envelope radii away). K and the answer's decimals come from ``options.hand_decimals``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from gradcheck_cli.errors import Ambiguous, EvaluationError, GradcheckError
from gradcheck_cli.exact.evaluate import evaluate, iv_precision
from gradcheck_cli.exact.symbolic import symbol
from gradcheck_cli.rounding.bounds import Propagator


@dataclass(frozen=True)
class Envelope:
    decimals: int  # inputs rounded to this many decimals
    answer_decimals: int  # the answer printed with this many decimals
    center: float  # the exact gradient at the exact inputs
    radius: float  # reachable by rounding the inputs and the answer
    lenient_radius: float  # also rounding every intermediate result
    method: str  # "interval" (mean-value form over the box) or "first-order" (fallback)
    decimals_from: str = "typed"  # "typed", "--decimals", "assumed" (an integer hand value)

    @property
    def decimals_shown(self) -> str:
        """K as the report shows it: ``4``, or ``4 (assumed)`` for an integer hand value."""
        return (
            f"{self.decimals} (assumed)" if self.decimals_from == "assumed" else str(self.decimals)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "decimals": self.decimals,
            "decimals_from": self.decimals_from,
            "answer_decimals": self.answer_decimals,
            "center": self.center,
            "radius": self.radius,
            "lenient_radius": self.lenient_radius,
            "method": self.method,
        }


class UnboundedSpread(GradcheckError):
    """A derivative is unbounded over the box of rounded inputs: use the first-order spread."""


def envelope(
    grad: sympy.Expr,
    points: list[Mapping[str, float]],
    reduction: str,
    decimals: int,
    answer_decimals: int,
    center: mpmath.mpf,
    decimals_from: str = "typed",
) -> Envelope:
    h = mpmath.mpf(10) ** -decimals / 2
    names = sorted({s.name for s in grad.free_symbols})
    partials = [sympy.diff(grad, symbol(n)) for n in names]
    try:
        spread, method = _interval_spread(partials, names, points, h), "interval"
    except (Ambiguous, EvaluationError, UnboundedSpread):
        spread, method = _first_order_spread(partials, names, points, h), "first-order"
    intermediates = _intermediate_spread(grad, points, h)
    scale = 1 / mpmath.mpf(len(points)) if reduction == "mean" else mpmath.mpf(1)
    answer = mpmath.mpf(10) ** -answer_decimals / 2
    radius = spread * scale + answer
    return Envelope(
        decimals,
        answer_decimals,
        float(center),
        float(radius),
        float(radius + intermediates * scale),
        method,
        decimals_from,
    )


def _interval_spread(
    partials: list[sympy.Expr], names: list[str], points: list[Mapping[str, float]], h: mpmath.mpf
) -> mpmath.mpf:
    total = mpmath.mpf(0)
    with iv_precision(96), mpmath.workprec(96):
        for point in points:
            box = {n: mpmath.iv.mpf([point[n] - h, point[n] + h]) for n in point}
            for d in partials:
                value = evaluate(d, box, mpmath.iv)
                magnitude = max(abs(mpmath.mpf(value.a)), abs(mpmath.mpf(value.b)))
                if not mpmath.isfinite(magnitude):
                    raise UnboundedSpread("unbounded derivative over the box")
                total += magnitude * h
    return total


def _first_order_spread(
    partials: list[sympy.Expr], names: list[str], points: list[Mapping[str, float]], h: mpmath.mpf
) -> mpmath.mpf:
    total = mpmath.mpf(0)
    with mpmath.workprec(96):
        for point in points:
            values = {n: mpmath.mpf(v) for n, v in point.items()}
            total += sum(abs(evaluate(d, values)) * h for d in partials)
    return total


def _intermediate_spread(
    grad: sympy.Expr, points: list[Mapping[str, float]], h: mpmath.mpf
) -> mpmath.mpf:
    total = mpmath.mpf(0)
    with mpmath.workprec(96):
        for point in points:
            values = {n: mpmath.mpf(v) for n, v in point.items()}
            total += Propagator(values, 0.0, step=h).run(grad)[1]
    return total

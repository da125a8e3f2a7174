"""Comparison of autograd's gradient with the exact one: errors, tolerance, verdict.

The tolerance is a first-order rounding-error bound, not a fixed atol: every operation of the
gradient formula is propagated as (value, error) in exact arithmetic, where an operation that
rounds adds ``c * u * |value|`` (u the dtype's unit roundoff, c = 1 for + - * /, 2 for library
functions) and the errors of its arguments pass through its exact derivative. The verdict is
``pass`` when ``|autograd - exact| <= SAFETY * bound + ulp`` (the final rounding to the dtype).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from .symbolic import _Evaluator, evaluate

SAFETY = 8
UNIT_ROUNDOFF = {"float32": 2.0**-24, "float64": 2.0**-53}
TINY = {"float32": 2.0**-149, "float64": 2.0**-1074}
LIBRARY_COST = 2
EXACT_FUNCTIONS = ("Abs", "sign", "Heaviside", "relu")
STEP_FUNCTIONS = ("sign", "Heaviside")


@dataclass(frozen=True)
class Comparison:
    abs_error: float
    rel_error: float | None
    tolerance: float
    verdict: str
    note: str = ""


def compare(exact: mpmath.mpf, autograd: float | None, tolerance: float, dtype: str) -> Comparison:
    """Judge one gradient. ``autograd`` None means autograd gave no gradient (taken as 0)."""
    note = "autograd gave no gradient (parameter unused): taken as 0" if autograd is None else ""
    got = 0.0 if autograd is None else autograd
    if math.isnan(got):
        return Comparison(math.nan, None, tolerance, "fail", "autograd returned NaN")
    if math.isinf(got):
        limit = _max_finite(dtype)
        if abs(exact) > limit and math.copysign(1, got) == mpmath.sign(exact):
            return Comparison(0.0, 0.0, tolerance, "pass", "overflow: exact value beyond dtype")
        return Comparison(math.inf, math.inf, tolerance, "fail", "autograd returned infinity")
    error = abs(mpmath.mpf(got) - exact)
    rel = None if exact == 0 else float(error / abs(exact))
    verdict = "pass" if error <= tolerance else "fail"
    return Comparison(float(error), rel, tolerance, verdict, note)


def _max_finite(dtype: str) -> float:
    return 3.4028234663852886e38 if dtype == "float32" else 1.7976931348623157e308


def tolerance(grad: sympy.Expr, samples: list[Mapping[str, float]], exact_total: mpmath.mpf,
              reduction: str, dtype: str) -> float:
    """SAFETY times the first-order bound of the reduced gradient, plus one final rounding."""
    u = UNIT_ROUNDOFF[dtype]
    with mpmath.workprec(96):
        total_bound, total_abs = mpmath.mpf(0), mpmath.mpf(0)
        for point in samples:
            value, bound = _Propagator({k: mpmath.mpf(v) for k, v in point.items()}, u).run(grad)
            total_bound += bound
            total_abs += abs(value)
        n = len(samples)
        total_bound += (n - 1) * u * total_abs
        if reduction == "mean":
            total_bound /= n
        final = u * abs(exact_total) * 2 + TINY[dtype]
        return float(SAFETY * total_bound + final)


class _Propagator:
    """(value, error bound) through a SymPy tree, first order."""

    def __init__(self, values: Mapping[str, Any], u: float):
        self.values, self.u, self.cache = values, mpmath.mpf(u), {}

    def run(self, node: sympy.Expr) -> tuple[Any, Any]:
        if node not in self.cache:
            self.cache[node] = self.compute(node)
        return self.cache[node]

    def compute(self, node: sympy.Expr) -> tuple[Any, Any]:
        value = evaluate(node, self.values)
        if node.is_Symbol or node.is_Integer:
            return value, mpmath.mpf(0)
        if node.is_Number or node.is_NumberSymbol:
            return value, self.u * abs(value)
        parts = [self.run(arg) for arg in node.args if isinstance(arg, sympy.Expr)]
        if node.is_Add:
            rounding = (len(parts) - 1) * self.u * sum(abs(v) for v, _ in parts)
            return value, sum(e for _, e in parts) + rounding
        if node.is_Mul:
            error = mpmath.mpf(0)
            for i, (_, e) in enumerate(parts):
                others = mpmath.fprod(abs(v) for j, (v, _) in enumerate(parts) if j != i)
                error += e * others
            return value, error + (len(parts) - 1) * self.u * abs(value)
        if isinstance(node, sympy.Piecewise):
            return value, self.piecewise(node)
        cost = 0 if type(node).__name__ in EXACT_FUNCTIONS else LIBRARY_COST
        if node.is_Pow and node.exp in (2, sympy.Rational(1, 2), -1):
            cost = 1
        carried = mpmath.mpf(0)
        if type(node).__name__ in STEP_FUNCTIONS:  # piecewise constant: errors do not carry
            return value, carried
        for index, (_, e) in enumerate(parts, start=1):
            if e:
                carried += abs(self.derivative(node, index)) * e
        return value, carried + cost * self.u * abs(value)

    def derivative(self, node: sympy.Expr, index: int) -> Any:
        if node.is_Pow:
            return evaluate(_diff_at(node, index - 1), self.values)
        return evaluate(node.fdiff(index), self.values)

    def piecewise(self, node: sympy.Piecewise) -> Any:
        for expr, cond in node.args:
            if cond is sympy.true or _Evaluator(self.values, mpmath.mp).condition(cond):
                return self.run(expr)[1]
        return mpmath.mpf(0)


def _diff_at(node: sympy.Expr, position: int) -> sympy.Expr:
    """Derivative of ``node`` with respect to its argument at ``position`` (as a dummy)."""
    dummy = sympy.Dummy(real=True)
    args = list(node.args)
    original = args[position]
    args[position] = dummy
    return sympy.diff(node.func(*args), dummy).subs(dummy, original)

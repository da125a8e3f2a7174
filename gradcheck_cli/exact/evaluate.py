"""Exact evaluation of SymPy expressions in mpmath: points (mp) and interval enclosures (iv).

One walker over the SymPy tree, parameterised by an mpmath context, so that every analysis
evaluates the same way. ``exact`` raises precision until two evaluations agree; ``exact_reduced``
encloses a value reduced over samples tightly enough to round to one value of the dtype.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from gradcheck_cli.dtypes import DTYPES
from gradcheck_cli.errors import Ambiguous, EvaluationError
from gradcheck_cli.exact.functions import spec_of
from gradcheck_cli.expr.catalog.numeric import decide

__all__ = ["Ambiguous", "Exact", "decide", "evaluate", "exact", "exact_reduced", "round_to"]


def evaluate(expr: sympy.Expr, values: Mapping[str, Any], ctx: Any = mpmath.mp) -> Any:
    """Evaluate ``expr`` with mpmath; ``values`` maps symbol names to ctx numbers.

    Raises EvaluationError naming the sub-expression that is undefined (log of a negative
    number, division by zero, ...).
    """
    return _Evaluator(values, ctx).run(expr)


def condition(cond: sympy.Basic, values: Mapping[str, Any]) -> bool:
    """The truth of a Piecewise condition at ``values`` (mpmath numbers)."""
    return _Evaluator(values, mpmath.mp).condition(cond)


class _Evaluator:
    def __init__(self, values: Mapping[str, Any], ctx: Any):
        self.values, self.ctx, self.cache = values, ctx, {}

    def run(self, node: sympy.Expr) -> Any:
        if node in self.cache:
            return self.cache[node]
        try:
            value = self.compute(node)
        except (ZeroDivisionError, ValueError) as exc:
            if self.ctx is not mpmath.mp:
                raise Ambiguous from None
            raise EvaluationError(f"'{node}' is undefined at this point ({exc})") from None
        if _is_nan(value, self.ctx):
            raise EvaluationError(f"'{node}' is undefined at this point")
        self.cache[node] = value
        return value

    def compute(self, node: sympy.Expr) -> Any:
        ctx = self.ctx
        if node.is_Symbol:
            return self.values[node.name]
        if node.is_Integer:
            return ctx.mpf(int(node))
        if node.is_Rational:
            return ctx.mpf(int(node.p)) / int(node.q)
        if node is sympy.pi:
            return ctx.pi
        if node is sympy.E:
            return ctx.e
        if node is sympy.EulerGamma:  # digamma at rationals: polygamma(0, 1/2) folds to it
            return ctx.euler
        if node.is_Add:
            return ctx.fsum(self.run(arg) for arg in node.args)
        if node.is_Mul:
            result = self.run(node.args[0])
            for arg in node.args[1:]:
                result = result * self.run(arg)
            return result
        if node.is_Pow:
            return self.power(node)
        if isinstance(node, sympy.Piecewise):
            return self.piecewise(node)
        spec = spec_of(node.func)
        if ctx is not mpmath.mp and not (spec and spec.interval):
            raise Ambiguous  # no interval version: the caller falls back to points
        if spec is not None:
            return spec.evaluate_at(ctx, [self.run(arg) for arg in node.args])
        raise EvaluationError(f"cannot evaluate '{type(node).__name__}' exactly")

    def power(self, node: sympy.Pow) -> Any:
        base, exponent = node.args
        b = self.run(base)
        if exponent.is_Integer:
            n = int(exponent)
            if n < 0 and decide(b == 0):
                raise ZeroDivisionError("division by zero")
            return b**n
        if exponent == sympy.Rational(1, 2):
            if decide(b < 0):
                raise ValueError("square root of a negative number")
            return self.ctx.sqrt(b)
        e = self.run(exponent)
        if decide(b < 0) or (decide(b == 0) and decide(e <= 0)):
            raise ValueError("power of a non-positive base")
        if decide(b == 0):
            return self.ctx.mpf(0)
        return self.ctx.exp(e * self.ctx.log(b))

    def piecewise(self, node: sympy.Piecewise) -> Any:
        for expr, cond in node.args:
            if cond is sympy.true or self.condition(cond):
                return self.run(expr)
        raise ValueError("no branch of a piecewise function applies")

    def condition(self, cond: sympy.Basic) -> bool:
        if isinstance(cond, sympy.Or | sympy.And):  # SymPy merges branches of equal value
            parts = (self.condition(arg) for arg in cond.args)
            return any(parts) if isinstance(cond, sympy.Or) else all(parts)
        left, right = self.run(cond.lhs), self.run(cond.rhs)
        ops = {
            sympy.StrictGreaterThan: lambda a, b: a > b,
            sympy.GreaterThan: lambda a, b: a >= b,
            sympy.StrictLessThan: lambda a, b: a < b,
            sympy.LessThan: lambda a, b: a <= b,
        }
        return decide(ops[type(cond)](left, right))


def _is_nan(value: Any, ctx: Any) -> bool:
    try:
        return bool(ctx.isnan(value))
    except (AttributeError, TypeError):
        return False


MAX_PRECISION = 4096
WIDTH_BITS = 80  # an enclosure this narrow measures errors far below float64's ulp


@dataclass(frozen=True)
class Exact:
    """An exact value: ``value`` to far more than float64 precision.

    ``certified``: an mpmath.iv enclosure at ``prec`` bits rounds to one value of the working
    dtype, so ``value`` rounds correctly; otherwise (an interval straddled a branch point, or
    the precision cap was hit: ``capped``) it is a point evaluation stable at ``prec`` bits.
    """

    value: mpmath.mpf
    certified: bool
    prec: int
    capped: bool = False


def exact_reduced(
    expr: sympy.Expr, points: list[Mapping[str, float]], reduction: str, dtype: str
) -> Exact:
    """``expr`` summed (or averaged) over the sample points, enclosed tightly enough to round
    to one ``dtype`` value and to be 2^-WIDTH_BITS narrow, raising the precision up to
    MAX_PRECISION."""
    prec = 128
    while prec <= MAX_PRECISION:
        try:
            with iv_precision(prec), mpmath.workprec(prec):
                total = _reduce(
                    [
                        evaluate(expr, {k: mpmath.iv.mpf(v) for k, v in p.items()}, mpmath.iv)
                        for p in points
                    ],
                    reduction,
                )
                lo, hi = mpmath.mpf(total.a), mpmath.mpf(total.b)  # exact at this precision
        except (Ambiguous, EvaluationError, mpmath.libmp.NoConvergence):
            break  # no usable interval extension here: fall back to points
        if not (mpmath.isfinite(lo) and mpmath.isfinite(hi)):
            break
        narrow = hi - lo <= max(abs(lo), abs(hi)) * mpmath.ldexp(1, -WIDTH_BITS)
        if narrow and round_to(lo, dtype) == round_to(hi, dtype):
            with mpmath.workprec(prec):
                return Exact((lo + hi) / 2, True, prec)
        prec *= 2
    value = _reduce([exact(expr, p) for p in points], reduction)
    return Exact(
        value, False, MAX_PRECISION if prec > MAX_PRECISION else 128, capped=prec > MAX_PRECISION
    )


def _reduce(values: list[Any], reduction: str) -> Any:
    total = sum(values[1:], values[0])
    return total / len(values) if reduction == "mean" else total


@contextmanager
def iv_precision(prec: int) -> Iterator[None]:
    saved = mpmath.iv.prec
    mpmath.iv.prec = prec
    try:
        yield
    finally:
        mpmath.iv.prec = saved


def round_to(value: mpmath.mpf, dtype: str) -> float:
    """Round an exact value to the nearest value of ``dtype`` (returned as a Python float)."""
    d = DTYPES[dtype]
    if d.bits == 53:
        return float(value)  # mpmath rounds to the nearest double
    with mpmath.workprec(d.bits):
        rounded = float(+value)  # nearest with d.bits significant bits: a dtype value if in range
    if abs(rounded) > d.max:
        return math.copysign(math.inf, rounded)
    return rounded  # below the dtype's normal range this ignores subnormal spacing


def exact(expr: sympy.Expr, values: Mapping[str, float], start: int = 128) -> mpmath.mpf:
    """``expr`` at the exact binary ``values``, raising precision until it is stable.

    Two successive evaluations (precision p and 2p bits) must agree to 2^-(p/2) relative; the
    result is far more accurate than float64, so that comparisons measure autograd alone.
    """
    prec, previous = start, None
    while prec <= MAX_PRECISION:
        with mpmath.workprec(prec):
            value = evaluate(expr, {k: mpmath.mpf(v) for k, v in values.items()})
        if previous is not None and _agree(previous, value, prec // 2):
            return value
        previous, prec = value, prec * 2
    return previous


def _agree(a: mpmath.mpf, b: mpmath.mpf, bits: int) -> bool:
    if a == b:
        return True
    scale = max(abs(a), abs(b))
    return abs(a - b) <= scale * mpmath.ldexp(1, -bits)

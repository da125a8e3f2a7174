"""Exact evaluation of SymPy expressions in mpmath: points (mp) and interval enclosures (iv).

One walker over the SymPy tree, parameterised by an mpmath context, so that every analysis
evaluates the same way. ``exact`` raises precision until two evaluations agree; ``exact_reduced``
encloses a value reduced over samples tightly enough to round to one value of the dtype.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy

from gradcheck_cli.dtypes import DTYPES
from gradcheck_cli.errors import Ambiguous, EvaluationError, MagnitudeError, NoInterval
from gradcheck_cli.exact.functions import spec_of
from gradcheck_cli.expr.catalog import numeric as n
from gradcheck_cli.expr.catalog.numeric import DomainError, decide

__all__ = ["Ambiguous", "Exact", "decide", "evaluate", "exact", "exact_reduced", "round_to"]


def evaluate(expr: sympy.Expr, values: Mapping[str, Any], ctx: Any = mpmath.mp) -> Any:
    """Evaluate ``expr`` with mpmath; ``values`` maps symbol names to ctx numbers.

    Raises EvaluationError naming the sub-expression that is undefined (log of a negative
    number, division by zero, ...). At points, an undefined sub-expression is evaluated again
    at 4, 16, ... times the precision up to MAX_PRECISION first: a domain test that sees 0 may
    see a cancellation (1 - 1/(1 + e^-200) is 0 at 128 bits).
    """
    try:
        return _Evaluator(values, ctx).run(expr)
    except EvaluationError:
        if ctx is not mpmath.mp or mpmath.mp.prec >= MAX_PRECISION:
            raise
    prec = mpmath.mp.prec
    while True:
        prec = min(prec * 4, MAX_PRECISION)
        with mpmath.workprec(prec):
            try:
                return _Evaluator(values, ctx).run(expr)
            except EvaluationError:
                if prec >= MAX_PRECISION:
                    raise


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
        except DomainError as exc:  # for an interval: outside the domain on all of it
            raise EvaluationError(f"'{node}' is undefined at this point ({exc})") from None
        except (ZeroDivisionError, ValueError) as exc:
            if self.ctx is not mpmath.mp:
                raise Ambiguous from None
            raise EvaluationError(f"'{node}' is undefined at this point ({exc})") from None
        except MagnitudeError as exc:
            if exc.message.startswith("'"):
                raise
            raise MagnitudeError(f"'{node}' cannot be evaluated exactly: {exc.message}") from None
        if is_nan(value, self.ctx):
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
        if isinstance(node, sympy.Derivative):
            return self.run(unevaluated_derivative(node))
        if node.is_number and not node.is_extended_real:  # zoo (1/0), nan, I
            raise DomainError(f"'{node}' is not a real number")
        spec = spec_of(node.func)
        if ctx is not mpmath.mp and not (spec and spec.interval):
            raise NoInterval  # no interval version: the caller falls back to points
        if spec is not None:
            return spec.evaluate_at(ctx, [self.run(arg) for arg in node.args])
        raise EvaluationError(f"cannot evaluate '{type(node).__name__}' exactly")

    def power(self, node: sympy.Pow) -> Any:
        base, exponent = node.args
        b = self.run(base)
        if exponent.is_Integer:
            return n.power(self.ctx, b, None, int(exponent))
        if exponent == sympy.Rational(1, 2):
            return n.power(self.ctx, b, None, half=True)
        return n.power(self.ctx, b, self.run(exponent))

    def piecewise(self, node: sympy.Piecewise) -> Any:
        for expr, cond in node.args:
            if cond is sympy.true or self.condition(cond):
                return self.run(expr)
        raise DomainError("no branch of a piecewise function applies")

    def condition(self, cond: sympy.Basic) -> bool:
        if isinstance(cond, sympy.Or | sympy.And):  # SymPy merges branches of equal value
            parts = (self.condition(arg) for arg in cond.args)
            return any(parts) if isinstance(cond, sympy.Or) else all(parts)
        if cond is sympy.true or cond is sympy.false:
            return bool(cond)
        left, right = self.run(cond.lhs), self.run(cond.rhs)
        if isinstance(cond, sympy.Eq | sympy.Ne):
            return n.is_zero(left - right) == isinstance(cond, sympy.Eq)
        ops = {
            sympy.StrictGreaterThan: lambda a, b: a > b,
            sympy.GreaterThan: lambda a, b: a >= b,
            sympy.StrictLessThan: lambda a, b: a < b,
            sympy.LessThan: lambda a, b: a <= b,
        }
        return decide(ops[type(cond)](left, right))


def unevaluated_derivative(node: sympy.Derivative) -> sympy.Expr:
    """An unevaluated derivative SymPy left (sign(Abs(w)/w)'): 0 for a piecewise constant
    function (torch's sign' = 0, its convention at the jump too), else what ``doit`` gives."""
    spec = spec_of(node.expr.func)
    if spec is not None and spec.steps:
        return sympy.S.Zero
    done = node.doit()
    if done.has(sympy.Derivative):
        raise EvaluationError(f"cannot evaluate '{node}' exactly")
    return done


def is_nan(value: Any, ctx: Any) -> bool:
    try:
        return bool(ctx.isnan(value))
    except (AttributeError, TypeError):
        return False


MAX_PRECISION = 4096
WIDTH_BITS = 80  # an enclosure this narrow measures errors far below float64's ulp
ABSOLUTE_BITS = 1200  # ... or this narrow absolutely: far below every dtype's smallest subnormal
BEYOND_BITS = 1100  # a value beyond 2^1100 in magnitude is beyond every dtype's range
OVERFLOW_BITS = 2**16  # the marker of such a value: +-2^OVERFLOW_BITS, or the value if nearer


@dataclass(frozen=True)
class Exact:
    """An exact value: ``value`` to far more than float64 precision.

    ``certified``: an mpmath.iv enclosure at ``prec`` bits rounds to one value of the working
    dtype, so ``value`` rounds correctly; otherwise (an interval straddled a branch point up to
    the precision cap: ``capped``, or a function has no interval version) it is a point
    evaluation stable at ``prec`` bits. ``overflow``: the value is certainly beyond every
    dtype's range (2^1100) with this sign, and ``value`` is a marker of it, not the value
    (the value itself may have an exponent of 10^12 bits: e^(e^30)).
    """

    value: mpmath.mpf
    certified: bool
    prec: int
    capped: bool = False
    overflow: bool = False
    tie: bool = field(default=False, compare=False)  # an enclosure, not a point, holding 0 or
    # a double: the value may be that number exactly, which a symbolic simplification may
    # prove (``exact/certified.py``); how it was found, not the value


def exact_reduced(
    expr: sympy.Expr, points: list[Mapping[str, float]], reduction: str, dtype: str
) -> Exact:
    """``expr`` summed (or averaged) over the sample points, enclosed tightly enough to round
    to one ``dtype`` value and to be 2^-WIDTH_BITS narrow, raising the precision up to
    MAX_PRECISION (also while a domain or branch test cannot tell: 1 - 1/(1 + e^-200) > 0
    needs more than 128 bits).

    Raises EvaluationError where ``expr`` is undefined (certainly so where an interval decided
    it), MagnitudeError where no value can be had within the caps."""
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
        except NoInterval:
            break  # no usable interval extension here: fall back to points
        except Ambiguous:
            prec *= 2  # a branch or domain test could not tell at this precision
            continue
        except (MagnitudeError, mpmath.libmp.NoConvergence):
            break
        beyond = mpmath.ldexp(1, BEYOND_BITS)
        if lo > beyond or hi < -beyond:
            side = 1 if lo > beyond else -1
            marker = min(abs(lo if side > 0 else hi), mpmath.ldexp(1, OVERFLOW_BITS))
            return Exact(side * marker, True, prec, overflow=True)
        if mpmath.isfinite(lo) and mpmath.isfinite(hi) and narrow(lo, hi, dtype):
            with mpmath.workprec(prec):
                return Exact((lo + hi) / 2, True, prec)
        prec *= 2
    value = _reduce([exact(expr, p) for p in points], reduction)
    return Exact(
        value, False, MAX_PRECISION if prec > MAX_PRECISION else 128, capped=prec > MAX_PRECISION
    )


def narrow(lo: mpmath.mpf, hi: mpmath.mpf, dtype: str) -> bool:
    width = hi - lo
    narrow = width <= max(abs(lo), abs(hi)) * mpmath.ldexp(1, -WIDTH_BITS)
    narrow = narrow or width <= mpmath.ldexp(1, -ABSOLUTE_BITS)
    return narrow and round_to(lo, dtype) == round_to(hi, dtype)


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
        if previous is not None and _agree(previous, value, prec // 4):
            return value
        previous, prec = value, prec * 2
    return previous


def _agree(a: mpmath.mpf, b: mpmath.mpf, bits: int) -> bool:
    if a == b:
        return True
    scale = max(abs(a), abs(b))
    return abs(a - b) <= scale * mpmath.ldexp(1, -bits)

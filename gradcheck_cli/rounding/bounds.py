"""Rounding-error analysis: tell floating-point rounding from a real error, with numbers.

For each gradient: ``abs_error`` and ``rel_error`` against the exact value; ``ulps`` (the error in
units of the last place of the exact value in the dtype); ``bits`` (Herbie's bits of error,
log2(1 + floats between autograd's value and the correctly rounded exact value)); ``bound``, a
first-order rounding-error bound E1 of the computation autograd actually ran (``tracebound``:
the aten graph of forward and backward, every node evaluated exactly, adjoints swept back,
E1 = sum u * c_i * |v_i| * |a_i|), or where tracing is impossible the same first-order sweep
over the SymPy gradient (``method`` says which), plus the effect of constants torch holds
inexactly (``constant_term``); ``kappa`` = bound / (u * |exact|).

Verdict: ``pass`` when ``abs_error <= SAFETY * bound`` (plus the smallest subnormal), or when
autograd returned the correctly rounded exact value (no dtype value is closer);
``fail`` otherwise, confirmed by the precision ladder (float32 runs are recomputed in float64:
rounding shrinks by about 2^-29, a real error does not). Where the bound is only the SymPy
fallback (the graph could not be traced; SymPy may have cancelled terms torch computes, as in
a - a), the ladder decides: an error that shrinks like rounding passes, with a note.
``ill_conditioned`` flags a pass where kappa leaves fewer than half the dtype's bits correct.
A NaN from autograd where the exact value is finite is a fail; a finite exact value beyond the
dtype's range expects an infinity of the right sign.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from gradcheck_cli.dtypes import DTYPES
from gradcheck_cli.errors import EvaluationError, MagnitudeError, OutOfDomain, UnsupportedOp
from gradcheck_cli.exact.evaluate import condition, evaluate, round_to
from gradcheck_cli.exact.functions import spec_of
from gradcheck_cli.expr.catalog.spec import LIBM, ROUNDED

SAFETY = 4  # first-order bound: covers O(u^2) terms and libm results a little worse than 1 ulp


@dataclass(frozen=True)
class Bounds:
    """First-order rounding bounds, one per parameter, and how they were obtained."""

    values: tuple[float, ...]
    method: str  # "aten" (traced graph) or "sympy" (fallback: the SymPy gradient)
    reason: str = ""  # why the fallback was needed
    contributions: tuple[tuple[tuple[str, str, float], ...], ...] = ()  # (node, op, amount)


def rounding_bounds(
    traced: Any,
    tensors: list[Any],
    grads: Callable[[], tuple[sympy.Expr, ...]],
    points: list[Mapping[str, float]],
    reduction: str,
    dtype: str,
    reason: str = "",
) -> Bounds:
    """Bounds from the traced aten graph (``traced``, a ``torch_side.Traced``); the SymPy sweep
    where there is no graph (``reason`` says why) or its exact evaluation is impossible."""
    from gradcheck_cli.rounding import trace

    if traced is not None:
        try:
            result = trace.fast_bound(traced, tensors, tensors[0].dtype)
        except (UnsupportedOp, OutOfDomain) as exc:
            kind = "unsupported aten op" if isinstance(exc, UnsupportedOp) else "domain"
            detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            reason = detail if detail.startswith(kind) else f"{kind}: {detail}"
        else:
            contributions = tuple(
                tuple((c.node, c.op, c.contribution) for c in per) for per in result.contributions
            )
            return Bounds(result.bounds, "aten", "", contributions)
    values = tuple(sympy_bound(g, points, reduction, dtype) for g in grads())
    return Bounds(values, "sympy", reason)


def constant_term(
    constants: tuple[sympy.Expr, tuple[tuple[Any, sympy.Expr], ...]],
    exact_grad: sympy.Expr,
    points: list[Mapping[str, float]],
    reduction: str,
    dtype: str,
) -> float:
    """The effect on a gradient of the constants torch holds inexactly (pi, 0.1, 0.1+0.2-0.3).

    ``constants`` is the gradient with those constants as symbols, and its derivative in each.
    The effect is that gradient at the constants as torch holds them minus the exact gradient
    (``exact_grad``, where SymPy has folded the constants: sin(pi) is 0), evaluated exactly, so
    that a second-order effect or a jump such as sign(sin(pi)) is covered; and at least the
    first-order estimate sum |d gradient / d constant| * |held - exact|."""
    grad, sensitivities = constants
    first, whole = mpmath.mpf(0), mpmath.mpf(0)
    with mpmath.workprec(192):
        exact = {c.name: evaluate(c.exact, {}) for c, _ in sensitivities}
        held = {
            c.name: mpmath.mpf(round_to(mpmath.mpf(c.computed), dtype)) for c, _ in sensitivities
        }
        for point in points:
            values = {k: mpmath.mpf(v) for k, v in point.items()}
            for c, derivative in sensitivities:
                delta = abs(held[c.name] - exact[c.name])
                try:
                    first += abs(evaluate(derivative, values | exact)) * delta
                except EvaluationError:
                    continue  # undefined there: the gradient's own verdict says so
            try:
                whole += abs(evaluate(grad, values | held) - evaluate(exact_grad, values))
            except EvaluationError:
                pass  # undefined at the held values: the first-order estimate stands
        total = max(first, whole)
        if reduction == "mean":
            total /= len(points)
    return float(total)


def sympy_bound(
    grad: sympy.Expr, samples: list[Mapping[str, float]], reduction: str, dtype: str
) -> float:
    """First-order bound of evaluating the reduced SymPy gradient in ``dtype``; NaN (none)
    where a point value is beyond the exact side's caps on magnitude (e^(e^30))."""
    u = DTYPES[dtype].unit_roundoff
    with mpmath.workprec(96):
        total_bound, total_abs = mpmath.mpf(0), mpmath.mpf(0)
        for point in samples:
            values = {k: mpmath.mpf(v) for k, v in point.items()}
            try:
                value, bound = Propagator(values, u).run(grad)
            except MagnitudeError:
                return math.nan
            total_bound += bound
            total_abs += abs(value)
        total_bound += (len(samples) - 1) * u * total_abs
        if reduction == "mean":
            total_bound /= len(samples)
        return float(total_bound)


class Propagator:
    """(value, error bound) through a SymPy tree, first order.

    Each operation that rounds adds ``count * u * magnitude`` (floating point, relative) or,
    with ``step`` given, one absolute ``step`` (a hand calculation writing every intermediate
    result to a fixed number of decimals). Argument errors pass through exact derivatives.
    """

    def __init__(self, values: Mapping[str, Any], u: float, step: Any = None):
        self.values, self.u, self.step, self.cache = values, mpmath.mpf(u), step, {}

    def rounding(self, magnitude: Any, count: int) -> Any:
        if self.step is not None:
            return self.step if count else mpmath.mpf(0)
        return count * self.u * magnitude

    def run(self, node: sympy.Expr) -> tuple[Any, Any]:
        if node not in self.cache:
            self.cache[node] = self.compute(node)
        return self.cache[node]

    def compute(self, node: sympy.Expr) -> tuple[Any, Any]:
        value = evaluate(node, self.values)
        if node.is_Symbol or node.is_Integer:
            return value, mpmath.mpf(0)
        if node.is_Number or node.is_NumberSymbol:
            return value, self.rounding(abs(value), 1)
        parts = [self.run(arg) for arg in node.args if isinstance(arg, sympy.Expr)]
        if node.is_Add:
            rounding = self.rounding(sum(abs(v) for v, _ in parts), len(parts) - 1)
            return value, sum(e for _, e in parts) + rounding
        if node.is_Mul:
            error = mpmath.mpf(0)
            for i, (_, e) in enumerate(parts):
                others = mpmath.fprod(abs(v) for j, (v, _) in enumerate(parts) if j != i)
                error += e * others
            return value, error + self.rounding(abs(value), len(parts) - 1)
        if isinstance(node, sympy.Piecewise):
            return value, self.piecewise(node)
        spec = spec_of(node.func)  # the catalog entry: its rounding cost, whether it steps
        cost = spec.cost if spec is not None else LIBM
        if node.is_Pow and node.exp in (2, sympy.Rational(1, 2), -1):
            cost = ROUNDED
        carried = mpmath.mpf(0)
        if spec is not None and spec.steps:  # piecewise constant: errors do not carry
            return value, carried
        for index, (_, e) in enumerate(parts, start=1):
            if e:
                carried += abs(self.derivative(node, index)) * e
        if self.step is not None and cost == 0:
            cost = 1  # a hand calculation writes every intermediate result rounded
        return value, carried + self.rounding(abs(value), cost)

    def derivative(self, node: sympy.Expr, index: int) -> Any:
        if node.is_Pow:
            return evaluate(_diff_at(node, index - 1), self.values)
        return evaluate(node.fdiff(index), self.values)

    def piecewise(self, node: sympy.Piecewise) -> Any:
        for expr, cond in node.args:
            if cond is sympy.true or condition(cond, self.values):
                return self.run(expr)[1]
        return mpmath.mpf(0)


def _diff_at(node: sympy.Expr, position: int) -> sympy.Expr:
    """Derivative of ``node`` with respect to its argument at ``position`` (as a dummy)."""
    dummy = sympy.Dummy(real=True)
    args = list(node.args)
    original = args[position]
    args[position] = dummy
    return sympy.diff(node.func(*args), dummy).subs(dummy, original)

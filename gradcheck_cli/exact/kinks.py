"""Points where a derivative does not exist or is not defined: kinks, domains and NaN sources.

- A kink: the argument of abs, relu, max/min, clamp, sign, hardtanh, ... is exactly at its
  switch (a tie for max/min). The derivative there is a convention of torch's (relu'(0) = 0);
  ``kink_facts`` reports the left and right derivatives and that convention. A switch argument
  within rounding error of its switch is a near kink: torch may take the other branch.
- A domain problem: the exact model, loss or gradient is undefined at the point (log of a
  negative number, division by zero): ``exact_or_nan`` gives NaN there (the exact evaluator's
  error names the sub-expression, which the pipeline reports as ``undefined``).

Facts only, pure functions of SymPy expressions and points: ``verdict`` decides what they mean
(the sub-expression behind an autograd NaN is found on the torch side, ``torch_side.nan_source``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from gradcheck_cli.dtypes import DTYPES
from gradcheck_cli.errors import EvaluationError, MagnitudeError
from gradcheck_cli.exact.evaluate import evaluate, exact_reduced
from gradcheck_cli.exact.functions import spec_of, sympy_args
from gradcheck_cli.exact.symbolic import symbol

NEAR_FACTOR = 64  # a switch argument within NEAR_FACTOR * ops * u * magnitude of 0 is "near"
ONE_SIDED_STEP = -100  # one-sided derivatives: the gradient at p +- 2**-100 * max(1, |p|)


@dataclass(frozen=True)
class Kink:
    where: str  # the sub-expression whose switch is hit
    convention: str  # what torch's backward does there
    exact: bool  # exactly at the switch (False: within rounding error of it)
    jump: bool = False  # the function itself jumps (sign, Heaviside)


def _switches(node: sympy.Basic) -> list[tuple[Any, str, bool]]:
    """(argument whose zero is a switch, torch's convention, jump) for a node."""
    spec = spec_of(node.func)
    if spec is not None and spec.switches is not None:
        args = sympy_args(spec, node.args)
        return [(u, spec.convention, spec.jumps) for u in spec.switches(*args)]
    if isinstance(node, sympy.Piecewise):
        return [
            (c.lhs - c.rhs, "torch's branch at the boundary", False)
            for _, cond in node.args
            for c in _relations(cond)
        ]
    return []


def _relations(cond: sympy.Basic) -> Iterator[sympy.Basic]:
    if isinstance(cond, sympy.Or | sympy.And):
        for arg in cond.args:
            yield from _relations(arg)
    elif isinstance(cond, sympy.core.relational.Relational):
        yield cond


def find_kinks(
    expr: sympy.Expr, points: list[Mapping[str, float]], param: str, dtype: str
) -> list[Kink]:
    """Switches of ``expr`` hit (or nearly hit) at any point, whose argument depends on param."""
    found: dict[str, Kink] = {}
    p = symbol(param)
    for node in sympy.preorder_traversal(expr):
        for u, convention, jump in _switches(node):
            u = sympy.sympify(u)
            if p not in u.free_symbols:
                continue
            for point in points:
                state = _at_switch(u, point, dtype)
                if state and (str(node) not in found or state == "exact"):
                    found[str(node)] = Kink(str(node), convention, state == "exact", jump)
    return list(found.values())


def _at_switch(u: sympy.Expr, point: Mapping[str, float], dtype: str) -> str:
    with mpmath.workprec(256):
        values = {k: mpmath.mpf(v) for k, v in point.items()}
        try:
            value = evaluate(u, values)
            size = _magnitude(u, values)
        except (EvaluationError, MagnitudeError):
            return ""
        if value == 0:
            return "exact"
        ops = sum(1 for _ in sympy.preorder_traversal(u))
        near = NEAR_FACTOR * ops * mpmath.ldexp(size, -DTYPES[dtype].bits)
        return "near" if abs(value) <= near else ""


def _magnitude(node: sympy.Expr, values: Mapping[str, Any]) -> Any:
    """A scale of the rounding error of ``node`` (first order): the magnitudes of the terms of
    a sum, the product of a product's, and through a function the magnitude of its value plus
    each argument's scale times the function's derivative there (a function that flattens its
    argument, as acosh at 1e200 does, does not carry the argument's scale)."""
    if node.is_Add:
        return sum((_magnitude(a, values) for a in node.args), mpmath.mpf(0))
    if node.is_Mul:
        return mpmath.fprod(_magnitude(a, values) for a in node.args)
    value = abs(evaluate(node, values))
    if node.is_Atom:
        return value
    args = [a for a in node.args if isinstance(a, sympy.Expr)]
    parts = [_magnitude(a, values) for a in args]
    try:
        slopes = [abs(_slope(node, i, values)) for i in range(len(args))]
    except (EvaluationError, TypeError, ValueError):  # no derivative here: the crude scale
        return value + max(parts, default=0)
    return value + sum((d * m for d, m in zip(slopes, parts, strict=True)), mpmath.mpf(0))


def _slope(node: sympy.Expr, position: int, values: Mapping[str, Any]) -> Any:
    """The derivative of ``node`` in its argument at ``position``, at that argument's value.
    The argument is a fresh symbol bound to its value, not substituted back: substituting a
    clamp into the derivative of a clamp of a clamp makes SymPy rebuild nested Piecewise
    expressions for minutes."""
    arg = sympy.Symbol(f"argument {position}", real=True)  # no user symbol has a space
    args = list(node.args)
    bound = {**values, arg.name: evaluate(args[position], values)}
    args[position] = arg
    return evaluate(sympy.diff(node.func(*args), arg), bound)


def one_sided(
    grad: sympy.Expr, points: list[Mapping[str, float]], param: str, reduction: str
) -> tuple[float | None, float | None]:
    """The gradient just left and just right of the parameter's value (None: undefined)."""
    sides = []
    for direction in (-1, 1):
        with mpmath.workprec(320):
            try:
                total = mpmath.mpf(0)
                for point in points:
                    values = {k: mpmath.mpf(v) for k, v in point.items()}
                    step = mpmath.ldexp(max(1, abs(values[param])), ONE_SIDED_STEP)
                    values[param] += direction * step
                    total += evaluate(grad, values)
                sides.append(float(total / len(points) if reduction == "mean" else total))
            except (EvaluationError, MagnitudeError):
                sides.append(None)
    return sides[0], sides[1]


def exact_or_nan(expr: sympy.Expr, point: Mapping[str, float]) -> Any:
    """``expr`` at ``point`` (certified where interval arithmetic can), NaN where it is
    undefined or beyond the caps on magnitude."""
    try:
        return exact_reduced(expr, [point], "sum", "float64").value
    except (EvaluationError, MagnitudeError):
        return mpmath.nan


@dataclass(frozen=True)
class KinkFacts:
    """Switches of the loss hit at the point (the facts the verdict needs about kinks)."""

    at: tuple[Kink, ...] = ()  # exactly at the switch
    near: tuple[Kink, ...] = ()  # within rounding error of it
    left: float | None = None  # one-sided derivatives (computed only when ``at``)
    right: float | None = None


def kink_facts(
    loss: sympy.Expr,
    grad: Callable[[], sympy.Expr],
    points: list[Mapping[str, float]],
    param: str,
    reduction: str,
    dtype: str,
) -> KinkFacts:
    """The switches of ``loss`` at or near the points; at one, the one-sided derivatives (of
    ``grad()``, the gradient in ``param``)."""
    found = find_kinks(loss, points, param, dtype)
    at = tuple(k for k in found if k.exact)
    near = tuple(k for k in found if not k.exact)
    if not at:
        return KinkFacts(at, near)
    left, right = one_sided(grad(), points, param, reduction)
    return KinkFacts(at, near, left, right)


def near_in_gradient(
    grad: sympy.Expr, points: list[Mapping[str, float]], param: str, dtype: str
) -> tuple[Kink, ...]:
    """Switches of the gradient's own formula within rounding error of the point: bce's backward
    clamps z(1-z) at 1e-12, and where z rounds to 1 the dtype takes the other branch, a rounding
    that no first-order bound sees."""
    return tuple(k for k in find_kinks(grad, points, param, dtype) if not k.exact)

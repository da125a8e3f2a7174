"""Points where a derivative does not exist or is not defined: kinks, domains and NaN sources.

- A kink: the argument of abs, relu, max/min, clamp, sign, hardtanh, ... is exactly at its
  switch (a tie for max/min). The derivative there is a convention of torch's (relu'(0) = 0);
  the result reports the left and right derivatives and that convention. A switch argument
  within rounding error of its switch is a near kink: torch may take the other branch.
- A domain problem: the exact model, loss or gradient is undefined at the point (log of a
  negative number, division by zero, an infinite gradient): the verdict is ``undefined``.
- NaN from autograd where the exact gradient is finite stays a failure; ``nan_source`` names
  the sub-expression of the model that produced it, by evaluating each one in torch.

Pure functions of SymPy expressions and points; torch is imported only by ``nan_source``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import mpmath
import sympy

from gradcheck_cli.errors import EvaluationError
from gradcheck_cli.exact.evaluate import evaluate, exact
from gradcheck_cli.exact.functions import spec_of, sympy_args
from gradcheck_cli.exact.symbolic import symbol
from gradcheck_cli.results import GradientResult

BITS = {"float32": 24, "float64": 53}
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
        except EvaluationError:
            return ""
        if value == 0:
            return "exact"
        ops = sum(1 for _ in sympy.preorder_traversal(u))
        near = NEAR_FACTOR * ops * mpmath.ldexp(size, -BITS[dtype])
        return "near" if abs(value) <= near else ""


def _magnitude(node: sympy.Expr, values: Mapping[str, Any]) -> Any:
    """A scale of the rounding error of ``node``: sums of absolute values of its terms."""
    if node.is_Add:
        return sum((_magnitude(a, values) for a in node.args), mpmath.mpf(0))
    if node.is_Mul:
        return mpmath.fprod(_magnitude(a, values) for a in node.args)
    value = abs(evaluate(node, values))
    parts = [_magnitude(a, values) for a in node.args if isinstance(a, sympy.Expr)]
    return value + max(parts, default=0) if not node.is_Atom else value


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
            except EvaluationError:
                sides.append(None)
    return sides[0], sides[1]


def undefined(exprs: tuple[sympy.Expr, ...], points: list[Mapping[str, float]]) -> str:
    """A message naming the undefined sub-expression if any of ``exprs`` is, else ""."""
    for expr in exprs:
        for point in points:
            try:
                value = exact(expr, point)
            except EvaluationError as exc:
                return f"{exc.message}: try another point (--at) or seed (--seed)"
            if mpmath.isinf(value):
                return f"'{expr}' is infinite here: try another point (--at) or seed (--seed)"
    return ""


def exact_or_nan(expr: sympy.Expr, point: Mapping[str, float]) -> Any:
    try:
        return exact(expr, point)
    except EvaluationError:
        return mpmath.nan


def undefined_result(param: str, formula: str, got: float | None, message: str) -> GradientResult:
    return GradientResult(
        param=param,
        formula=formula,
        exact=math.nan,
        autograd=got,
        abs_error=math.nan,
        rel_error=None,
        ulps=None,
        bits=None,
        bound=math.nan,
        kappa=None,
        tolerance=math.nan,
        verdict="undefined",
        note=message,
        bound_method="none",
    )


def review(
    result: GradientResult,
    loss_expr: sympy.Expr,
    grad: sympy.Expr,
    points: list[Mapping[str, float]],
    reduction: str,
    dtype: str,
    nan_probe: Callable[[], str],
) -> GradientResult:
    """Turn a compared gradient into a kink, or explain a NaN; otherwise leave it as it is."""
    kinks = find_kinks(loss_expr, points, result.param, dtype)
    at = [k for k in kinks if k.exact]
    if at:
        left, right = one_sided(grad, points, result.param, reduction)
        differ = (
            left is None
            or right is None
            or not math.isclose(left, right, rel_tol=1e-20, abs_tol=1e-25)
        )
        if differ or any(k.jump for k in at):
            k = at[0]
            # No derivative exists here: any value between the one-sided derivatives (the
            # convex hull, Clarke's generalized gradient) is a legitimate convention, e.g.
            # nested max ties that split the gradient 1/2 then 1/4.
            verdict = (
                "kink"
                if result.verdict == "pass"
                or _between(result.autograd, left, right, result.tolerance)
                else "fail"
            )
            note = (
                f"kink at '{k.where}': left derivative {left}, right {right}; torch's "
                f"convention: {k.convention}"
            )
            return replace(
                result, verdict=verdict, note=note, left=left, right=right, convention=k.convention
            )
    if result.verdict != "fail":
        return result
    near = [k for k in kinks if not k.exact]
    if near:
        note = (
            f"'{near[0].where}' is within rounding error of its switch: {dtype} may take "
            f"the other branch ({near[0].convention})"
        )
        return replace(result, verdict="kink", note=note, convention=near[0].convention)
    if result.autograd is not None and math.isnan(result.autograd):
        return replace(result, note=f"autograd returned NaN: {nan_probe()}")
    return result


def _between(got: float | None, left: float | None, right: float | None, slack: float) -> bool:
    if got is None or left is None or right is None or math.isnan(got):
        return False
    return min(left, right) - slack <= got <= max(left, right) + slack

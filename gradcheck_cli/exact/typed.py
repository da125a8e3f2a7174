"""The domain of the model as typed: the validated tree that torch runs, not SymPy's form.

SymPy simplifies: sqrt(x)**4 becomes x**2, exp(log(x)) becomes x, log(x)*0*w + w becomes w, so
the SymPy model is defined where the program torch runs is not. ``undefined_where`` evaluates
every sub-expression of the validated tree itself, with the exact evaluator's domain rules
(the catalog's evaluators, and for ``/`` and ``**`` the rules of ``numeric.power``), and names
the first one that is undefined, as typed: ``'sqrt(x)' is undefined at this point (square root
of a negative number)``.

As ``evaluate.exact_reduced``: interval arithmetic first (a domain test it decides is certain,
one it cannot decide is retried at twice the precision, up to MAX_PRECISION), then points.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import mpmath
import sympy

from gradcheck_cli.errors import Ambiguous, EvaluationError, MagnitudeError, NoInterval
from gradcheck_cli.exact.evaluate import MAX_PRECISION, is_nan, iv_precision
from gradcheck_cli.exact.symbolic import constant
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.expr.catalog import numeric as n
from gradcheck_cli.expr.catalog.numeric import DomainError
from gradcheck_cli.expr.parse import Expr

__all__ = ["undefined_where"]


def undefined_where(expr: Expr, points: list[Mapping[str, float]]) -> str:
    """'' if the model as typed is defined at every point, else why not (the first undefined
    sub-expression). Values beyond the caps on magnitude count as defined here (the exact
    side says what it can of them)."""
    for point in points:
        try:
            _check(expr.tree, point, expr.text.strip())
        except EvaluationError as exc:
            return exc.message
        except MagnitudeError:
            continue
    return ""


def _check(tree: ast.AST, point: Mapping[str, float], text: str) -> None:
    prec = 128
    while prec <= MAX_PRECISION:
        try:
            with iv_precision(prec), mpmath.workprec(prec):
                _Typed(mpmath.iv, {k: mpmath.iv.mpf(v) for k, v in point.items()}, text).run(tree)
            return
        except NoInterval:
            break
        except Ambiguous:
            prec *= 2
        except mpmath.libmp.NoConvergence:
            break
    prec = 128
    while True:  # points: an undefined point is tried again at higher precision
        try:
            with mpmath.workprec(prec):
                _Typed(mpmath.mp, {k: mpmath.mpf(v) for k, v in point.items()}, text).run(tree)
            return
        except EvaluationError:
            if prec >= MAX_PRECISION:
                raise
            prec = min(prec * 4, MAX_PRECISION)


class _Typed:
    def __init__(self, ctx: Any, values: Mapping[str, Any], text: str):
        self.ctx, self.values, self.text = ctx, values, text

    def run(self, node: ast.AST) -> Any:
        try:
            value = self.compute(node)
        except DomainError as exc:
            raise EvaluationError(self.undefined(node, str(exc))) from None
        except (ZeroDivisionError, ValueError) as exc:
            if self.ctx is not mpmath.mp:
                raise Ambiguous from None
            raise EvaluationError(self.undefined(node, str(exc))) from None
        if is_nan(value, self.ctx):
            raise EvaluationError(self.undefined(node, "not a number"))
        return value

    def undefined(self, node: ast.AST, why: str) -> str:
        typed = ast.get_source_segment(self.text, node) or ast.unparse(node)
        return f"'{typed}' is undefined at this point ({why})"

    def compute(self, node: ast.AST) -> Any:
        ctx = self.ctx
        if isinstance(node, ast.Constant):
            q = Fraction(repr(node.value))  # the decimal typed: 0.1 is 1/10, as in SymPy
            return ctx.mpf(q.numerator) / q.denominator
        if isinstance(node, ast.Name):
            if node.id in self.values:
                return self.values[node.id]
            return {"pi": ctx.pi, "E": ctx.e}[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self.run(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return self.power(node.left, node.right)
            left, right = self.run(node.left), self.run(node.right)
            if isinstance(node.op, ast.Div):
                return left * n.power(ctx, right, None, -1)
            if isinstance(node.op, ast.Add):
                return left + right
            return left - right if isinstance(node.op, ast.Sub) else left * right
        if isinstance(node, ast.Call):
            name = node.func.id
            if name == "pow":
                return self.power(*node.args)
            spec = FUNCTIONS[name]
            args = [self.run(arg) for arg in node.args]
            if ctx is not mpmath.mp and not spec.interval:
                raise NoInterval
            return spec.evaluate_at(ctx, args)
        raise TypeError(f"unvalidated node {type(node).__name__}")  # parse.py refuses these

    def power(self, base: ast.AST, exponent: ast.AST) -> Any:
        """base**exponent as the SymPy evaluator does it: an integer or 1/2 exponent (a
        constant, exactly) has its own rule."""
        b = self.run(base)
        k = constant(exponent)
        if k is not None and k.is_Integer:
            return n.power(self.ctx, b, None, int(k))
        if k is not None and k == sympy.Rational(1, 2):
            return n.power(self.ctx, b, None, half=True)
        return n.power(self.ctx, b, self.run(exponent))

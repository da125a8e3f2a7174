"""Exact side: the SymPy expression of a model, its gradients, and exact evaluation in mpmath.

Symbols are declared real (otherwise ``diff(Abs(x))`` carries re/im terms and SymPy slows down
by factors). Numbers typed by the user become exact rationals (``0.1`` is 1/10), so the exact
reference is the mathematics the user wrote, evaluated at the exact binary values of the inputs.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

import mpmath
import sympy

from .errors import EvaluationError
from .functions import FUNCTIONS
from .parse import Expr


def to_sympy(expr: Expr, bindings: Mapping[str, sympy.Expr] | None = None) -> sympy.Expr:
    """Build the SymPy expression of a validated tree; ``bindings`` replace names."""
    bindings = bindings or {}
    return _build(expr.tree, bindings)


def symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


def _build(node: ast.AST, bindings: Mapping[str, sympy.Expr]) -> sympy.Expr:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int):
            return sympy.Integer(node.value)
        return sympy.Rational(repr(node.value))
    if isinstance(node, ast.Name):
        if node.id in bindings:
            return bindings[node.id]
        return {"pi": sympy.pi, "E": sympy.E}.get(node.id) or symbol(node.id)
    if isinstance(node, ast.UnaryOp):
        operand = _build(node.operand, bindings)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _build(node.left, bindings), _build(node.right, bindings)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        args = [_build(arg, bindings) for arg in node.args]
        return FUNCTIONS[node.func.id].sympy(*args)
    raise TypeError(f"unvalidated node {type(node).__name__}")  # parse.py refuses these


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def gradients(expr: sympy.Expr, params: tuple[str, ...]) -> tuple[sympy.Expr, ...]:
    """The exact partial derivative of ``expr`` with respect to each parameter."""
    return tuple(sympy.diff(expr, symbol(name)) for name in params)


# --- exact evaluation -------------------------------------------------------------------------
# One walker over the SymPy tree, parameterised by an mpmath context (mp for points, iv for
# interval enclosures), so that every analysis evaluates the same way.


def evaluate(expr: sympy.Expr, values: Mapping[str, Any], ctx: Any = mpmath.mp) -> Any:
    """Evaluate ``expr`` with mpmath; ``values`` maps symbol names to ctx numbers.

    Raises EvaluationError naming the sub-expression that is undefined (log of a negative
    number, division by zero, ...).
    """
    return _Evaluator(values, ctx).run(expr)


class _Evaluator:
    def __init__(self, values: Mapping[str, Any], ctx: Any):
        self.values, self.ctx, self.cache = values, ctx, {}

    def run(self, node: sympy.Expr) -> Any:
        if node in self.cache:
            return self.cache[node]
        try:
            value = self.compute(node)
        except (ZeroDivisionError, ValueError) as exc:
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
        if node.is_Add:
            return ctx.fsum(self.run(arg) for arg in node.args) if ctx is mpmath.mp else \
                sum((self.run(arg) for arg in node.args[1:]), self.run(node.args[0]))
        if node.is_Mul:
            result = self.run(node.args[0])
            for arg in node.args[1:]:
                result = result * self.run(arg)
            return result
        if node.is_Pow:
            return self.power(node)
        if isinstance(node, sympy.Piecewise):
            return self.piecewise(node)
        name = type(node).__name__
        if name in MP_FUNCTIONS:
            return MP_FUNCTIONS[name](ctx, *[self.run(arg) for arg in node.args])
        raise EvaluationError(f"cannot evaluate '{name}' exactly")

    def power(self, node: sympy.Pow) -> Any:
        base, exponent = node.args
        b = self.run(base)
        if exponent.is_Integer:
            n = int(exponent)
            if n < 0 and b == 0:
                raise ZeroDivisionError("division by zero")
            return b**n
        if exponent == sympy.Rational(1, 2):
            if b < 0:
                raise ValueError("square root of a negative number")
            return self.ctx.sqrt(b)
        e = self.run(exponent)
        if b < 0 or (b == 0 and e <= 0):
            raise ValueError("power of a non-positive base")
        if b == 0:
            return self.ctx.mpf(0)
        return self.ctx.exp(e * self.ctx.log(b))

    def piecewise(self, node: sympy.Piecewise) -> Any:
        for expr, cond in node.args:
            if cond is sympy.true or self.condition(cond):
                return self.run(expr)
        raise ValueError("no branch of a piecewise function applies")

    def condition(self, cond: sympy.Basic) -> bool:
        left, right = self.run(cond.lhs), self.run(cond.rhs)
        ops = {sympy.StrictGreaterThan: lambda a, b: a > b, sympy.GreaterThan: lambda a, b: a >= b,
               sympy.StrictLessThan: lambda a, b: a < b, sympy.LessThan: lambda a, b: a <= b}
        return bool(ops[type(cond)](left, right))


def _is_nan(value: Any, ctx: Any) -> bool:
    try:
        return bool(ctx.isnan(value))
    except (AttributeError, TypeError):
        return False


def _log(ctx: Any, x: Any) -> Any:
    if x <= 0:
        raise ValueError("log of a non-positive number")
    return ctx.log(x)


def _heaviside(ctx: Any, x: Any, h0: Any = None) -> Any:
    if x > 0:
        return ctx.mpf(1)
    if x < 0:
        return ctx.mpf(0)
    return ctx.mpf(1) / 2 if h0 is None else h0


def _sign(ctx: Any, x: Any) -> Any:
    return ctx.mpf(1) if x > 0 else ctx.mpf(-1) if x < 0 else ctx.mpf(0)


def _sigmoid(ctx: Any, x: Any) -> Any:
    return 1 / (1 + ctx.exp(-x))


def _softplus(ctx: Any, x: Any) -> Any:
    from .nnfunctions import SOFTPLUS_THRESHOLD

    return x if x > SOFTPLUS_THRESHOLD else ctx.log(1 + ctx.exp(x))


def _tanh(ctx: Any, x: Any) -> Any:
    return ctx.tanh(x) if hasattr(ctx, "tanh") else 1 - 2 / (ctx.exp(2 * x) + 1)


MP_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "exp": lambda ctx, x: ctx.exp(x),
    "log": _log,
    "sin": lambda ctx, x: ctx.sin(x),
    "cos": lambda ctx, x: ctx.cos(x),
    "tan": lambda ctx, x: ctx.tan(x),
    "tanh": _tanh,
    "Abs": lambda ctx, x: abs(x),
    "sign": _sign,
    "Heaviside": _heaviside,
    "relu": lambda ctx, x: x if x > 0 else ctx.mpf(0),
    "sigmoid": _sigmoid,
    "softplus": _softplus,
}


MAX_PRECISION = 4096


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

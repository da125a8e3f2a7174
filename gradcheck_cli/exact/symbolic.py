"""Exact side: the SymPy expression of a model, its gradients, and exact evaluation in mpmath.

Symbols are declared real (otherwise ``diff(Abs(x))`` carries re/im terms and SymPy slows down
by factors). Numbers typed by the user become exact rationals (``0.1`` is 1/10), so the exact
reference is the mathematics the user wrote, evaluated at the exact binary values of the inputs.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sympy

from gradcheck_cli.errors import EvaluationError
from gradcheck_cli.exact.derivative import diff
from gradcheck_cli.exact.functions import build, spec_of
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.expr.parse import Expr


def to_sympy(expr: Expr, bindings: Mapping[str, sympy.Expr] | None = None) -> sympy.Expr:
    """Build the SymPy expression of a validated tree; ``bindings`` replace names."""
    bindings = bindings or {}
    return _build(expr.tree, bindings)


@dataclass(frozen=True)
class Constant:
    """A constant sub-expression that torch cannot hold exactly (pi, 0.1, 0.1+0.2-0.3)."""

    name: str  # the symbol standing for it (``_c0``: user names cannot start with _)
    exact: sympy.Expr  # its mathematical value
    computed: float  # the double Python computes for it (torch then rounds it to the dtype)


def to_sympy_with_constants(expr: Expr) -> tuple[sympy.Expr, tuple[Constant, ...]]:
    """The model with every inexact constant sub-expression replaced by a symbol.

    Differentiating through those symbols tells how much the rounding of each constant moves a
    gradient: a term of the rounding-error bound that the traced torch graph cannot see (its
    constants are already doubles)."""
    from gradcheck_cli.expr.parse import constant_value

    found: list[Constant] = []

    def replace(node: ast.AST, may_symbolize: bool) -> sympy.Expr:
        value = constant_value(node) if may_symbolize else None
        if value is not None and not (
            isinstance(node, ast.Constant) and isinstance(node.value, int)
        ):
            exact = _build(node, {})
            if exact != sympy.Rational(value):  # its double is not exact
                found.append(Constant(f"_c{len(found)}", exact, value))
                return symbol(found[-1].name)
            return exact
        if isinstance(node, ast.UnaryOp):
            operand = replace(node.operand, True)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](replace(node.left, True), replace(node.right, True))
        if isinstance(node, ast.Call):
            spec = FUNCTIONS[node.func.id]
            args = [replace(arg, i == 0 or not spec.constants) for i, arg in enumerate(node.args)]
            return build(node.func.id, args)
        return _build(node, {})

    return replace(expr.tree, True), tuple(found)


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
        return _real(node, _BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call):
        args = [_build(arg, bindings) for arg in node.args]
        return _real(node, build(node.func.id, args))
    raise TypeError(f"unvalidated node {type(node).__name__}")  # parse.py refuses these


def _real(node: ast.AST, value: sympy.Expr) -> sympy.Expr:
    """``value`` unless it is a constant that is not a real number (atanh(3), 1/(x-x)): such
    a sub-expression is undefined at every point (and SymPy cannot compare it in Max)."""
    if value.is_number and (
        value.is_extended_real is False or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
    ):
        what = "a division by zero" if value.has(sympy.zoo) else f"{value}, not a real number"
        raise EvaluationError(f"'{ast.unparse(node)}' is undefined at every point ({what})")
    return value


def constant(node: ast.AST) -> sympy.Expr | None:
    """The exact value of a sub-tree without names other than pi and E, else None."""
    value = _build(node, {})
    return value if not value.free_symbols else None


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def gradients(expr: sympy.Expr, params: tuple[str, ...]) -> tuple[sympy.Expr, ...]:
    """The exact partial derivative of ``expr`` with respect to each parameter.

    A derivative SymPy leaves unevaluated of a piecewise constant function (sign(Abs(w)/w))
    is 0, torch's convention (sign' = 0) at its jumps too."""
    return tuple(_steps_flat(diff(expr, symbol(name))) for name in params)


def _steps_flat(grad: sympy.Expr) -> sympy.Expr:
    def flat(node: sympy.Basic) -> bool:
        spec = isinstance(node, sympy.Derivative) and spec_of(node.expr.func)
        return bool(spec and spec.steps)

    return grad.replace(flat, lambda node: sympy.S.Zero) if grad.has(sympy.Derivative) else grad


class Lazy:
    """A prepared model's SymPy side, each part built on first use: the model (``z``), the
    per-sample loss, its gradient in every parameter (and ``built``: their compiled program,
    which ``pipeline`` keeps here). A check whose program came from the tree
    (``exact/adjoint.py``) and whose formulas nobody reads builds none of them."""

    def __init__(
        self, expr: Expr, formula: Callable[..., Any], target: str | None, params: Any
    ) -> None:
        self._expr, self._formula, self._target, self._params = expr, formula, target, params
        self.built: Any = None  # their program, once compiled (``pipeline``)
        self._formulas: dict[int, Formula] = {}

    @classmethod
    def known(cls, z: sympy.Expr, loss: sympy.Expr, grads: tuple[sympy.Expr, ...]) -> Lazy:
        """A SymPy side already built (a Hessian row: its loss is a gradient)."""
        found = cls(None, lambda *_: loss, None, ())  # type: ignore[arg-type]
        found.__dict__.update(z=z, loss=loss, grads=grads)
        return found

    @cached_property
    def z(self) -> sympy.Expr:
        return to_sympy(self._expr)

    @cached_property
    def loss(self) -> sympy.Expr:
        return self._formula(self.z, symbol(self._target) if self._target else None)

    @cached_property
    def grads(self) -> tuple[sympy.Expr, ...]:
        return gradients(self.loss, self._params)

    def formula(self, i: int) -> Formula:
        """Gradient ``i`` as a report prints it, built when printed."""
        return self._formulas.setdefault(i, Formula(self, i))


class Formula:
    """A gradient's formula: its SymPy gradient, built when printed."""

    def __init__(self, owner: Lazy, i: int) -> None:
        self.owner, self.i = owner, i

    def __str__(self) -> str:
        return str(self.owner.grads[self.i])

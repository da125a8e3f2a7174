"""What the tree tells of its SymPy expression without building it.

A model is *plain* when SymPy's expression of it can neither fold a part to a constant nor hold
a switch: every function is smooth (no switch, no jump, no root: SymPy's sqrt(x**2) is
Abs(x)), every power is an integer one, no constant is more than a number as typed, and
every sum, product and quotient keeps a name of each side that the other side lacks (x - x,
x/x and x*0 fold; w*x + b cannot). For a plain model, building the SymPy expression cannot
raise (a constant sub-expression that is undefined everywhere is the only error it finds) and
finds no kink, so a check that needs neither formula nor SymPy fallback skips it.

``inexact_constant`` says whether the model may hold a constant torch rounds (0.1, pi, 1/3);
only those models need the constants' sensitivities, which SymPy computes.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from functools import cache
from typing import Any

from gradcheck_cli.expr.catalog import FUNCTIONS

__all__ = ["inexact_constant", "plain", "smooth_loss"]


def plain(tree: ast.AST) -> bool:
    """Whether the model is plain (see the module's docstring)."""
    return bool(_kept(tree))


def _kept(node: ast.AST) -> frozenset[str] | None:
    """The names that certainly stay in SymPy's expression of ``node``; empty for a number as
    typed; None where SymPy may fold it, it holds a switch, or it is another constant."""
    if isinstance(node, ast.Constant):
        return frozenset() if _typed_number(node) else None
    if isinstance(node, ast.Name):
        return None if node.id in ("pi", "E") else frozenset((node.id,))
    if isinstance(node, ast.UnaryOp):
        return _kept(node.operand)
    if isinstance(node, ast.BinOp):
        return _binary(node)
    if isinstance(node, ast.Call) and _smooth_function(node.func.id):
        found = [_kept(arg) for arg in node.args]  # a number argument may fold: atan2(w, 0)
        return frozenset().union(*found) if all(found) else None
    return None


def _binary(node: ast.BinOp) -> frozenset[str] | None:
    left, right = _kept(node.left), _kept(node.right)
    if left is None or right is None or not (left or right):
        return None
    if isinstance(node.op, ast.Pow):
        exponent = _number(node.right)
        return left if type(exponent) is int and exponent != 0 and left else None
    if not left or not right:  # a number and a model: only 0 folds a product or quotient
        zero = isinstance(node.op, ast.Mult | ast.Div) and not _number(
            node.left if not left else node.right
        )
        return None if zero else left or right
    kept = (left - _names(node.right)) | (right - _names(node.left))
    return kept or None


def _number(node: ast.AST) -> Any:
    """The number as typed of a literal, its sign kept (None: not a literal)."""
    sign = 1
    while isinstance(node, ast.UnaryOp):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    return sign * node.value if _typed_number(node) else None


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _typed_number(node: ast.AST) -> bool:
    """A number as typed: an int or float literal."""
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


@cache
def _smooth_function(name: str) -> bool:
    """Whether SymPy's expression of ``name`` on symbols has no switch, no jump and no
    power but integer ones."""
    spec = FUNCTIONS.get(name)
    if spec is None or spec.switches is not None or spec.steps:
        return False
    from gradcheck_cli.exact.functions import build
    from gradcheck_cli.exact.symbolic import symbol

    return _smooth(build(name, [symbol(f"_a{i}") for i in range(max(spec.arity))]))


def smooth_loss(key: Any, formula: Any) -> bool:
    """Whether the loss ``formula`` (of the model's value and the target) has no switch, no
    jump and no power but integer ones; ``key`` names the loss with its options."""
    if key not in _LOSSES:
        from gradcheck_cli.exact.symbolic import symbol

        _LOSSES[key] = _smooth(formula(symbol("_z"), symbol("_y")))
    return _LOSSES[key]


_LOSSES: dict[Any, bool] = {}


def _smooth(expr: Any) -> bool:
    import sympy

    from gradcheck_cli.exact.functions import spec_of

    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Piecewise):
            return False
        if node.is_Pow and not node.exp.is_Integer:
            return False
        spec = spec_of(node.func) if isinstance(node, sympy.Function) else None
        if isinstance(node, sympy.Function) and (spec is None or spec.switches is not None):
            return False
    return True


def inexact_constant(node: ast.AST, numbers: bool = True) -> bool:
    """Whether the model may hold a constant torch cannot represent exactly (0.1, pi, 1/3): a
    part made of numbers, pi and E alone that is not an integer or a decimal whose double is
    exact. Decided as ``symbolic.to_sympy_with_constants`` finds them (``numbers``: this node
    may be one; an argument a function takes as a number is not, its parts may be); where
    this says True, that function decides."""
    if numbers and _numeric(node) and not (_typed_number(node) and type(node.value) is int):
        value = _number(node)
        return value is None or Fraction(repr(abs(value))) != Fraction(abs(value))
    if isinstance(node, ast.UnaryOp):
        return inexact_constant(node.operand)
    if isinstance(node, ast.BinOp):
        return inexact_constant(node.left) or inexact_constant(node.right)
    if isinstance(node, ast.Call):
        taken = FUNCTIONS[node.func.id].constants
        return any(inexact_constant(a, i == 0 or not taken) for i, a in enumerate(node.args))
    return False


def _numeric(node: ast.AST) -> bool:
    """A part ``expr.numbers.constant_value`` gives a value: numbers, pi and E, arithmetic."""
    if isinstance(node, ast.Constant):
        return _typed_number(node)
    if isinstance(node, ast.Name):
        return node.id in ("pi", "E")
    if isinstance(node, ast.UnaryOp):
        return _numeric(node.operand)
    return isinstance(node, ast.BinOp) and _numeric(node.left) and _numeric(node.right)

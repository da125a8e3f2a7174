"""Lowering: a validated expression tree -> a torch computation.

gradcheck's own lowering, not ``sympy.lambdify``: each call lowers to torch's own function
for that name (``relu`` -> ``torch.relu``), so torch's real backward formulas are what gets
verified; arithmetic is exactly what the user typed, in the order typed. ``overrides`` maps a
function name to a user implementation (for example a custom ``torch.autograd.Function``).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from .functions import CONSTANTS, FUNCTIONS
from .parse import Expr

Lowered = Callable[[Mapping[str, Any]], Any]

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def lower(expr: Expr, overrides: Mapping[str, Callable[..., Any]] | None = None) -> Lowered:
    """Compile ``expr`` once into a function of an environment (name -> tensor or number)."""
    return _compile(expr.tree, dict(overrides or {}))


def _compile(node: ast.AST, overrides: dict[str, Callable[..., Any]]) -> Lowered:
    if isinstance(node, ast.Constant):
        value = node.value
        return lambda env: value
    if isinstance(node, ast.Name):
        name = node.id
        if name in CONSTANTS:
            constant = CONSTANTS[name]
            return lambda env: constant
        return lambda env: env[name]
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand, overrides)
        if isinstance(node.op, ast.USub):
            return lambda env: -operand(env)
        return operand
    if isinstance(node, ast.BinOp):
        left, right = _compile(node.left, overrides), _compile(node.right, overrides)
        op = _BINARY[type(node.op)]
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.Call):
        return _compile_call(node, overrides)
    raise TypeError(f"unvalidated node {type(node).__name__}")  # parse.py refuses these


def _compile_call(node: ast.Call, overrides: dict[str, Callable[..., Any]]) -> Lowered:
    name = node.func.id
    function = overrides.get(name, FUNCTIONS[name].torch)
    args = [_compile(arg, overrides) for arg in node.args]

    def call(env: Mapping[str, Any]) -> Any:
        values = [arg(env) for arg in args]
        if values and not any(_is_tensor(v) for v in values):
            import torch

            values[0] = torch.as_tensor(values[0], dtype=env["__dtype__"])
        return function(*values)

    return call


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "requires_grad")

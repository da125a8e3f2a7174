"""The expression lowered to torch: gradcheck's own lowering, not ``sympy.lambdify``.

Each call lowers to torch's own function for that name (``relu`` -> ``torch.relu``), so torch's
real backward formulas are what gets verified; arithmetic is exactly what the user typed, in
the order typed. ``overrides`` maps a function name to a user implementation (a custom
``torch.autograd.Function``, a fused kernel); ``lower_impl`` makes the user's whole model
function the model (``--impl``). torch is imported only when a lowered function runs.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from gradcheck_cli.expr.catalog import CONSTANTS, FUNCTIONS
from gradcheck_cli.expr.numbers import constant_value, python_value
from gradcheck_cli.expr.parse import Expr

Lowered = Callable[[Mapping[str, Any]], Any]

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def lower(expr: Expr, overrides: Mapping[str, Callable[..., Any]] | None = None) -> Lowered:
    """Compile ``expr`` once into a function of an environment (name -> tensor or number).

    A user-defined function runs its body (``define.Definition``) unless ``overrides`` lowers
    its name to the user's own implementation: then the model as typed is compiled, the call
    kept, so that implementation is what runs (and is checked against the definition)."""
    overrides = dict(overrides or {})
    definitions = expr.definitions if expr.source is not None else {}
    if set(overrides) & set(definitions):
        return _compile(expr.source, overrides, definitions)
    return _compile(expr.tree, overrides, {})


def lower_impl(function: Callable[..., Any], symbols: tuple[str, ...]) -> Lowered:
    """The whole model as the user's function (``--impl``), called with one keyword tensor per
    symbol of the model (inputs with one entry per sample; parameters requiring grad)."""

    def call(env: Mapping[str, Any]) -> Any:
        return function(**{name: env[name] for name in symbols})

    return call


_ORIGIN: list[str] = []  # the sub-expressions whose operation torch runs now, innermost last


def current_origin() -> str:
    """The sub-expression of the model whose operation torch is running ('' if none): the
    recording names the aten ops of the forward pass by it."""
    return _ORIGIN[-1] if _ORIGIN else ""


def attributed(text: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` with ``text`` as the current origin; its result's autograd node carries
    ``text`` too (``grad_fn.metadata``), so the backward's aten ops are named by it."""
    _ORIGIN.append(text)
    try:
        out = compute()
    finally:
        _ORIGIN.pop()
    node = getattr(out, "grad_fn", None)
    if node is not None:
        node.metadata.setdefault(ORIGIN_KEY, text)
    return out


ORIGIN_KEY = "gradcheck_origin"


def _compile(
    node: ast.AST, overrides: dict[str, Callable[..., Any]], definitions: Mapping[str, Any]
) -> Lowered:
    if (
        isinstance(node, ast.Constant | ast.BinOp | ast.UnaryOp)
        and constant_value(node) is not None
    ):
        value = python_value(node)  # computed once; beyond int64: a float
        return lambda env: value
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
        operand = _compile(node.operand, overrides, definitions)
        if isinstance(node.op, ast.USub):
            text = ast.unparse(node)
            return lambda env: (lambda v: attributed(text, lambda: -v))(operand(env))
        return operand
    if isinstance(node, ast.BinOp):
        left = _compile(node.left, overrides, definitions)
        right = _compile(node.right, overrides, definitions)
        op, text = _BINARY[type(node.op)], ast.unparse(node)
        return lambda env: (lambda a, b: attributed(text, lambda: op(a, b)))(left(env), right(env))
    if isinstance(node, ast.Call):
        if node.func.id in definitions and node.func.id not in overrides:
            return _compile_defined(node, overrides, definitions)
        return _compile_call(node, overrides, definitions)
    raise TypeError(f"unvalidated node {type(node).__name__}")  # parse.py refuses these


def _compile_defined(
    node: ast.Call, overrides: dict[str, Callable[..., Any]], definitions: Mapping[str, Any]
) -> Lowered:
    """A call of a user-defined function: its body, in an environment of its arguments."""
    definition = definitions[node.func.id]
    args = [_compile(arg, overrides, definitions) for arg in node.args]
    body = _compile(definition.body, overrides, definitions)
    params = definition.params

    def call(env: Mapping[str, Any]) -> Any:
        inner = {"__dtype__": env["__dtype__"]}
        inner.update((p, arg(env)) for p, arg in zip(params, args, strict=True))
        return body(inner)

    return call


def _compile_call(
    node: ast.Call, overrides: dict[str, Callable[..., Any]], definitions: Mapping[str, Any]
) -> Lowered:
    name = node.func.id
    function = overrides[name] if name in overrides else FUNCTIONS[name].torch
    args = [_compile(arg, overrides, definitions) for arg in node.args]

    text = ast.unparse(node)

    def call(env: Mapping[str, Any]) -> Any:
        values = [arg(env) for arg in args]
        if values and not any(_is_tensor(v) for v in values):
            import torch

            values[0] = torch.as_tensor(values[0], dtype=env["__dtype__"])
        return attributed(text, lambda: function(*values))

    return call


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "requires_grad")

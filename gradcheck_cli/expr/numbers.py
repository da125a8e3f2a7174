"""The numbers of an expression: folding, bounds, and what torch receives.

Typed numbers are bounded at parse time (``parse.py`` names the column): at most 1e300,
not below float64's smallest normal, and a call of numbers only (``exp(exp(2))``,
``pow(2, 1024)``) is evaluated to 53 bits so that its magnitude is bounded too: SymPy would fold
it exactly, without bound. ``check_dtype`` refuses numbers the working dtype cannot hold, and
``python_value`` is the number torch receives for a subtree of numbers. Standard library, and
mpmath (imported only for calls of numbers).
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any

from gradcheck_cli.dtypes import DTYPES
from gradcheck_cli.errors import GradcheckError, UnsupportedError
from gradcheck_cli.expr.catalog import CONSTANTS, FUNCTIONS

MAX_EXPONENT = 1024
MAX_CONSTANT = 1e300
SMALLEST_NORMAL = 2.0**-1022  # float64's: smaller nonzero constants are refused
INT64 = 2**63
_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


class TooLarge(Exception):
    """A subtree of numbers beyond MAX_CONSTANT: ``node`` and why (parse adds the column)."""

    def __init__(self, node: ast.AST, message: str) -> None:
        super().__init__(message)
        self.node, self.message = node, message


def constant_value(node: ast.AST) -> float | None:
    """The float value of a subtree made only of numbers, or None if it has a symbol."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp):
        value = constant_value(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp):
        left, right = constant_value(node.left), constant_value(node.right)
        if left is None or right is None:
            return None
        op = type(node.op)
        if op is ast.Pow:
            if abs(right) > MAX_EXPONENT:
                raise OverflowError(f"exponent larger than {MAX_EXPONENT}")
            result = math.pow(left, right)
        else:
            result = {
                ast.Add: left + right,
                ast.Sub: left - right,
                ast.Mult: left * right,
                ast.Div: left / right if right else None,
            }[op]
            if result is None:
                raise ZeroDivisionError("division by zero")
        return result
    return None


def underflows(node: ast.BinOp, value: float) -> bool:
    """Whether ``value``, the float of a subtree of numbers, lost its magnitude: subnormal, or
    0 from a product, quotient or power of nonzero numbers (``1e-200*1e-200``)."""
    if value:
        return abs(value) < SMALLEST_NORMAL
    if isinstance(node.op, ast.Mult | ast.Div):
        return bool(constant_value(node.left)) and bool(constant_value(node.right))
    return isinstance(node.op, ast.Pow) and bool(constant_value(node.left))


def check_dtype(tree: ast.expr, text: str, dtype: str) -> None:
    """Refuse every number torch would receive (each maximal subtree of numbers, which Python
    computes in float64) that overflows ``dtype`` or is subnormal in it, naming its column."""
    info = DTYPES[dtype]
    normal = info.tiny * 2.0 ** (info.bits - 1)
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        value = constant_value(node) if isinstance(node, ast.BinOp | ast.UnaryOp) else None
        if isinstance(node, ast.Constant | ast.Name):
            value = constant_value(node)
        if value is None:
            stack.extend(reversed(list(ast.iter_child_nodes(node))))  # leftmost first
            continue
        typed = ast.get_source_segment(text, node) or ast.unparse(node)
        plain = isinstance(node, ast.Constant) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant)
        )
        shown = typed if plain else f"{typed} = {value:.6g}"
        if abs(value) > info.max:
            problem = f"constant {shown} overflows {dtype} (largest {info.max:.4g})"
        elif 0 < abs(value) < normal:
            problem = f"constant {shown} is subnormal in {dtype} (smallest normal {normal:.4g})"
        else:
            continue
        raise UnsupportedError(problem, text, node.col_offset + 1)


def python_value(node: ast.AST) -> Any:
    """The number torch receives for a subtree of numbers, computed as Python computes it
    (parse bounds its size); an integer beyond int64, which torch cannot take, becomes the float
    Python rounds it to (the symbolic side keeps the exact integer, as it keeps 0.1 exact)."""
    value = _python(node)
    return float(value) if isinstance(value, int) and not -INT64 <= value < INT64 else value


def _python(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _python(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    assert isinstance(node, ast.BinOp)
    return _OPERATORS[type(node.op)](_python(node.left), _python(node.right))


class Folder:
    """Values of the subtrees of numbers, calls of numbers included, each bounded as it is
    folded (inner first): ``call`` raises TooLarge at the first one beyond MAX_CONSTANT."""

    def __init__(self) -> None:
        self.values: dict[int, Any] = {}  # id(node) -> mpmath value of a call of numbers

    def call(self, node: ast.Call) -> None:
        """A call of numbers only (nested ones included) is evaluated, to 53 bits, so that its
        magnitude is bounded like a typed constant's: SymPy would fold it exactly, without
        bound (pow(pow(2, 1024), 1024), a tower of exp)."""
        args = [self.fold(arg) for arg in node.args]
        if any(a is None for a in args):
            return
        ctx = _context()
        try:
            value = FUNCTIONS[node.func.id].evaluate_at(ctx, [ctx.mpf(a) for a in args])
        except (ArithmeticError, ValueError, TypeError, GradcheckError):
            return  # undefined there (log(-1), 1/0): the exact side says so
        magnitude = abs(value)
        if not ctx.isfinite(magnitude) or magnitude > MAX_CONSTANT:
            raise TooLarge(node, f"constant '{ast.unparse(node)}' is too large")
        if isinstance(value, ctx.mpf):
            self.values[id(node)] = value

    def fold(self, node: ast.AST) -> Any:
        """The value of a subtree of numbers and calls of numbers (already bounded), or None."""
        if id(node) in self.values:
            return self.values[id(node)]
        if isinstance(node, ast.UnaryOp):
            value = self.fold(node.operand)
            return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
        if isinstance(node, ast.BinOp):
            left, right = self.fold(node.left), self.fold(node.right)
            if left is None or right is None:
                return None
            try:
                value = _OPERATORS[type(node.op)](left, right)
            except (ArithmeticError, ValueError):
                return None
            if not isinstance(value, _context().mpf):
                return None  # complex: undefined, left to the exact side
            if not _context().isfinite(value) or abs(value) > MAX_CONSTANT:
                raise TooLarge(node, f"constant '{ast.unparse(node)}' is too large")
            return value
        plain = constant_value(node) if isinstance(node, ast.Constant | ast.Name) else None
        return None if plain is None else _context().mpf(plain)


_CONTEXT: list[Any] = []


def _context() -> Any:
    """A private mpmath context at 53 bits (imported only for calls of numbers)."""
    if not _CONTEXT:
        import mpmath

        _CONTEXT.append(mpmath.MPContext())
    return _CONTEXT[0]

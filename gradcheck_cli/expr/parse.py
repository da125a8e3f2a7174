"""Expression text -> a validated Python AST, through an allow-list of node types.

Nothing here imports SymPy or torch: a parse error costs only the standard library.
The validated tree is the one intermediate form of a model: ``symbolic`` builds the SymPy
expression from it and ``lowering`` builds the torch computation from it, so both sides
compute what the user typed. User text never reaches ``eval``, ``sympify`` or ``parse_expr``.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass

from gradcheck_cli.errors import ParseError, UnsupportedError
from gradcheck_cli.expr.catalog import CONSTANTS, FUNCTIONS, check_arity, constant_argument

MAX_LENGTH = 2000
MAX_DEPTH = 60
MAX_NODES = 600
MAX_EXPONENT = 1024
MAX_CONSTANT = 1e300

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}
_REFUSED = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.Compare: "comparisons",
    ast.BoolOp: "boolean operators",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignment expressions",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dictionaries",
    ast.Set: "sets",
    ast.JoinedStr: "f-strings",
    ast.Starred: "starred arguments",
    ast.Await: "await",
    ast.ListComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.Slice: "slices",
}


@dataclass(frozen=True)
class Expr:
    """A validated expression: its text, its AST and its symbols in order of first appearance."""

    text: str
    tree: ast.expr
    symbols: tuple[str, ...]

    def __str__(self) -> str:
        return self.text


def parse(text: str, reserved: frozenset[str] = frozenset()) -> Expr:
    """Parse and validate ``text``; raise ParseError or UnsupportedError naming the column."""
    if not text.strip():
        raise ParseError("empty expression")
    if len(text) > MAX_LENGTH:
        raise UnsupportedError(f"expression is {len(text)} characters long (at most {MAX_LENGTH})")
    if "\n" in text or "\r" in text:
        raise ParseError("expression must be on one line")
    shift = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        if not exc.offset or exc.offset > len(text.strip()):
            raise ParseError("unexpected end of expression", text, len(text) + 1) from None
        detail = "" if exc.msg == "invalid syntax" else f": {exc.msg}"
        raise ParseError(f"invalid syntax{detail}", text, exc.offset + shift) from None
    except (RecursionError, MemoryError):
        raise UnsupportedError("expression is nested too deeply") from None
    _Validator(text, shift, reserved).check(tree, depth=0)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id not in CONSTANTS and id(n) not in called
    ]
    names.sort(key=lambda n: n.col_offset)
    symbols = tuple(dict.fromkeys(n.id for n in names))
    return Expr(text=text.strip(), tree=tree, symbols=symbols)


class _Validator:
    def __init__(self, text: str, shift: int, reserved: frozenset[str]):
        self.text, self.shift, self.reserved, self.count = text, shift, reserved, 0

    def fail(self, cls: type, message: str, node: ast.AST) -> None:
        raise cls(message, self.text, getattr(node, "col_offset", 0) + 1 + self.shift)

    def check(self, node: ast.AST, depth: int) -> None:
        self.count += 1
        if depth > MAX_DEPTH:
            self.fail(UnsupportedError, f"expression nested deeper than {MAX_DEPTH} levels", node)
        if self.count > MAX_NODES:
            self.fail(UnsupportedError, f"expression has more than {MAX_NODES} nodes", node)
        method = getattr(self, "check_" + type(node).__name__, None)
        if method is None:
            what = _REFUSED.get(type(node), f"'{type(node).__name__}' syntax")
            if isinstance(node, ast.Attribute):
                what = f"attribute access ('.{node.attr}')"
            self.fail(ParseError, f"{what} not allowed", node)
        method(node, depth)

    def check_BinOp(self, node: ast.BinOp, depth: int) -> None:
        if type(node.op) not in _BINOPS:
            self.fail(ParseError, "operator not allowed (use + - * / **)", node)
        self.check(node.left, depth + 1)
        self.check(node.right, depth + 1)
        try:
            value = constant_value(node)
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            self.fail(UnsupportedError, f"constant cannot be computed ({exc})", node)
        if value is not None and not abs(value) <= MAX_CONSTANT:
            self.fail(UnsupportedError, "constant is too large", node)
        if isinstance(node.op, ast.Div) and constant_value(node.right) == 0:
            self.fail(UnsupportedError, "division by zero", node)
        if isinstance(node.op, ast.Pow):
            exponent = constant_value(node.right)
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                self.fail(UnsupportedError, f"exponent larger than {MAX_EXPONENT}", node.right)

    def check_UnaryOp(self, node: ast.UnaryOp, depth: int) -> None:
        if type(node.op) not in _UNARY:
            self.fail(ParseError, "operator not allowed (use unary - or +)", node)
        self.check(node.operand, depth + 1)

    def check_Constant(self, node: ast.Constant, depth: int) -> None:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(ParseError, f"{type(value).__name__} constant not allowed", node)
        if abs(value) > MAX_CONSTANT or not math.isfinite(value):
            self.fail(UnsupportedError, "constant is too large", node)

    def check_Name(self, node: ast.Name, depth: int) -> None:
        if node.id.startswith("_"):
            self.fail(ParseError, f"name '{node.id}' not allowed (names cannot start with _)", node)
        if node.id in FUNCTIONS:
            self.fail(ParseError, f"function '{node.id}' used without a call", node)
        if node.id in self.reserved:
            self.fail(ParseError, f"name '{node.id}' is reserved here", node)

    def check_Call(self, node: ast.Call, depth: int) -> None:
        if not isinstance(node.func, ast.Name):
            self.check(node.func, depth + 1)  # names the real problem (attribute, ...)
            self.fail(ParseError, "only calls of named functions are allowed", node)
        name = node.func.id
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            self.fail(UnsupportedError, f"unknown function '{name}' (supported: {known})", node)
        if node.keywords:
            self.fail(ParseError, f"keyword arguments not allowed in '{name}(...)'", node)
        problem = check_arity(name, len(node.args))
        if problem:
            self.fail(ParseError, problem, node)
        for index, arg in enumerate(node.args):
            self.check(arg, depth + 1)
            argument = constant_argument(name, index)
            if argument and constant_value(arg) is None:
                self.fail(
                    UnsupportedError,
                    f"'{name}': argument {index + 1} ({argument}) must be "
                    f"a number, not '{ast.unparse(arg)}'",
                    arg,
                )


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

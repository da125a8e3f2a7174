"""Expression text -> a validated Python AST, through an allow-list of node types.

Nothing here imports SymPy or torch: a parse error costs only the standard library.
The validated tree is the one intermediate form of a model: ``symbolic`` builds the SymPy
expression from it and ``lowering`` builds the torch computation from it, so both sides
compute what the user typed. User text never reaches ``eval``, ``sympify`` or ``parse_expr``.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gradcheck_cli.errors import ParseError, UnsupportedError
from gradcheck_cli.expr.catalog import CONSTANTS, FUNCTIONS, check_arity, constant_argument
from gradcheck_cli.expr.define import Definition, expand
from gradcheck_cli.expr.numbers import (
    MAX_CONSTANT,
    MAX_EXPONENT,
    SMALLEST_NORMAL,
    Folder,
    TooLarge,
    check_dtype,
    constant_value,
    underflows,
)
from gradcheck_cli.expr.text import check_characters, syntax_error, unknown_function

MAX_LENGTH = 2000
MAX_DEPTH = 60  # a run of + and - (or of * and /) is one level: a+b+c+... is flat
MAX_NODES = 600
_CHAIN = {ast.Add: "+", ast.Sub: "+", ast.Mult: "*", ast.Div: "*"}  # operators of one chain

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
    tree: ast.expr  # what the model means: user-defined functions expanded (``define.expand``)
    symbols: tuple[str, ...]
    source: ast.expr | None = None  # as typed, calls of user-defined functions kept (or None)
    definitions: Mapping[str, Definition] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


def parse(
    text: str,
    reserved: frozenset[str] = frozenset(),
    dtype: str | None = None,
    definitions: Mapping[str, Definition] | None = None,
) -> Expr:
    """Parse and validate ``text``; raise ParseError or UnsupportedError naming the column.

    ``dtype``: also refuse numbers the working dtype cannot hold (``check_dtype``);
    ``definitions``: user-defined functions the text may call (``define.parse_definitions``)."""
    definitions = dict(definitions or {})
    if not isinstance(text, str):
        raise ParseError(f"the expression must be text, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty expression")
    if len(text) > MAX_LENGTH:
        raise UnsupportedError(f"expression is {len(text)} characters long (at most {MAX_LENGTH})")
    if "\n" in text or "\r" in text:
        raise ParseError("expression must be on one line")
    check_characters(text)
    shift = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise syntax_error(exc, text, shift) from None
    except (RecursionError, MemoryError):
        raise UnsupportedError("expression is nested too deeply") from None
    _Validator(text, shift, reserved, definitions).check(tree, depth=0)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    called = {id(n.func) for n in calls}
    names = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id not in CONSTANTS and id(n) not in called
    ]
    names.sort(key=lambda n: n.col_offset)
    symbols = tuple(dict.fromkeys(n.id for n in names))
    used = {n.func.id for n in calls} & set(definitions)
    if used:
        expr = Expr(text.strip(), expand(tree, definitions), symbols, tree, definitions)
    else:
        expr = Expr(text=text.strip(), tree=tree, symbols=symbols)
    if dtype is not None:
        check_dtype(expr.tree, expr.text, dtype)
    return expr


_OPERATORS = {
    ast.BitXor: "^",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
}


class _Validator:
    def __init__(
        self, text: str, shift: int, reserved: frozenset[str], definitions: Mapping[str, Any]
    ):
        self.text, self.shift, self.reserved, self.count = text, shift, reserved, 0
        self.definitions = definitions
        self.source = text.strip()
        self.folder = Folder()

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
            symbol = _OPERATORS.get(type(node.op), "")
            start, end = node.left.end_col_offset or 0, node.right.col_offset
            column = self.source.find(symbol, start, end) if symbol else -1
            where = node if column < 0 else ast.Constant(0, col_offset=column)
            if symbol == "^":
                self.fail(ParseError, "'^' is not a power in Python: use ** for powers", where)
            self.fail(ParseError, f"operator '{symbol}' not allowed (use + - * / **)", where)
        chain = _CHAIN.get(type(node.op))
        left_chain = isinstance(node.left, ast.BinOp) and _CHAIN.get(type(node.left.op))
        self.check(node.left, depth if chain and left_chain == chain else depth + 1)
        self.check(node.right, depth + 1)
        try:
            value = constant_value(node)
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            self.fail(UnsupportedError, f"constant cannot be computed ({exc})", node)
        if value is not None and not abs(value) <= MAX_CONSTANT:
            self.fail(UnsupportedError, "constant is too large", node)
        if value is not None and underflows(node, value):
            self.fail(
                UnsupportedError,
                f"constant {ast.get_source_segment(self.source, node)} = {value:.3g} "
                "underflows (below float64's smallest normal 2.2e-308)",
                node,
            )
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
        typed = ast.get_source_segment(self.source, node) or repr(value)
        mantissa = typed.lower().partition("e")[0]
        if (value and abs(value) < SMALLEST_NORMAL) or (
            not value and isinstance(value, float) and any(c in "123456789" for c in mantissa)
        ):
            self.fail(
                UnsupportedError,
                f"constant {typed} is below float64's smallest normal 2.2e-308",
                node,
            )

    def check_Name(self, node: ast.Name, depth: int) -> None:
        if node.id.startswith("_"):
            self.fail(ParseError, f"name '{node.id}' not allowed (names cannot start with _)", node)
        if node.id in FUNCTIONS or node.id in self.definitions:
            self.fail(ParseError, f"function '{node.id}' used without a call", node)
        if node.id in self.reserved:
            self.fail(ParseError, f"name '{node.id}' is reserved here", node)

    def check_Call(self, node: ast.Call, depth: int) -> None:
        if not isinstance(node.func, ast.Name):
            self.check(node.func, depth + 1)  # names the real problem (attribute, ...)
            self.fail(
                ParseError,
                "only calls of named functions are allowed (for a product write *)",
                node,
            )
        name = node.func.id
        if name in self.definitions:
            return self.check_defined_call(node, depth)
        if name not in FUNCTIONS:
            self.fail(UnsupportedError, unknown_function(name, self.definitions), node)
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
        self.check_constraints(node)
        try:
            self.folder.call(node)
        except TooLarge as exc:
            self.fail(UnsupportedError, f"{exc.message} (at most {MAX_CONSTANT:g})", exc.node)

    def check_defined_call(self, node: ast.Call, depth: int) -> None:
        definition = self.definitions[node.func.id]
        if node.keywords:
            self.fail(
                ParseError, f"keyword arguments not allowed in '{definition.name}(...)'", node
            )
        if len(node.args) != len(definition.params):
            wanted = len(definition.params)
            self.fail(
                ParseError,
                f"'{definition.name}' takes {wanted} argument{'s' * (wanted != 1)} "
                f"({', '.join(definition.params)}), got {len(node.args)}",
                node,
            )
        for arg in node.args:
            self.check(arg, depth + 1)

    def check_constraints(self, node: ast.Call) -> None:
        """torch's own constraints on the number arguments (``FunctionSpec.constraints``)."""
        spec = FUNCTIONS[node.func.id]
        if spec.constraints is None or not spec.constants:
            return
        typed = [constant_value(arg) for arg in node.args[1:]]
        values = [*typed, *(float(d) for d in spec.defaults[len(typed) :])]
        problem = spec.constraints(*values)
        if problem:
            index, message = problem
            where = node.args[index - 1] if index <= len(node.args) else node
            self.fail(UnsupportedError, f"'{node.func.id}': {message}", where)

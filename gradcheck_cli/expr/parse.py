"""Expression text -> a validated Python AST, through an allow-list of node types.

Nothing here imports SymPy or torch: a parse error costs only the standard library.
The validated tree is the one intermediate form of a model: ``symbolic`` builds the SymPy
expression from it and ``lowering`` builds the torch computation from it, so both sides
compute what the user typed. User text never reaches ``eval``, ``sympify`` or ``parse_expr``.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

from gradcheck_cli.errors import ParseError, UnsupportedError
from gradcheck_cli.expr.catalog import CONSTANTS, FUNCTIONS, check_arity, constant_argument
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
from gradcheck_cli.values import closest

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
    tree: ast.expr
    symbols: tuple[str, ...]

    def __str__(self) -> str:
        return self.text


def parse(text: str, reserved: frozenset[str] = frozenset(), dtype: str | None = None) -> Expr:
    """Parse and validate ``text``; raise ParseError or UnsupportedError naming the column.

    ``dtype``: also refuse numbers the working dtype cannot hold (``check_dtype``)."""
    if not isinstance(text, str):
        raise ParseError(f"the expression must be text, got {type(text).__name__}")
    if not text.strip():
        raise ParseError("empty expression")
    if len(text) > MAX_LENGTH:
        raise UnsupportedError(f"expression is {len(text)} characters long (at most {MAX_LENGTH})")
    if "\n" in text or "\r" in text:
        raise ParseError("expression must be on one line")
    _check_characters(text)
    shift = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise _syntax_error(exc, text, shift) from None
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
    expr = Expr(text=text.strip(), tree=tree, symbols=symbols)
    if dtype is not None:
        check_dtype(expr.tree, expr.text, dtype)
    return expr


# A number run into a name, as in '2x' or '1.5e3w' (Python: "invalid decimal literal").
_NUMBER_NAME = re.compile(
    r"(?<![\w.])((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)([A-Za-z_]\w*)"
)
_GAP = re.compile(r"[\w).]\s+(?=[\w(.])")  # two terms side by side: 'w x', '2 (x+1)'
# Operators Python has and gradcheck does not; '^' is a power elsewhere, not in Python.
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


def _syntax_error(exc: SyntaxError, text: str, shift: int) -> ParseError:
    """Python's complaint, or what was meant: '2x' is 2*x, 'w x' lacks an operator."""
    source = text.strip()
    if not exc.offset or exc.offset > len(source):
        return ParseError("unexpected end of expression", text, len(text) + 1)
    if "literal" in exc.msg:
        for match in _NUMBER_NAME.finditer(source):
            if match.start() < exc.offset <= match.end():
                product = "*".join(match.groups())
                return ParseError(f"write {product} for a product", text, match.start() + 1 + shift)
    if exc.msg.startswith("invalid syntax"):  # 'w x', or 'tanh(w x)' ("forgot a comma?")
        last = (exc.end_offset or exc.offset) - 1
        gap = next((g for g in _GAP.finditer(source) if exc.offset - 1 <= g.end() <= last), None)
        if gap:
            return ParseError(
                "missing operator between two terms (write * for a product)",
                text,
                gap.end() + 1 + shift,
            )
    detail = "" if exc.msg == "invalid syntax" else f": {exc.msg}"
    return ParseError(f"invalid syntax{detail}", text, exc.offset + shift)


def _check_characters(text: str) -> None:
    """Refuse what Python's tokenizer would drop or fold: bytes that are not UTF-8 (surrogate
    escapes from the command line), lone surrogates, non-ASCII characters (NFKC folds 'ｗ' into
    'w'), control characters and '#' comments."""
    for column, char in enumerate(text, 1):
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            problem = f"byte 0x{code - 0xDC00:02x} is not valid UTF-8"
        elif 0xD800 <= code <= 0xDFFF:
            problem = f"lone surrogate U+{code:04X} not allowed"
        elif code > 127:
            problem = f"non-ASCII character U+{code:04X} not allowed (names are ASCII)"
        elif (code < 32 and char != "\t") or code == 127:
            problem = f"control character U+{code:04X} not allowed"
        elif char == "#":
            problem = "comments ('#') not allowed"
        else:
            continue
        raise ParseError(problem, _printable(text), column)


def _printable(text: str) -> str:
    """``text`` for an error message, each character that is not printable ASCII shown as '?':
    the message prints under any locale and the column still counts characters."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in text)


class _Validator:
    def __init__(self, text: str, shift: int, reserved: frozenset[str]):
        self.text, self.shift, self.reserved, self.count = text, shift, reserved, 0
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
        if node.id in FUNCTIONS:
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
        if name not in FUNCTIONS:
            self.fail(UnsupportedError, _unknown_function(name), node)
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


def _unknown_function(name: str) -> str:
    """'tahn' -> did you mean 'tanh'; a name close to none -> the list (and, for a name of
    the model called like a function, how to write a product)."""
    close = closest(name, FUNCTIONS)
    if close:
        return f"unknown function '{name}' (did you mean '{close}'?)"
    known = ", ".join(sorted(FUNCTIONS))
    product = f"; for a product write '{name}*(...)'" if len(name) <= 2 else ""
    return f"unknown function '{name}' (supported: {known}{product})"

"""Expressions compiled once into one straight-line program, evaluated in Arb balls.

``compile_program`` turns SymPy expressions (the loss, the model, every gradient) and the
validated tree as typed into one list of steps, each sub-expression once however many of them
share it (the model inside every gradient of a loss), so a point costs one pass linear in the
size of the whole. Each step is what ``evaluate._Evaluator`` (SymPy) or ``typed._Typed`` (the
tree as typed) does at that node, the catalog's evaluators called with ``ball.BallContext``.

A step that fails (outside a domain, a branch a ball straddles, an argument near the caps on
magnitude, a function without an interval version, a non-finite ball) gives no value, and so
does every step that needs it (``exact/certify.py`` runs the program).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import partial, reduce
from itertools import repeat
from operator import add, mul, neg, sub
from typing import Any

import sympy
from flint import arb

from gradcheck_cli.errors import GradcheckError
from gradcheck_cli.exact.ball import Ball
from gradcheck_cli.exact.evaluate import (
    unevaluated_derivative,
)
from gradcheck_cli.exact.functions import spec_of
from gradcheck_cli.exact.symbolic import constant
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.expr.catalog import numeric as n
from gradcheck_cli.expr.catalog.numeric import DomainError, decide

__all__ = ["COLUMNWISE", "FAILURES", "Program", "compile_program"]

FAILURES = (GradcheckError, ArithmeticError, ValueError, TypeError)  # a step without a value


@dataclass(frozen=True)
class Program:
    """Steps (slot, function, argument slots, lazy): each function takes the context and its
    arguments' ``arb`` values and returns an ``arb`` (the catalog's evaluators see ``Ball``s);
    a lazy step sees arguments without a value (None) and decides itself (a piecewise
    function needs only its chosen branch)."""

    size: int
    inputs: tuple[tuple[int, str], ...]
    constants: tuple[tuple[int, Callable[..., Any], tuple[int, ...], bool], ...]
    steps: tuple[tuple[int, Callable[..., Any], tuple[int, ...], bool], ...]
    outputs: tuple[int | None, ...]  # per expression its slot; None: not compiled


class _Unsupported(Exception):
    """A node the program does not evaluate (its expression goes the mpmath way)."""


def compile_program(exprs: Sequence[sympy.Expr], tree: ast.AST | None = None) -> Program:
    """One program for ``exprs`` and, last, the validated ``tree`` as typed (if given)."""
    c = _Compiler()
    outputs = [c.output(c.sympy, e) for e in exprs]
    if tree is not None:
        outputs.append(c.output(c.typed, tree))
    constants = tuple(s for s in c.steps if s[0] in c.constant)
    steps = tuple(s for s in c.steps if s[0] not in c.constant)
    return Program(c.size, tuple(c.inputs.items()), constants, steps, tuple(outputs))


class _Compiler:
    def __init__(self) -> None:
        self.memo: dict[Any, int] = {}
        self.inputs: dict[int, str] = {}
        self.steps: list[tuple[int, Callable[..., Any], tuple[int, ...], bool]] = []
        self.constant: set[int] = set()
        self.size = 0

    def output(self, build: Callable[[Any], int], node: Any) -> int | None:
        try:
            return build(node)
        except (_Unsupported, GradcheckError, RecursionError):
            return None

    def step(self, key: Any, fn: Callable[..., Any], args: Sequence[int], lazy=False) -> int:
        if key not in self.memo:
            slot, self.size = self.size, self.size + 1
            self.steps.append((slot, fn, tuple(args), lazy))
            if all(a in self.constant for a in args):
                self.constant.add(slot)
            self.memo[key] = slot
        return self.memo[key]

    def input(self, name: str) -> int:
        if ("input", name) not in self.memo:
            self.memo[("input", name)], self.size = self.size, self.size + 1
            self.inputs[self.memo[("input", name)]] = name
        return self.memo[("input", name)]

    def number(self, p: int, q: int = 1) -> int:
        return self.step(("number", p, q), _balls(lambda ctx: ctx.mpf(p) / q), ())

    def named(self, name: str) -> int:  # pi, E, EulerGamma
        return self.step(("named", name), _balls(lambda ctx: getattr(ctx, name)), ())

    def sympy(self, node: sympy.Expr) -> int:
        if node not in self.memo:
            self.memo[node] = self.sympy_node(node)
        return self.memo[node]

    def sympy_node(self, node: sympy.Expr) -> int:
        if node.is_Symbol:
            return self.input(node.name)
        if node.is_Integer:
            return self.number(int(node))
        if node.is_Rational:
            return self.number(int(node.p), int(node.q))
        named = {sympy.pi: "pi", sympy.E: "e", sympy.EulerGamma: "euler"}
        if node in named:
            return self.named(named[node])
        args = [self.sympy(a) for a in node.args] if node.is_Add or node.is_Mul else ()
        if node.is_Add:
            return self.step(("add", *args), _sum, args)
        if node.is_Mul:
            return self.step(("mul", *args), _product, args)
        if node.is_Pow:
            return self.power(self.sympy, *node.args, constant=node.exp)
        if isinstance(node, sympy.Piecewise):
            return self.piecewise(node)
        if isinstance(node, sympy.Derivative):
            return self.sympy(unevaluated_derivative(node))
        spec = spec_of(node.func)
        if node.is_number and not node.is_extended_real or spec is None or not spec.interval:
            raise _Unsupported(node)
        args = [self.sympy(a) for a in node.args]
        return self.step(("call", spec.name, *args), partial(_call, spec), args)

    def power(self, build: Callable[[Any], int], base: Any, exponent: Any, constant: Any) -> int:
        """base**exponent as ``numeric.power``: an integer or 1/2 exponent (``constant``, an
        exact SymPy number or None) has its own rule."""
        b = build(base)
        if constant is not None and constant.is_Integer:
            k = int(constant)
            fn = _natural(k) if k >= 0 else _balls(lambda c, x: n.power(c, x, None, k))
            return self.step(("powi", b, k), fn, [b])
        if constant == sympy.Rational(1, 2):
            root = _balls(lambda c, x: n.power(c, x, None, half=True))
            return self.step(("sqrt", b), root, [b])
        e = build(exponent)
        return self.step(("pow", b, e), _balls(n.power), [b, e])

    def piecewise(self, node: sympy.Piecewise) -> int:
        args: list[int] = []

        def at(slot: int) -> int:
            args.append(slot)
            return len(args) - 1

        branches = tuple((at(self.sympy(e)), self.condition(c, at)) for e, c in node.args)
        return self.step(("piecewise", node), partial(_choose, branches), args, lazy=True)

    def condition(self, cond: sympy.Basic, at: Callable[[int], int]) -> Any:
        if cond is sympy.true or cond is sympy.false:
            return bool(cond)
        if isinstance(cond, sympy.Or | sympy.And):
            return (type(cond), tuple(self.condition(c, at) for c in cond.args))
        if type(cond) not in _RELATIONS:
            raise _Unsupported(cond)
        return (type(cond), at(self.sympy(cond.lhs)), at(self.sympy(cond.rhs)))

    def typed(self, node: ast.AST) -> int:
        """A node of the validated tree, as ``typed._Typed.compute`` evaluates it."""
        if isinstance(node, ast.Constant):
            q = Fraction(repr(node.value))  # the decimal typed: 0.1 is 1/10, as in SymPy
            return self.number(q.numerator, q.denominator)
        if isinstance(node, ast.Name):
            named = {"pi": "pi", "E": "e"}
            return self.named(named[node.id]) if node.id in named else self.input(node.id)
        if isinstance(node, ast.UnaryOp):
            x = self.typed(node.operand)
            return self.step(("neg", x), _negate, [x]) if isinstance(node.op, ast.USub) else x
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self.power(self.typed, node.left, node.right, constant(node.right))
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            args = [self.typed(node.left), self.typed(node.right)]
            return self.step((op, *args), _BINARY[op], args)
        if isinstance(node, ast.Call) and node.func.id == "pow":
            return self.power(self.typed, *node.args, constant=constant(node.args[1]))
        if isinstance(node, ast.Call) and FUNCTIONS[node.func.id].interval:
            spec = FUNCTIONS[node.func.id]
            args = [self.typed(a) for a in node.args]
            return self.step(("call", spec.name, *args), partial(_call, spec), args)
        raise _Unsupported(node)


def _balls(fn: Callable[..., Any]) -> Callable[..., arb]:
    """``fn`` of ``Ball``s (a catalog evaluator) as a step: arbs in, an arb out (a result
    that is no ball has no value)."""

    def step(ctx: Any, *args: arb) -> arb:
        return _unwrap(fn(ctx, *map(Ball, args)))

    return step


def _unwrap(value: Any) -> arb:
    if type(value) is not Ball:
        raise TypeError(f"{type(value).__name__} is not a ball")
    return value.v


def _sum(ctx: Any, *xs: arb) -> arb:
    return reduce(add, xs, _ZERO)  # 0 + x1 + x2 + ..., as BallContext.fsum


def _product(ctx: Any, first: arb, *rest: arb) -> arb:
    return reduce(mul, rest, first)


_ZERO = arb(0)


def _negate(ctx: Any, x: arb) -> arb:
    return -x


def _call(spec: Any, ctx: Any, *args: arb) -> arb:
    return _unwrap(spec.evaluate_at(ctx, tuple(map(Ball, args))))


_BINARY: dict[type, Callable[..., Any]] = {
    ast.Add: lambda ctx, a, b: a + b,
    ast.Sub: lambda ctx, a, b: a - b,
    ast.Mult: lambda ctx, a, b: a * b,
    ast.Div: _balls(lambda ctx, a, b: a * n.power(ctx, b, None, -1)),
}


def _sums(first: list, *rest: list) -> list:
    total = map(add, repeat(_ZERO), first)
    for column in rest:
        total = map(add, total, column)
    return list(total)


def _products(first: list, *rest: list) -> list:
    product: Any = first
    for column in rest:
        product = map(mul, product, column)
    return list(product)


def _natural(k: int) -> Callable[..., arb]:
    """x**k, k >= 0, as ``numeric.power`` computes it (no domain: ``Ball.__pow__``, x.v**k)."""
    if k not in _NATURAL:
        _NATURAL[k] = lambda ctx, x: x**k
        COLUMNWISE[_NATURAL[k]] = lambda x: list(map(pow, x, repeat(k)))
    return _NATURAL[k]


_NATURAL: dict[int, Callable[..., arb]] = {}
COLUMNWISE: dict[Callable[..., Any], Callable[..., list]] = {
    _sum: _sums,
    _product: _products,
    _negate: lambda x: list(map(neg, x)),
    _BINARY[ast.Add]: lambda a, b: list(map(add, a, b)),
    _BINARY[ast.Sub]: lambda a, b: list(map(sub, a, b)),
    _BINARY[ast.Mult]: lambda a, b: list(map(mul, a, b)),
}  # plain arithmetic: the step over columns of values, element by element, one C loop each
_RELATIONS: dict[type, Callable[[Any, Any], Any]] = {
    sympy.StrictGreaterThan: lambda a, b: a > b,
    sympy.GreaterThan: lambda a, b: a >= b,
    sympy.StrictLessThan: lambda a, b: a < b,
    sympy.LessThan: lambda a, b: a <= b,
    sympy.Eq: lambda a, b: n.is_zero(a - b),
    sympy.Ne: lambda a, b: not n.is_zero(a - b),
}


def _choose(branches: Any, ctx: Any, *args: arb | None) -> arb:
    """The value of the first branch whose condition holds (each decided, as by the mpmath
    evaluator, in order); a value the chosen branch lacks is lacking here too."""
    values = [None if v is None else Ball(v) for v in args]
    for expr, cond in branches:
        if _holds(cond, values):
            if args[expr] is None:
                raise DomainError("the chosen branch has no value")
            return args[expr]
    raise DomainError("no branch of a piecewise function applies")


def _holds(cond: Any, values: Sequence[Ball | None]) -> bool:
    if isinstance(cond, bool):
        return cond
    kind, *parts = cond
    if kind is sympy.Or or kind is sympy.And:
        found = (_holds(c, values) for c in parts[0])
        return any(found) if kind is sympy.Or else all(found)
    left, right = values[parts[0]], values[parts[1]]
    if left is None or right is None:
        raise DomainError("a condition has no value")
    return decide(_RELATIONS[kind](left, right))

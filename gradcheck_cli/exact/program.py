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
from functools import partial
from typing import Any

import sympy

from gradcheck_cli.errors import GradcheckError
from gradcheck_cli.exact.evaluate import unevaluated_derivative
from gradcheck_cli.exact.functions import spec_of
from gradcheck_cli.exact.steps import (
    BINARY,
    RELATIONS,
    balls,
    call,
    choose,
    natural,
    negate,
    product,
    total,
)
from gradcheck_cli.exact.symbolic import constant
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.expr.catalog import numeric as n

__all__ = ["FAILURES", "Compiler", "Program", "Unsupported", "compile_program"]

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


class Unsupported(Exception):
    """A node the program does not evaluate (its expression goes the mpmath way)."""


def compile_program(exprs: Sequence[sympy.Expr], tree: ast.AST | None = None) -> Program:
    """One program for ``exprs`` and, last, the validated ``tree`` as typed (if given)."""
    c = Compiler()
    outputs = [c.output(c.sympy, e) for e in exprs]
    if tree is not None:
        outputs.append(c.output(c.typed, tree))
    return c.program(outputs)


class Compiler:
    def __init__(self) -> None:
        self.memo: dict[Any, int] = {}
        self.inputs: dict[int, str] = {}
        self.steps: list[tuple[int, Callable[..., Any], tuple[int, ...], bool]] = []
        self.constant: set[int] = set()
        self.heads: dict[int, Any] = {}  # slot -> its step's head
        self.size = 0

    def program(self, outputs: Sequence[int | None]) -> Program:
        constants = tuple(s for s in self.steps if s[0] in self.constant)
        steps = tuple(s for s in self.steps if s[0] not in self.constant)
        return Program(self.size, tuple(self.inputs.items()), constants, steps, tuple(outputs))

    def output(self, build: Callable[[Any], int], node: Any) -> int | None:
        try:
            return build(node)
        except (Unsupported, GradcheckError, RecursionError):
            return None

    def step(self, head: Any, fn: Callable[..., Any], args: Sequence[int], lazy=False) -> int:
        """The slot of ``fn`` on ``args``: a step ``head`` (what it computes, without its
        arguments) on the same argument slots is computed once."""
        key = (head, *args)
        if key not in self.memo:
            slot, self.size = self.size, self.size + 1
            self.steps.append((slot, fn, tuple(args), lazy))
            self.heads[slot] = head
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
        return self.step(("number", p, q), balls(lambda ctx: ctx.mpf(p) / q), ())

    def named(self, name: str) -> int:  # pi, E, EulerGamma
        return self.step(("named", name), balls(lambda ctx: getattr(ctx, name)), ())

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
            return self.add(args)
        if node.is_Mul:
            return self.mul(args)
        if node.is_Pow:
            return self.power(self.sympy, *node.args, constant=node.exp)
        if isinstance(node, sympy.Piecewise):
            return self.piecewise(node)
        if isinstance(node, sympy.Derivative):
            return self.sympy(unevaluated_derivative(node))
        spec = spec_of(node.func)
        if node.is_number and not node.is_extended_real or spec is None or not spec.interval:
            raise Unsupported(node)
        args = [self.sympy(a) for a in node.args]
        return self.step(("call", spec.name), partial(call, spec), args)

    def power(self, build: Callable[[Any], int], base: Any, exponent: Any, constant: Any) -> int:
        """base**exponent as ``numeric.power``: an integer or 1/2 exponent (``constant``, an
        exact SymPy number or None) has its own rule."""
        b = build(base)
        if constant is not None and constant.is_Integer:
            return self.powi(b, int(constant))
        if constant == sympy.Rational(1, 2):
            root = balls(lambda c, x: n.power(c, x, None, half=True))
            return self.step("sqrt", root, [b])
        e = build(exponent)
        return self.step("pow", balls(n.power), [b, e])

    def powi(self, b: int, k: int) -> int:
        """The slot b**k, k an integer."""
        fn = natural(k) if k >= 0 else balls(lambda c, x: n.power(c, x, None, k))
        return self.step(("powi", k), fn, [b])

    def add(self, args: Sequence[int]) -> int:
        return self.step("add", total, args)

    def mul(self, args: Sequence[int]) -> int:
        return self.step("mul", product, args)

    def neg(self, x: int) -> int:
        return self.step("neg", negate, [x])

    def piecewise(self, node: sympy.Piecewise) -> int:
        args: list[int] = []

        def at(slot: int) -> int:
            args.append(slot)
            return len(args) - 1

        branches = tuple((at(self.sympy(e)), self.condition(c, at)) for e, c in node.args)
        return self.step(("piecewise", node), partial(choose, branches), args, lazy=True)

    def condition(self, cond: sympy.Basic, at: Callable[[int], int]) -> Any:
        if cond is sympy.true or cond is sympy.false:
            return bool(cond)
        if isinstance(cond, sympy.Or | sympy.And):
            return (type(cond), tuple(self.condition(c, at) for c in cond.args))
        if type(cond) not in RELATIONS:
            raise Unsupported(cond)
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
            return self.neg(x) if isinstance(node.op, ast.USub) else x
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self.power(self.typed, node.left, node.right, constant(node.right))
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            args = [self.typed(node.left), self.typed(node.right)]
            return self.step(op, BINARY[op], args)
        if isinstance(node, ast.Call) and node.func.id == "pow":
            return self.power(self.typed, *node.args, constant=constant(node.args[1]))
        if isinstance(node, ast.Call) and FUNCTIONS[node.func.id].interval:
            spec = FUNCTIONS[node.func.id]
            args = [self.typed(a) for a in node.args]
            return self.step(("call", spec.name), partial(call, spec), args)
        raise Unsupported(node)

"""What each step of a compiled program (``exact/program.py``) computes, on Arb balls.

A step takes the context and its arguments' ``arb`` values and returns an ``arb``; the catalog's
evaluators see ``Ball``s (``balls``). Plain arithmetic also has a column version
(``COLUMNWISE``): the step over columns of values, one C loop each (``exact/columns.py``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from functools import reduce
from itertools import repeat
from operator import add, mul, neg, sub
from typing import Any

import sympy
from flint import arb

from gradcheck_cli.exact.ball import Ball
from gradcheck_cli.expr.catalog import numeric as n
from gradcheck_cli.expr.catalog.numeric import DomainError, decide


def balls(fn: Callable[..., Any]) -> Callable[..., arb]:
    """``fn`` of ``Ball``s (a catalog evaluator) as a step: arbs in, an arb out (a result
    that is no ball has no value)."""

    def step(ctx: Any, *args: arb) -> arb:
        return unwrap(fn(ctx, *map(Ball, args)))

    return step


def unwrap(value: Any) -> arb:
    if type(value) is not Ball:
        raise TypeError(f"{type(value).__name__} is not a ball")
    return value.v


def total(ctx: Any, *xs: arb) -> arb:
    return reduce(add, xs, _ZERO)  # 0 + x1 + x2 + ..., as BallContext.fsum


def product(ctx: Any, first: arb, *rest: arb) -> arb:
    return reduce(mul, rest, first)


_ZERO = arb(0)


def negate(ctx: Any, x: arb) -> arb:
    return -x


def call(spec: Any, ctx: Any, *args: arb) -> arb:
    return unwrap(spec.evaluate_at(ctx, tuple(map(Ball, args))))


BINARY: dict[type, Callable[..., Any]] = {
    ast.Add: lambda ctx, a, b: a + b,
    ast.Sub: lambda ctx, a, b: a - b,
    ast.Mult: lambda ctx, a, b: a * b,
    ast.Div: balls(lambda ctx, a, b: a * n.power(ctx, b, None, -1)),
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


def natural(k: int) -> Callable[..., arb]:
    """x**k, k >= 0, as ``numeric.power`` computes it (no domain: ``Ball.__pow__``, x.v**k)."""
    if k not in _NATURAL:
        _NATURAL[k] = lambda ctx, x: x**k
        COLUMNWISE[_NATURAL[k]] = lambda x: list(map(pow, x, repeat(k)))
    return _NATURAL[k]


_NATURAL: dict[int, Callable[..., arb]] = {}
COLUMNWISE: dict[Callable[..., Any], Callable[..., list]] = {
    total: _sums,
    product: _products,
    negate: lambda x: list(map(neg, x)),
    BINARY[ast.Add]: lambda a, b: list(map(add, a, b)),
    BINARY[ast.Sub]: lambda a, b: list(map(sub, a, b)),
    BINARY[ast.Mult]: lambda a, b: list(map(mul, a, b)),
}  # plain arithmetic: the step over columns of values, element by element, one C loop each
RELATIONS: dict[type, Callable[[Any, Any], Any]] = {
    sympy.StrictGreaterThan: lambda a, b: a > b,
    sympy.GreaterThan: lambda a, b: a >= b,
    sympy.StrictLessThan: lambda a, b: a < b,
    sympy.LessThan: lambda a, b: a <= b,
    sympy.Eq: lambda a, b: n.is_zero(a - b),
    sympy.Ne: lambda a, b: not n.is_zero(a - b),
}


def choose(branches: Any, ctx: Any, *args: arb | None) -> arb:
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
    return decide(RELATIONS[kind](left, right))

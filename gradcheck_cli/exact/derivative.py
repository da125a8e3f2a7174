"""``sympy.diff(expr, s)`` for one symbol, the same expression faster.

SymPy's ``diff`` builds a ``Derivative`` at every node of the expression: it sympifies,
checks free symbols, asks ``is_zero`` of the result and walks it for unevaluated derivatives,
which costs more than the derivative rules themselves (about 2 ms per gradient of a small
model, the largest share of ``prepare``). Here the rules SymPy 1.14 applies to Add, Mul (its
Leibniz rule for one derivative), Pow and ``Function`` (the chain rule through ``fdiff``) are
applied directly, with the same operations in the same order, so the result is the expression
``sympy.diff`` builds; any other node (Piecewise, Max/Min, Abs, Derivative, ...) and any result
holding an unevaluated ``Derivative`` goes to ``sympy.diff`` itself.
``tests/test_derivative.py`` compares the two on every catalog function, every loss and the
models of the equivalence corpus.

The rest of the cost is SymPy's assumption system: a query it cannot answer at once (is a sum
zero? is v*tanh(w*x + 7) infinite?) searches every related fact, 0.2-0.4 ms each on a fresh
sum. Where a cheap proof gives SymPy's own answer (``shortcuts.moves``, ``shortcuts.finite``)
the query is not asked, and quotients by a sum are built without the evaluation that would
only ask it and return them unchanged (``shortcuts.quotient``).
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Add, Function, Mul, Pow, S, Symbol
from sympy.core.function import ArgumentIndexError

from gradcheck_cli.exact.shortcuts import finite, moves, plain_tanh_argument, quotient

__all__ = ["diff"]

_CHAIN = Function._eval_derivative  # the chain rule every catalog class inherits
_ONCE = sympy.Basic._eval_derivative_n_times  # n = 1: _eval_derivative once


def diff(expr: sympy.Expr, s: Symbol) -> sympy.Expr:
    """``sympy.diff(expr, s)``."""
    found = _d(expr, s)
    return sympy.diff(expr, s) if found.has(sympy.Derivative) else found


def _d(e: Any, s: Symbol) -> Any:
    if s not in e.free_symbols:
        return S.Zero
    if e is s:
        return S.One
    kind = type(e)
    if kind is Add:
        return Add(*[_d(a, s) for a in e.args])
    if kind is Mul:
        return _mul(e.args, s)
    if kind is Pow:
        return _pow(e, s)
    if (
        isinstance(e, Function)
        and kind._eval_derivative is _CHAIN
        and kind._eval_derivative_n_times is _ONCE
    ):
        return _chain(e, s)
    return sympy.diff(e, s)


def _mul(args: tuple[Any, ...], s: Symbol) -> Any:
    """Mul's ``_eval_derivative_n_times`` for n = 1: the sum over factors of the product with
    that factor differentiated. A product with a factor of derivative 0 is 0 unless another
    factor is infinite (0*oo is nan): Add drops it, so it is not built where every other
    factor is finite (``finite``; asking SymPy costs up to 0.3 ms a factor)."""
    terms = []
    for i, a in enumerate(args):
        da = _d(a, s)
        others = args[:i] + args[i + 1 :]
        if da is S.Zero and all(finite(f) for f in others):
            continue
        terms.append(Mul(*others[:i], da, *others[i:]))
    return Add(*terms)


def _pow(e: Any, s: Symbol) -> Any:
    """Pow's ``_eval_derivative``: ``self * (dexp*log(base) + dbase*exp/base)``; with a
    constant exponent the first term is 0 (SymPy's product 0*log(base) is 0 unless log(base)
    is infinite, that is unless base is provably 0 or infinite) and is not built."""
    base, exp = e.args
    dbase, dexp = _d(base, s), _d(exp, s)
    if dexp is S.Zero and (
        moves(base) or (base.is_zero is not True and base.is_finite is not False)
    ):
        return e * quotient(dbase * exp, base)  # 0*log(base) is 0 (log: 1 ms per Add)
    return e * (dexp * sympy.log(base) + quotient(dbase * exp, base))


def _chain(e: Any, s: Symbol) -> Any:
    """``Function._eval_derivative``: the chain rule through ``fdiff``."""
    terms = []
    for i, a in enumerate(e.args, start=1):
        da = _d(a, s)
        if da.is_zero:
            continue
        try:
            df = _fdiff(e, i)
        except ArgumentIndexError:
            df = Function.fdiff(e, i)
        terms.append(df * da)
    return Add(*terms)


def _fdiff(e: Any, i: int) -> Any:
    """``e.fdiff(i)``; tanh's (``1 - tanh(arg)**2``) with ``e`` for ``tanh(arg)`` where that
    call would only rebuild ``e`` (``tanh``), after asking whether arg is zero (0.2 ms)."""
    if type(e) is sympy.tanh and plain_tanh_argument(e.args[0]):
        return S.One - e**2
    return e.fdiff(i)

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
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Add, Function, Mul, Pow, S, Symbol
from sympy.core.function import ArgumentIndexError

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
    that factor differentiated (a zero term is kept: Add drops it as SymPy's does)."""
    return Add(
        *[Mul(*[_d(a, s) if k == i else a for k, a in enumerate(args)]) for i in range(len(args))]
    )


def _pow(e: Any, s: Symbol) -> Any:
    """Pow's ``_eval_derivative``: ``self * (dexp*log(base) + dbase*exp/base)``; with a
    constant exponent the first term is 0 (SymPy's product 0*log(base) is 0 unless log(base)
    is infinite, that is unless base is provably 0 or infinite) and is not built."""
    base, exp = e.args
    dbase, dexp = _d(base, s), _d(exp, s)
    if dexp is S.Zero and (
        _moves(base) or (base.is_zero is not True and base.is_finite is not False)
    ):
        return e * (dbase * exp / base)  # 0*log(base) is 0 (log's own cost: 1 ms per Add)
    return e * (dexp * sympy.log(base) + dbase * exp / base)


def _moves(base: Any) -> bool:
    """A cheap proof that SymPy finds ``base`` neither zero nor infinite (its own query on an
    Add tries every related fact: 0.4 ms a model): an Add of terms SymPy finds finite, one of
    which is ``c*s`` (c a number other than 0, s a real symbol) with s in no other term. It
    varies with s, so no sound answer is ``is_zero`` True; every term finite makes the sum
    finite (``Add._eval_is_finite``)."""
    if type(base) is not Add:
        return False
    terms = base.args
    for i, term in enumerate(terms):
        s = _linear(term)
        if s is not None and not any(s in t.free_symbols for t in terms[:i] + terms[i + 1 :]):
            return all(t.is_finite for t in terms)
    return False


def _linear(term: Any) -> Symbol | None:
    """``s`` if ``term`` is a real symbol s or a finite nonzero Rational times s, else None."""
    if type(term) is Mul and len(term.args) == 2:
        c, term = term.args
        if not (c.is_Rational and c.is_zero is False):
            return None
    return term if type(term) is Symbol and term.is_real is True else None


def _chain(e: Any, s: Symbol) -> Any:
    """``Function._eval_derivative``: the chain rule through ``fdiff``."""
    terms = []
    for i, a in enumerate(e.args, start=1):
        da = _d(a, s)
        if da.is_zero:
            continue
        try:
            df = e.fdiff(i)
        except ArgumentIndexError:
            df = Function.fdiff(e, i)
        terms.append(df * da)
    return Add(*terms)

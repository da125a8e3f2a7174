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
sum. Where a cheap proof gives SymPy's own answer (``moves``, ``_finite``) the query is not
asked, and a power of a sum, a quotient by one and tanh of one are built without the
evaluation that would only ask it and return them unchanged (``power``, ``quotient``,
``tanh``); ``tests/test_sympy_shortcuts.py`` compares each with plain SymPy.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Add, Function, Mul, Pow, S, Symbol
from sympy.core.function import ArgumentIndexError

__all__ = ["diff", "moves", "power", "quotient", "tanh"]

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
    factor is finite (``_finite``; asking SymPy costs up to 0.3 ms a factor)."""
    terms = []
    for i, a in enumerate(args):
        da = _d(a, s)
        others = args[:i] + args[i + 1 :]
        if da is S.Zero and all(_finite(f) for f in others):
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


def power(base: Any, exp: Any) -> Any:
    """``base**exp``. A sum with symbols and no I to a whole power other than 0 and 1 is
    built without SymPy's evaluation: ``Pow.__new__`` reaches ``Add._eval_power``, which
    returns None for such a sum (its 2-term branch returns only for a literal a + I*b; the
    other needs a number), so SymPy builds this very Pow; only after asking, of a sum of
    two terms, whether each is infinite (for a term holding a function of a sum, the sum's
    full fact search: 0.3 ms)."""
    exp = sympy.Integer(exp) if type(exp) is int else exp
    if (
        type(base) is Add
        and exp.is_Integer
        and exp not in (S.Zero, S.One)
        and not base.is_number
        and not base.has(S.ImaginaryUnit)
    ):
        return Pow(base, exp, evaluate=False)
    return base**exp


def quotient(num: Any, den: Any) -> Any:
    """``num / den``: ``Expr.__truediv__`` (num times ``den**-1``) with ``power``'s inverse
    of a sum; a class with its own division (numbers) divides itself."""
    if type(den) is not Add or type(num).__truediv__ is not sympy.Expr.__truediv__:
        return num / den
    if len(den.args) == 2:  # Mul builds den**-1 anew: Add._eval_power asks of each term
        for term in den.args:
            _known_finite(term)
    inverse = power(den, S.NegativeOne)
    return inverse if num is S.One else Mul(num, inverse)


def moves(base: Any) -> bool:
    """A cheap proof that SymPy finds ``base`` neither zero nor infinite (its own query on an
    Add tries every related fact: 0.4 ms a model): an Add of terms SymPy finds finite, one of
    which is c*s*t*... (c a Rational other than 0, s, t, ... real symbols) with s in no
    other term. It varies with s, so no sound answer is ``is_zero`` True; every term finite
    makes the sum finite (``Add._eval_is_finite``)."""
    if type(base) is not Add:
        return False
    terms = base.args
    for i, term in enumerate(terms):
        others = terms[:i] + terms[i + 1 :]
        if any(all(s not in t.free_symbols for t in others) for s in _monomial(term)):
            return all(_finite(t) or t.is_finite for t in terms)
    return False


def _monomial(term: Any) -> tuple[Symbol, ...]:
    """The symbols of ``term`` if it is a real symbol or a product of distinct real symbols
    and at most a Rational other than 0 (a canonical Mul puts the number first), else ()."""
    factors = term.args if type(term) is Mul else (term,)
    if factors[0].is_Rational and factors[0] is not S.Zero:  # 0 is S.Zero: no query
        factors = factors[1:]
    real = all(type(f) is Symbol and f.is_real is True for f in factors)
    return factors if real and factors else ()


def _finite(e: Any) -> bool:
    """True where SymPy's ``e.is_finite`` is True, built from answers it has at hand (atoms,
    a class that declares itself real: the catalog's) and its rules: a sum
    (``Add._eval_is_finite``), a product (``Mul._eval_is_infinite``: no factor infinite), a
    positive whole power (``Pow._eval_is_finite``) of finite terms, tanh of a real argument
    (``tanh._eval_is_finite``); False where it does not know (not an answer: ask SymPy)."""
    if e.is_Atom:
        return e.is_finite is True
    kind = type(e)
    if kind is Add or kind is Mul:
        return all(_finite(a) for a in e.args)
    if kind is Pow:
        return e.exp.is_Integer and e.exp.p > 0 and _finite(e.base)  # no query on exp
    if kind.default_assumptions.get("finite") is True:
        return True
    return kind is sympy.tanh and e.args[0].is_extended_real is True


def _known_finite(e: Any) -> None:
    """Record SymPy's own answer ``e.is_finite`` = True where ``_finite`` shows it, in e's
    assumptions, as ``_ask`` records an answer: a later query reads it instead of searching
    every related fact (``is_infinite`` of v*tanh(w*x + 7) asks whether tanh is zero: 0.3 ms)."""
    facts = e._assumptions
    if "finite" in facts or not _finite(e):
        return
    if facts is e.default_assumptions:  # shared by the class: copied first, as getit does
        e._assumptions = facts = facts.copy()
    facts.deduce_all_facts((("finite", True),))


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
    if type(e) is sympy.tanh and _plain(e.args[0]):
        return S.One - e**2
    return e.fdiff(i)


def tanh(arg: Any) -> Any:
    """``sympy.tanh(arg)``: ``tanh(arg, evaluate=False)`` where ``tanh.eval`` returns None
    (0.5 ms less a call)."""
    return sympy.tanh(arg, evaluate=False) if _plain(arg) else sympy.tanh(arg)


def _plain(arg: Any) -> bool:
    """``tanh.eval(arg)`` returns None: ``arg`` a sum with symbols (not a number, not to be
    evaluated numerically), without I (no I-coefficient nor I*pi to peel off), not to be
    negated (``could_extract_minus_sign``), not zero (``moves``)."""
    return (
        type(arg) is Add
        and not arg.is_number
        and not arg.has(S.ImaginaryUnit)
        and not arg.could_extract_minus_sign()
        and moves(arg)
    )

"""SymPy's own answers without its assumption search, and nodes built without the evaluation
that would only ask and return them unchanged.

A query SymPy cannot answer at once (is a sum zero? is v*tanh(w*x + 7) infinite?) searches
every related fact, 0.2-0.4 ms each on a fresh sum. ``moves`` and ``finite`` are cheap proofs
of its answer where they apply (else the caller asks SymPy); ``power``, ``quotient`` and
``tanh`` build a power of a sum, a quotient by one and tanh of one as SymPy's evaluation
would return them. Used by the derivative (``derivative.py``), the loss (``losses.py``) and
the model's tanh (``functions.build``); ``tests/test_sympy_shortcuts.py`` compares each with
plain SymPy. They follow SymPy 1.14's evaluation rules.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Add, Mul, Pow, S, Symbol

__all__ = ["finite", "moves", "plain_tanh_argument", "power", "quotient", "tanh"]


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
            _knownfinite(term)
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
            return all(finite(t) or t.is_finite for t in terms)
    return False


def _monomial(term: Any) -> tuple[Symbol, ...]:
    """The symbols of ``term`` if it is a real symbol or a product of distinct real symbols
    and at most a Rational other than 0 (a canonical Mul puts the number first), else ()."""
    factors = term.args if type(term) is Mul else (term,)
    if factors[0].is_Rational and factors[0] is not S.Zero:  # 0 is S.Zero: no query
        factors = factors[1:]
    real = all(type(f) is Symbol and f.is_real is True for f in factors)
    return factors if real and factors else ()


def finite(e: Any) -> bool:
    """True where SymPy's ``e.is_finite`` is True, built from answers it has at hand (atoms,
    a class that declares itself real: the catalog's) and its rules: a sum
    (``Add._eval_is_finite``), a product (``Mul._eval_is_infinite``: no factor infinite), a
    positive whole power (``Pow._eval_is_finite``) of finite terms, tanh of a real argument
    (``tanh._eval_is_finite``); False where it does not know (not an answer: ask SymPy)."""
    if e.is_Atom:
        return e.is_finite is True
    kind = type(e)
    if kind is Add or kind is Mul:
        return all(finite(a) for a in e.args)
    if kind is Pow:
        return e.exp.is_Integer and e.exp.p > 0 and finite(e.base)  # no query on exp
    if kind.default_assumptions.get("finite") is True:
        return True
    return kind is sympy.tanh and e.args[0].is_extended_real is True


def _knownfinite(e: Any) -> None:
    """Record SymPy's own answer ``e.is_finite`` = True where ``finite`` shows it, in e's
    assumptions, as ``_ask`` records an answer: a later query reads it instead of searching
    every related fact (``is_infinite`` of v*tanh(w*x + 7) asks whether tanh is zero: 0.3 ms)."""
    facts = e._assumptions
    if "finite" in facts or not finite(e):
        return
    if facts is e.default_assumptions:  # shared by the class: copied first, as getit does
        e._assumptions = facts = facts.copy()
    facts.deduce_all_facts((("finite", True),))


def tanh(arg: Any) -> Any:
    """``sympy.tanh(arg)``: ``tanh(arg, evaluate=False)`` where ``tanh.eval`` returns None
    (0.5 ms less a call)."""
    return sympy.tanh(arg, evaluate=False) if plain_tanh_argument(arg) else sympy.tanh(arg)


def plain_tanh_argument(arg: Any) -> bool:
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

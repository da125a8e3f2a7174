"""The shortcuts that build SymPy expressions without SymPy's evaluation (or without its
assumption queries) build the very expression SymPy builds: structural equality and the same
printed formula, on sums as models produce them and on sums that defeat each shortcut."""

from __future__ import annotations

import random

import sympy
from test_derivative import _random_models

from gradcheck_cli.errors import EvaluationError
from gradcheck_cli.exact import shortcuts, symbolic
from gradcheck_cli.exact.functions import build
from gradcheck_cli.exact.shortcuts import moves, power, quotient
from gradcheck_cli.expr.parse import parse

w, b, x, v, y = (symbolic.symbol(n) for n in "wbxvy")
p = sympy.Symbol("p", positive=True)
k = sympy.Symbol("k", integer=True)


def _sums() -> list[sympy.Expr]:
    """Sums of every kind the shortcuts meet and refuse: with a symbol of their own or not,
    negatable, holding I, pi*I, infinities, numbers only, non-real symbols."""
    rng = random.Random(5)
    found = [
        w * x + 7,
        w * x - 7,
        -w * x - 7,
        7 - w * x,
        w - w,
        w + sympy.I,
        w + sympy.I * sympy.pi / 2,
        w + sympy.oo,
        w + sympy.zoo,
        sympy.pi + 1,
        sympy.sqrt(2) + 1,
        w**2 + w,
        w * x + w * b + b * x,
        p + 1,
        k + w,
        sympy.tanh(w) * v - y,
        sympy.log(w) + x,
        1 / w + x,
        sympy.Float(0.5) + w,
    ]
    for model in _random_models(80, seed=9):
        try:
            z = symbolic.to_sympy(parse(model))
        except EvaluationError:  # undefined everywhere: refused before any shortcut
            continue
        found += [z - y, z + rng.randint(-3, 3), -z, z * w - b]
    return [s for s in found if s.is_Add]


def _same(fast: sympy.Expr, slow: sympy.Expr) -> None:
    assert fast == slow and str(fast) == str(slow), f"{fast} != {slow}"


def test_tanh_of_a_sum_is_tanh_as_sympy_builds_it():
    for s in _sums():
        _same(build("tanh", [s]), sympy.tanh(s))


def test_a_power_of_a_sum_is_the_power_sympy_builds():
    for s in _sums():
        for e in (2, -1, 3, -2, 0, 1, sympy.Rational(1, 2), w):
            _same(power(s, e), s**e)


def test_a_quotient_by_a_sum_is_the_quotient_sympy_builds():
    for s in _sums():
        for num in (sympy.S.One, sympy.Integer(2), x, 2 * w * x, s, -s, sympy.tanh(w)):
            _same(quotient(num, s), num / s)
            _same(quotient(s, num), s / num)


def test_a_sum_that_moves_is_neither_zero_nor_infinite_for_sympy():
    shown = [s for s in _sums() if moves(s)]
    assert len(shown) > 100  # the proof answers for most sums of the models
    for s in shown:
        assert s.is_zero is not True and s.is_finite is not False, s


def test_what_is_shown_finite_sympy_finds_finite():
    """``_finite`` (whose True is recorded in an expression's assumptions, as SymPy records
    its own answers) says True only where SymPy's own query, asked first, says True."""
    sympy.core.cache.clear_cache()  # fresh objects: no answer recorded by an earlier test
    terms = {t for s in _sums() for t in sympy.preorder_traversal(s)}
    answers = {t: t.is_finite for t in terms}  # SymPy's, before any shortcut ran on them
    shown = [t for t in terms if shortcuts.finite(t)]
    assert len(shown) > 200
    for t in shown:
        assert answers[t] is True, t

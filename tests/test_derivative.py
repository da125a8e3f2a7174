"""``exact.derivative.diff`` builds the very expression ``sympy.diff`` builds (structural
equality, so the printed formulas and every value computed from them are unchanged), on every
catalog function, every loss, the models of the equivalence corpus and nested compositions."""

from __future__ import annotations

import itertools

import pytest
import sympy
from domains import LEAVES, SAFE
from test_equivalence import MODELS

from gradcheck_cli.exact import symbolic
from gradcheck_cli.exact.derivative import diff
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.expr.parse import parse
from gradcheck_cli.losses import LOSSES, loss_spec


def _call(name: str, a: str, b: str) -> str:
    if name in SAFE:
        return SAFE[name].format(a=a, b=b)
    low, _ = FUNCTIONS[name].arity
    return f"{name}({', '.join([a, b][:low] or [a])})"


def _sympy(text: str) -> sympy.Expr:
    return symbolic.to_sympy(parse(text))


def _same(expr: sympy.Expr) -> None:
    for s in sorted(expr.free_symbols, key=str):
        fast, slow = diff(expr, s), sympy.diff(expr, s)
        assert fast == slow, f"d/d{s} of {expr}:\n  fast {fast}\n  sympy {slow}"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_of_the_catalog(name):
    for a, b in [("w*x + b", "c"), ("w*w*x", "b*x + 1"), ("x", "w")]:
        _same(_sympy(_call(name, a, b)))
        _same(_sympy(f"({_call(name, a, b)})**2 * w + b"))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_compositions(name):
    for inner in ("tanh", "exp", "relu", "abs", "pow"):
        _same(_sympy(_call(name, _call(inner, "w*x + b", "c*x"), "w")))


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_of_every_model(loss):
    spec = loss_spec(loss)
    y = symbolic.symbol("y") if spec.needs_target else None
    for model in MODELS:
        _same(spec.formula(_sympy(model), y))


def test_products_powers_and_constants():
    leaves = [*LEAVES, "1/x", "x**w", "2**w", "-w", "w*b*x"]
    for a, b in itertools.product(leaves, repeat=2):
        for text in (f"({a})*({b})", f"({a})**3 + ({b})", f"({a})/({b}+2)"):
            _same(_sympy(text))


def test_an_unevaluated_derivative_goes_to_sympy():
    w = symbolic.symbol("w")
    f = sympy.Function("f")
    assert diff(f(w) * w, w) == sympy.diff(f(w) * w, w)
    assert diff(sympy.Abs(w) / w, w) == sympy.diff(sympy.Abs(w) / w, w)

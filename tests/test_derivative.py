"""``exact.derivative.diff`` builds the very expression ``sympy.diff`` builds (structural
equality, so the printed formulas and every value computed from them are unchanged), on every
catalog function, every loss, the models of the equivalence corpus and nested compositions."""

from __future__ import annotations

import itertools
import random

import pytest
import sympy
from domains import LEAVES, SAFE
from test_equivalence import MODELS

from gradcheck_cli.errors import EvaluationError
from gradcheck_cli.exact import shortcuts, symbolic
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
        assert str(fast) == str(slow)


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


_TEMPLATES = ["w*x*{k}+b", "tanh(w*x+{k})*v", "w*x**2+b*{k}", "sigmoid(w*x-{k})+b"]
_FUNCTIONS = ["tanh", "sigmoid", "exp", "log", "sin", "cos", "sqrt", "abs", "relu", "softplus"]


def _random_models(count: int, seed: int) -> list[str]:
    """Models as a user writes them: nested calls, the four operations, numbers, pi."""
    rng = random.Random(seed)

    def leaf() -> str:
        return rng.choice(["w", "b", "x", "v", "y", str(rng.randint(1, 9)), "0.1", "pi", "w*x"])

    def expr(depth: int) -> str:
        if depth == 0:
            return leaf()
        if rng.random() < 0.35:
            return f"{rng.choice(_FUNCTIONS)}({expr(depth - 1)})"
        op = rng.choice(["+", "-", "*", "/", "*", "**2+"])
        return f"({expr(depth - 1)}){op}({expr(depth - 1)})"

    return [expr(rng.randint(1, 3)) + rng.choice(["", "+w*x", "+b", "-w"]) for _ in range(count)]


@pytest.mark.parametrize("loss", ["mse", "l1", "bce_logits", "(z-y)**4"])
def test_benchmark_and_random_models(loss):
    """The batch benchmark's models and random ones, through the losses whose sums the fast
    path sees (mse's (z - y)**2 asks whether z - y is zero or infinite)."""
    spec = loss_spec(loss)
    y = symbolic.symbol("t")  # a target name the random models do not use
    models = [t.format(k=k) for k in (1, 2, 7, 30) for t in _TEMPLATES]
    for model in models + _random_models(60, seed=len(loss)):
        try:
            _same(spec.formula(_sympy(model), y))
        except EvaluationError:  # sqrt(log(0.1)): undefined everywhere, refused
            continue


def _defined(model: str) -> bool:
    try:
        return _sympy(model) is not None
    except EvaluationError:
        return False


def test_a_sum_shown_to_move_is_neither_zero_nor_infinite_for_sympy():
    """Whenever the cheap proof answers, SymPy's own queries agree; sums it cannot show to
    move (no term c*s with s alone, a term SymPy cannot show finite) are left to SymPy."""
    w, b, x, v = (symbolic.symbol(n) for n in "wbxv")
    f = sympy.Symbol("f")  # not real: may be infinite
    moving = [b + 7 * w * x, v * sympy.tanh(w * x) - b, w - x**2 / 3, w + sympy.pi, -2 * w + x]
    moving += [w * x + 7, w - w * x, 3 * w * x * b - v, x * sympy.tanh(w) + w * b]
    for base in moving + [_sympy(m) - b for m in _random_models(40, seed=3) if _defined(m)]:
        if shortcuts.moves(base):
            assert base.is_zero is not True and base.is_finite is not False, base
    assert all(shortcuts.moves(base) for base in moving)
    stuck = [w**2 + w, w * x + w * b + b * x, w + f, w + 1 / x, sympy.Integer(3), w * x]
    for base in stuck:
        assert not shortcuts.moves(base), base

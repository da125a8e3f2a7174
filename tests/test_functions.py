"""Every catalog function: its lowering, its exact value and its gradient agree."""

import math

import pytest
import torch

from gradcheck_cli import lowering
from gradcheck_cli.errors import UnsupportedError
from gradcheck_cli.exact import evaluate, symbolic
from gradcheck_cli.expr.catalog import FUNCTIONS, markdown_table
from gradcheck_cli.expr.parse import parse
from gradcheck_cli.pipeline import check


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


# (model in w, python-math value as a function of w, points inside the domain)
CASES = {
    "exp": ("exp(w)", math.exp, (-1.3, 0.4, 2.0)),
    "log": ("log(w)", math.log, (0.3, 1.7, 9.0)),
    "log1p": ("log1p(w)", math.log1p, (-0.5, 1e-3, 3.0)),
    "expm1": ("expm1(w)", math.expm1, (-2.0, 1e-4, 1.5)),
    "sqrt": ("sqrt(w)", math.sqrt, (0.25, 2.0, 7.5)),
    "cbrt": ("cbrt(w)", lambda w: w ** (1 / 3), (0.2, 3.0, 27.5)),
    "pow": ("pow(w, 2.5)", lambda w: w**2.5, (0.3, 1.1, 4.0)),
    "abs": ("abs(w)", abs, (-1.5, 0.75)),
    "sign": ("sign(w) + w", lambda w: math.copysign(1, w) + w, (-1.5, 0.75)),
    "sin": ("sin(w)", math.sin, (-2.0, 0.5, 3.0)),
    "cos": ("cos(w)", math.cos, (-2.0, 0.5, 3.0)),
    "tan": ("tan(w)", math.tan, (-1.2, 0.5, 1.0)),
    "asin": ("asin(w)", math.asin, (-0.9, 0.1, 0.6)),
    "acos": ("acos(w)", math.acos, (-0.9, 0.1, 0.6)),
    "atan": ("atan(w)", math.atan, (-3.0, 0.1, 8.0)),
    "atan2": ("atan2(w, 0.5)", lambda w: math.atan2(w, 0.5), (-3.0, 0.1, 8.0)),
    "sinh": ("sinh(w)", math.sinh, (-2.0, 0.5, 3.0)),
    "cosh": ("cosh(w)", math.cosh, (-2.0, 0.5, 3.0)),
    "tanh": ("tanh(w)", math.tanh, (-2.0, 0.5, 3.0)),
    "asinh": ("asinh(w)", math.asinh, (-2.0, 0.5, 3.0)),
    "acosh": ("acosh(w)", math.acosh, (1.5, 3.0, 10.0)),
    "atanh": ("atanh(w)", math.atanh, (-0.9, 0.1, 0.6)),
    "erf": ("erf(w)", math.erf, (-2.0, 0.5, 1.5)),
    "erfc": ("erfc(w)", math.erfc, (-2.0, 0.5, 1.5)),
    "gamma": ("gamma(w)", lambda w: abs(math.gamma(w)), (0.3, 2.5, 6.2, -1.5)),
    "lgamma": ("lgamma(w)", math.lgamma, (0.3, 2.5, 6.2, -2.5)),
    "relu": ("relu(w)", lambda w: max(w, 0.0), (-1.5, 0.75)),
    "leaky_relu": ("leaky_relu(w, 0.2)", lambda w: w if w > 0 else 0.2 * w, (-1.5, 0.75)),
    "elu": ("elu(w, 1.5)", lambda w: w if w > 0 else 1.5 * math.expm1(w), (-1.5, 0.75)),
    "selu": (
        "selu(w)",
        lambda w: 1.0507009873554805 * (w if w > 0 else 1.6732632423543772 * math.expm1(w)),
        (-1.5, 0.75),
    ),
    "gelu": ("gelu(w)", lambda w: w / 2 * (1 + math.erf(w / math.sqrt(2))), (-1.5, 0.75, 3.0)),
    "silu": ("silu(w)", lambda w: w * _sigmoid(w), (-1.5, 0.75, 3.0)),
    "mish": ("mish(w)", lambda w: w * math.tanh(math.log1p(math.exp(w))), (-1.5, 0.75, 3.0)),
    "sigmoid": ("sigmoid(w)", _sigmoid, (-1.5, 0.75, 3.0)),
    "logsigmoid": ("logsigmoid(w)", lambda w: math.log(_sigmoid(w)), (-1.5, 0.75, 3.0)),
    "softplus": (
        "softplus(w, 2, 3)",
        lambda w: w if 2 * w > 3 else math.log1p(math.exp(2 * w)) / 2,
        (-1.5, 0.75, 2),
    ),
    "hardtanh": ("hardtanh(w, -0.5, 2)", lambda w: min(max(w, -0.5), 2.0), (-1.5, 0.75, 3.0)),
    "clamp": ("clamp(w, -0.5, 2)", lambda w: min(max(w, -0.5), 2.0), (-1.5, 0.75, 3.0)),
    "min": ("min(w, 0.5)", lambda w: min(w, 0.5), (-1.5, 0.75)),
    "max": ("max(w, 0.5)", lambda w: max(w, 0.5), (-1.5, 0.75)),
    "hypot": ("hypot(w, 0.5)", lambda w: math.hypot(w, 0.5), (-1.5, 0.75)),
}


def test_every_function_has_a_case():
    assert set(CASES) == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_lowering_and_exact_value_agree_with_python_math(name):
    model, reference, points = CASES[name]
    expr = parse(model)
    forward = lowering.lower(expr)
    exact_expr = symbolic.to_sympy(expr)
    for w in points:
        got = forward({"w": torch.tensor(w, dtype=torch.float64), "__dtype__": torch.float64})
        exact = float(evaluate.exact(exact_expr, {"w": w}))
        want = reference(w)
        assert exact == pytest.approx(want, rel=1e-13, abs=1e-15), (model, w)
        assert float(got) == pytest.approx(want, rel=1e-13, abs=1e-15), (model, w)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_passes(name, dtype):
    """Every point passes; in float64 the exact gradient also agrees with an independent
    answer: central differences of the python-math reference."""
    model, reference, points = CASES[name]
    for w in points:
        result = check(model, loss="none", dtype=dtype, at={"w": w})
        assert [g.verdict for g in result.gradients] == ["pass"], (model, w, result.gradients)
        if dtype == "float64":
            h = 1e-6 * max(1.0, abs(w))
            fd = (reference(w + h) - reference(w - h)) / (2 * h)
            assert result.gradients[0].exact == pytest.approx(fd, rel=1e-6, abs=1e-6), (model, w)


def test_symbol_in_a_constant_argument_is_refused():
    with pytest.raises(UnsupportedError, match="'leaky_relu': argument 2 \\(negative_slope\\)"):
        parse("leaky_relu(x, a)")
    with pytest.raises(UnsupportedError, match="'clamp': argument 3 \\(max\\) must be a number"):
        parse("clamp(x, -1, b*2)")
    parse("softplus(x, 2*pi, 10)")  # numbers, including constant expressions, are fine


def test_optional_arguments_default_to_torch():
    for model in ("leaky_relu(w*x)", "elu(w*x)", "softplus(w*x)", "hardtanh(w*x)"):
        for seed in range(4):
            assert check(model, loss="none", seed=seed).ok, model


def test_docs_table_is_current():
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "functions.md").read_text()
    assert markdown_table() in text

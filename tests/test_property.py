"""Random expressions over the whole grammar, at seeded points inside their domains: no false fail.

Each restricted function receives an argument that is inside its domain by construction
(log(0.5 + a**2), asin(0.9*tanh(a)), ...), so any `fail` is a disagreement between torch and the
exact model, not a domain problem. Near kinks may give `kink`; nothing may give `fail`.
"""

import math

import pytest
from domains import LEAVES, SAFE
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gradcheck_cli.errors import GradcheckError
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.expr.parse import parse
from gradcheck_cli.pipeline import check


def _call(name: str, a: str, b: str) -> str:
    return SAFE.get(name, name + "({a})").format(a=a, b=b)


def expressions(depth: int = 3) -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.builds(_call, st.sampled_from(sorted(FUNCTIONS)), inner, inner),
            st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner, st.sampled_from("+-*"), inner),
            st.builds(lambda a, b: f"({a}) / (1 + ({b})**2)", inner, inner),
            st.builds(lambda a: f"-({a})", inner),
        )

    return st.recursive(st.sampled_from(LEAVES), extend, max_leaves=2**depth)


# Functions with a jump or a kink. Applied to a constant that is mathematically at the switch
# (sign(silu(2*sin(pi))): SymPy folds it to sign(0) = 0, torch's sin(fl(pi)) = -8.7e-8 makes it
# -1) the model itself differs by a jump that no first-order bound can cover: a known limitation
# (see the issue notes), so such constant-only arguments are not generated.
SWITCHING = {"sign", "abs", "relu", "leaky_relu", "elu", "hardtanh", "clamp", "min", "max"}


def _switch_on_constant(model: str) -> bool:
    import ast

    for node in ast.walk(parse(model).tree):
        if isinstance(node, ast.Call) and node.func.id in SWITCHING:
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            called = {c.func.id for c in ast.walk(node) if isinstance(c, ast.Call)}
            if not names - called - {"pi", "E"}:
                return True
    return False


def _assert_no_false_fail(model: str, seed: int, dtype: str, loss: str) -> None:
    try:
        parse(model)
    except GradcheckError:  # beyond the grammar's limits (a constant over 1e300): refused in
        assume(False)  # one line by the parser, which is right and not this test's subject
    assume(not _switch_on_constant(model))
    if not {"w", "b"} & set(parse(model).symbols):
        model = f"w*({model})"
    result = check(model, loss=loss, seed=seed, dtype=dtype, samples=2)
    bad = [g for g in result.gradients if g.verdict not in ("pass", "kink") and not _torch_broke(g)]
    assert not bad, (model, seed, dtype, bad)


def _torch_broke(g) -> bool:
    """A fail that confirms itself: torch's gradient is NaN or infinite where the exact one is
    finite (soft_margin_loss's float32 backward overflows exp(-y*z) into inf/inf)."""
    return g.verdict == "fail" and not math.isfinite(g.autograd) and math.isfinite(g.exact)


# derandomize: every run checks the same expressions (no flaky CI). The default run checks a
# few hundred; `pytest -m slow` checks the first 2000 of the same kind, and explores new,
# deeper ones with more losses on every run.
DERANDOMIZED = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
DEFAULT_ARGS = (
    expressions(),
    st.integers(0, 10_000),
    st.sampled_from(["float32", "float64"]),
    st.sampled_from(["mse", "none", "huber", "bce_logits"]),
)


@settings(max_examples=200, **DERANDOMIZED)
@given(*DEFAULT_ARGS)
def test_random_expressions_have_no_false_fail(model, seed, dtype, loss):
    _assert_no_false_fail(model, seed, dtype, loss)


@pytest.mark.slow
@settings(max_examples=2000, **DERANDOMIZED)
@given(*DEFAULT_ARGS)
def test_random_expressions_have_no_false_fail_2000(model, seed, dtype, loss):
    _assert_no_false_fail(model, seed, dtype, loss)


@pytest.mark.slow
@settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    expressions(4),
    st.integers(0, 10_000),
    st.sampled_from(["float32", "float64"]),
    st.sampled_from(["mse", "none", "l1", "smooth_l1", "soft_margin", "(z-y)**4"]),
)
def test_random_expressions_have_no_false_fail_slow(model, seed, dtype, loss):
    _assert_no_false_fail(model, seed, dtype, loss)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "model",
    [
        "v1*tanh(w1*x+b1) + v2*tanh(w2*x+b2) + c",
        "softplus(a*x**3 + b*x**2 + c*x + d)",
        "sigmoid(v*relu(w*x+b) + c)",
        "log(1 + exp(w*x)) * gelu(b)",
    ],
)
def test_nested_models_pass(model, dtype):
    for seed in range(5):
        assert check(model, seed=seed, dtype=dtype, samples=3).ok, (model, seed)


def test_two_layer_network_at_hand_given_point():
    at = {
        "v1": 0.5,
        "w1": -1.25,
        "b1": 0.25,
        "v2": 2.0,
        "w2": 0.75,
        "b2": -0.5,
        "c": 0.125,
        "x": 1.5,
        "y": 0.3,
    }
    result = check("v1*tanh(w1*x+b1) + v2*tanh(w2*x+b2) + c", at=at, dtype="float64")
    import math

    h1, h2 = math.tanh(-1.25 * 1.5 + 0.25), math.tanh(0.75 * 1.5 - 0.5)
    z = 0.5 * h1 + 2.0 * h2 + 0.125
    want = {
        "v1": 2 * (z - 0.3) * h1,
        "w1": 2 * (z - 0.3) * 0.5 * (1 - h1**2) * 1.5,
        "c": 2 * (z - 0.3),
    }
    got = {g.param: g for g in result.gradients}
    for name, value in want.items():
        assert got[name].exact == pytest.approx(value, rel=1e-12)
        assert got[name].autograd == pytest.approx(value, rel=1e-12)
    assert result.ok


# Every loss, both reductions, 1-3 samples: the model is wrapped into the loss's domain (bce
# takes a probability, poisson_nll without log_input a positive rate).
def _for_loss(model: str, loss: str) -> tuple[str, dict]:
    options: dict = {}
    if loss == "bce":
        model = f"sigmoid({model})"
    if loss == "poisson_nll_rate":
        loss, options, model = "poisson_nll", {"log_input": False}, f"exp({model})"
    return model, {"loss": loss, **options}


EVERY_LOSS = [
    "mse",
    "l1",
    "huber",
    "smooth_l1",
    "bce",
    "bce_logits",
    "soft_margin",
    "poisson_nll",
    "poisson_nll_rate",
    "gaussian_nll",
    "none",
    "(z-y)**4",
]


def _assert_every_loss(model, seed, dtype, loss, reduction, samples):
    from gradcheck_cli.errors import GradcheckError

    assume(not _switch_on_constant(model))
    if not {"w", "b"} & set(parse(model).symbols):
        model = f"w*({model})"
    model, options = _for_loss(model, loss)
    try:
        result = check(
            model, seed=seed, dtype=dtype, reduction=reduction, samples=samples, **options
        )
    except GradcheckError:
        return  # a one-line error is an honest outcome; any other exception fails the test
    bad = [g for g in result.gradients if g.verdict == "fail"]
    assert not bad, (model, seed, dtype, options, reduction, samples, bad)


EVERY_LOSS_ARGS = (
    expressions(2),
    st.integers(0, 10_000),
    st.sampled_from(["float32", "float64"]),
    st.sampled_from(EVERY_LOSS),
    st.sampled_from(["mean", "sum"]),
    st.integers(1, 3),
)


@settings(max_examples=40, **DERANDOMIZED)
@given(*EVERY_LOSS_ARGS)
def test_every_loss_no_false_fail_and_no_unexpected_exception(
    model, seed, dtype, loss, reduction, samples
):
    _assert_every_loss(model, seed, dtype, loss, reduction, samples)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(*EVERY_LOSS_ARGS)
def test_every_loss_no_false_fail_and_no_unexpected_exception_slow(
    model, seed, dtype, loss, reduction, samples
):
    _assert_every_loss(model, seed, dtype, loss, reduction, samples)

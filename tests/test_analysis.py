"""Rounding-error analysis: rounding is told from real errors, with independent answers."""

import math

import numpy as np
import pytest
import torch
from conftest import scaled_exp

from gradcheck_cli.dtypes import floats_between, ulp
from gradcheck_cli.pipeline import check


def grads(result):
    return {g.param: g for g in result.gradients}


def test_tutorial_float32_gradients_pass_with_small_ulps_and_bits(tutorial):
    for g in tutorial.gradients:
        assert g.verdict == "pass" and not g.ill_conditioned
        assert g.ulps < 1 and g.bits <= 1  # torch is within one float32 ulp here
        assert g.abs_error <= g.bound  # the bound covers the actual error
        assert 1 <= g.kappa < 10  # a well-conditioned gradient
        assert g.bound_method == "aten" and g.exact_certified


def test_tutorial_hand_calculation_rounding_and_mistake():
    r = check("w*x+b", loss="mse", seed=1, expect=(("w", "-1.4793"), ("b", "1.7626")))
    g = grads(r)
    assert g["b"].expect.classification == "rounding"
    assert g["w"].expect.classification == "mistake"
    # envelope radius at 4 decimals: sum of |partials| * 0.5e-4 (computed by hand below) + the
    # rounding of the printed answer, 0.5e-4
    x, y, w, b = (dict(r.values)[k][0] for k in "xywb")
    res = w * x + b - y
    radius_w = (abs(2 * res + 2 * w * x) + abs(2 * x * x) + abs(2 * x) + abs(2 * x)) * 0.5e-4
    assert g["w"].envelope.radius == pytest.approx(radius_w + 0.5e-4, rel=1e-3)
    assert 1.5e-4 < g["w"].envelope.radius - 0.5e-4 < 2.5e-4  # "about 2e-4", as the issue says
    assert g["w"].expect.radii > 1000
    assert r.status == "fail"  # a mistake makes the exit code 1


def test_decimals_shows_an_envelope_without_expect():
    r = check("w*x+b", seed=1, decimals=2)
    for g in r.gradients:
        assert g.envelope.decimals == 2 and g.expect is None
        assert 0.01 < g.envelope.radius < 0.05
    assert r.status == "pass"


def test_expect_value_inside_lenient_band_only():
    r = check("w*x+b", seed=1, expect=(("b", "1.7633"),))
    hand = grads(r)["b"].expect
    assert hand.envelope.radius < hand.distance <= hand.envelope.lenient_radius
    assert hand.classification == "rounding (intermediates)"


@pytest.mark.parametrize(
    ("model", "x"),
    [
        ("sqrt(x+1)-sqrt(x)", 1e6),  # FPBench NMSE example 3.1
        ("1/(x+1)-1/x", 1e6),  # FPBench NMSE example 3.3
        ("x-sin(x)", 1e-3),
    ],  # derivative 1 - cos(x): cancellation near 0
)
def test_ill_conditioned_but_correct_passes(model, x):
    r32 = grads(check(model, loss="none", at={"x": x}))["x"]
    assert r32.rel_error > 1e-3  # most bits lost to cancellation ...
    assert r32.kappa > 1e3  # ... which the condition number predicts
    assert r32.verdict == "pass" and r32.ill_conditioned
    r64 = grads(check(model, loss="none", at={"x": x}, dtype="float64"))["x"]
    assert r64.verdict == "pass"
    assert r64.abs_error < r32.abs_error * 2.0**-20  # float64 confirms: it was rounding


def test_exp_minus_one_near_zero_is_well_conditioned():
    g = grads(check("exp(x)-1", loss="none", at={"x": 1e-6}))["x"]
    assert g.verdict == "pass" and g.kappa < 10  # the gradient exp(x) has no cancellation


SlightlyWrongExp = scaled_exp(1.001)  # exp whose backward is off by one part in 10^3


@pytest.mark.parametrize("w", [-15.0, -18.0, -20.0])
def test_wrong_backward_fails_even_where_atol_would_pass(w):
    r = check(
        "exp(w*x)",
        loss="none",
        params=["w"],
        at={"w": w, "x": 1.0},
        lowerings={"exp": SlightlyWrongExp},
    )
    g = grads(r)["w"]
    assert torch.allclose(torch.tensor(g.autograd), torch.tensor(g.exact), rtol=0, atol=1e-5)
    assert g.verdict == "fail"
    assert "a real error" in g.note  # the float64 ladder does not shrink the error
    good = grads(check("exp(w*x)", loss="none", params=["w"], at={"w": w, "x": 1.0}))["w"]
    assert good.verdict == "pass"


def test_exact_zero_gradient():
    g = grads(check("w*x - w*x + b", seed=1))["w"]
    assert (g.exact, g.autograd, g.abs_error, g.verdict) == (0.0, 0.0, 0.0, "pass")
    assert g.rel_error is None and g.kappa is None


def test_overflowing_gradient_expects_infinity():
    g = grads(check("exp(w*x)", loss="none", params=["w"], at={"w": 100.0, "x": 1.0}))["w"]
    assert g.autograd == math.inf and g.exact == pytest.approx(math.exp(100))
    assert g.verdict == "pass" and "overflow" in g.note


class NaNBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.tanh(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * torch.full_like(grad, float("nan"))


def test_nan_from_autograd_is_a_fail():
    g = grads(check("tanh(w)*x", seed=1, lowerings={"tanh": NaNBackward.apply}))["w"]
    assert math.isnan(g.autograd) and g.verdict == "fail" and "NaN" in g.note


def test_ulp_and_floats_between_against_numpy():
    one32 = np.float32(1.0)
    next32 = float(np.nextafter(one32, np.float32(2)))
    assert floats_between(1.0, next32, "float32") == 1
    assert floats_between(-next32, next32, "float32") == 2 * (2**23 * 127 + 1)
    assert floats_between(1.0, float(np.nextafter(1.0, 2.0)), "float64") == 1
    assert floats_between(-0.0, 0.0, "float32") == 0
    assert ulp(1.0, "float32") == next32 - 1.0
    assert ulp(1.5, "float64") == float(np.spacing(1.5))
    assert ulp(0.0, "float32") == 2.0**-149


def test_floats_between_counts_as_numpy_steps_do():
    """Counted independently: numpy's nextafter, one step at a time, over short runs."""
    rng = np.random.default_rng(5)
    kinds = {"float16": np.float16, "float32": np.float32, "float64": np.float64}
    for dtype, kind in kinds.items():
        info = np.finfo(kind)
        starts = [kind(0.0), kind(-0.0), info.tiny, -info.tiny, info.max, -info.max, kind(1)]
        starts += [kind(s) for s in rng.standard_normal(20) * 10.0 ** rng.integers(-4, 4, 20)]
        for start in starts:
            for direction in (kind(np.inf), kind(-np.inf)):
                value, steps = start, 0
                for _ in range(int(rng.integers(0, 40))):
                    if np.isinf(value):
                        break
                    with np.errstate(over="ignore"):  # max -> inf: one more step
                        value, steps = np.nextafter(value, direction), steps + 1
                assert floats_between(float(start), float(value), dtype) == steps, (
                    dtype,
                    start,
                    value,
                )


def test_float64_run_reports_top_of_ladder_on_failure():
    r = check(
        "exp(w*x)",
        loss="none",
        params=["w"],
        at={"w": -2.0, "x": 1.0},
        dtype="float64",
        lowerings={"exp": SlightlyWrongExp},
    )
    g = grads(r)["w"]
    assert g.verdict == "fail" and "no higher precision" in g.note


def test_sympy_fallback_bound_defers_to_the_precision_ladder():
    # lgamma of a negative argument has no aten handler (glibc documents no error there): the
    # bound falls back to the SymPy gradient, where SymPy has cancelled a - a to 0 (bound 0)
    # while torch leaves ~2e-8.
    r = check("w/(1+w**2) - w/(1+w**2) + lgamma(-2.5 + 0*w)", loss="huber", seed=179, samples=2)
    g = grads(r)["w"]
    assert g.bound_method == "sympy" and g.bound == 0.0 and g.abs_error > 0
    assert g.verdict == "pass" and "precision ladder" in g.note
    # a real error on the same path still fails: the ladder does not shrink it
    bad = check(
        "exp(w*x) + lgamma(-2.5 + 0*w)",
        loss="huber",
        params=["w"],
        at={"w": -2.0, "x": 1.0},
        lowerings={"exp": SlightlyWrongExp},
    )
    assert grads(bad)["w"].bound_method == "sympy" and bad.status == "fail"

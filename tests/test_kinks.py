"""Kinks give `kink` with torch's convention; domain problems give `undefined`; NaN is named."""

import pytest
from typer.testing import CliRunner

from gradcheck_cli.cli import app
from gradcheck_cli.pipeline import check


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "model, at, autograd, left, right",
    [
        ("relu(w)", {"w": 0.0}, 0.0, 0.0, 1.0),  # torch: relu'(0) = 0
        ("abs(w)", {"w": 0.0}, 0.0, -1.0, 1.0),  # torch: abs'(0) = sign(0) = 0
        ("leaky_relu(w, 0.25)", {"w": 0.0}, 0.25, 0.25, 1.0),  # torch takes the slope branch
        ("hardtanh(w)", {"w": 1.0}, 0.0, 1.0, 0.0),  # torch: 0 at both ends
        ("clamp(w, -1, 2)", {"w": 2.0}, 1.0, 1.0, 0.0),  # torch: 1 at both ends
        ("max(w, 3)", {"w": 3.0}, 0.5, 0.0, 1.0),  # torch: a tie splits the gradient
        ("elu(w, 2)", {"w": 0.0}, 2.0, 2.0, 1.0),
    ],
)
def test_kink_reports_torch_convention(model, at, autograd, left, right, dtype):
    result = check(model, loss="none", at=at, dtype=dtype)
    (g,) = result.gradients
    assert (g.verdict, g.autograd, g.exact) == ("kink", autograd, autograd)  # exact: small values
    assert (g.left, g.right) == pytest.approx((left, right), abs=1e-20)
    assert result.ok and result.status == "kink"
    assert not check(model, loss="none", at=at, dtype=dtype, strict=True).ok


def test_kink_in_the_loss_and_smooth_points_pass():
    result = check("w*x", loss="l1", at={"w": 1.0, "x": 2.0, "y": 2.0})
    assert result.gradients[0].verdict == "kink"
    assert check("relu(w)", loss="none", at={"w": 0.5}).status == "pass"
    assert check("abs(w)**2", loss="none", at={"w": 0.0}).status == "pass"  # differentiable


@pytest.mark.parametrize(
    "model, at, where",
    [
        ("log(w)", {"w": -1.0}, "log(w)"),
        ("sqrt(w)", {"w": 0.0}, "sqrt(w)"),
        ("w/x", {"w": 1.0, "x": 0.0}, "w/x"),  # the division as typed
        ("acosh(w)", {"w": 0.5}, "acosh(w)"),
        ("atanh(w)", {"w": 1.0}, "atanh(w)"),
        ("cbrt(w)", {"w": -8.0}, "cbrt(w)"),
    ],
)
def test_domain_gives_undefined(model, at, where):
    result = check(model, loss="none", at=at)
    (g,) = result.gradients
    assert g.verdict == "undefined" and where in g.note and "--seed" in g.note
    assert not result.ok


def test_nan_where_exact_is_finite_is_a_named_fail():
    result = check("exp(w)/exp(w)", loss="none", at={"w": 100.0})
    (g,) = result.gradients
    assert g.verdict == "fail" and "'exp(w)' is [inf]" in g.note


def test_cli_exit_codes():
    runner = CliRunner()
    assert runner.invoke(app, ["relu(w)", "--loss", "none", "--at", "w=0"]).exit_code == 0
    assert (
        runner.invoke(app, ["relu(w)", "--loss", "none", "--at", "w=0", "--strict"]).exit_code == 1
    )
    out = runner.invoke(app, ["log(w)", "--loss", "none", "--at", "w=-1"])
    assert out.exit_code == 1 and "UNDEFINED" in out.output
    out = runner.invoke(app, ["w*x", "--loss", "huber", "--delta", "0.5", "--format", "json"])
    assert out.exit_code == 0 and '"status": "pass"' in out.output


def test_clamp_of_a_clamp_at_its_switch_is_checked_promptly():
    # Found by benchmarks/random_checks.py: a constant clamp nested in clamps, exactly at the
    # switch, kept SymPy rebuilding Piecewise derivatives for minutes in the near-kink scale.
    # The model is 0.5 * (sin(sinh(2 sin x)) - min(b - 2, 0.5 + c)); its gradients are the
    # constant factor 0.5 times min's one-hot, so each parameter's is 0.5 * dL/dz or 0.
    model = (
        "clamp(hardtanh(clamp(0.5, -0.5, 0.5), -0.5, 0.5), -0.5, 0.5)"
        " * (sin(sinh(2*sin(x))) - min(b - 2, 0.5 + c))"
    )
    result = check(model, loss="huber", seed=3, dtype="float64", at={"b": 1.0, "c": 2.0})
    grads = {g.param: g for g in result.gradients}
    assert result.status == "pass"
    assert grads["c"].exact == 0.0  # min picks b - 2 = -1 < 2.5
    assert grads["b"].exact != 0.0

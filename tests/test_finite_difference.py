"""``--fd``: torch.autograd.gradcheck's central difference beside the exact value, and where
its verdict differs from gradcheck's: a false alarm (curvature) and a miss (a backward off by
one part in 10^5)."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import TUTORIAL, gradcheck, scaled_exp

from gradcheck_cli import check


def grads(result):
    return {g.param: g for g in result.gradients}


def mse_loss(w, x, b, y):
    """The tutorial's loss in float64, by hand: (w*x + b - y)^2 (one sample, mean = itself)."""
    d = w * x + b - y
    return d * d


def test_tutorial_central_difference_matches_the_hand_computed_one():
    """For a quadratic the central difference has no truncation error: it is the derivative
    2x(wx+b-y) up to the rounding of the two losses, about ulp(L) / eps."""
    x, y, w, b = (TUTORIAL[k] for k in ("x", "y", "w", "b"))
    eps = 1e-6
    hand = {
        "w": (mse_loss(w + eps, x, b, y) - mse_loss(w - eps, x, b, y)) / (2 * eps),
        "b": (mse_loss(w, x, b + eps, y) - mse_loss(w, x, b - eps, y)) / (2 * eps),
    }
    derivative = {"w": 2 * x * (w * x + b - y), "b": 2 * (w * x + b - y)}
    found = grads(check("w*x+b", loss="mse", seed=1, fd=True))
    for name in ("w", "b"):
        fd = found[name].finite_difference
        assert fd.eps == eps
        assert fd.value == pytest.approx(hand[name], rel=1e-12, abs=0)
        assert abs(fd.value - derivative[name]) < 1e-9  # rounding of L only: 2^-53 * 0.8 / 1e-6
        assert fd.abs_error == pytest.approx(abs(fd.value - found[name].exact), rel=1e-6)
        assert fd.torch_gradcheck_would_pass


def test_without_fd_there_is_no_column(tutorial):
    assert all(g.finite_difference is None for g in tutorial.gradients)


def torch_gradcheck(function, at: float) -> bool:
    """torch.autograd.gradcheck itself on a function of one float64 parameter."""
    p = torch.tensor([at], dtype=torch.float64, requires_grad=True)
    return torch.autograd.gradcheck(function, (p,), raise_exception=False)


def test_curvature_makes_finite_differences_false_alarm():
    """sin(k*w): the central difference's truncation error k^3 cos(kw) eps^2 / 6 is a relative
    k^2 eps^2 / 6 = 1.7e-3 of the gradient at k = 1e5, beyond rtol = 1e-3: gradcheck fails a
    correct backward, which the exact check passes."""
    k, w = 100000.0, 0.3
    g = grads(check("sin(100000*w)", loss="none", dtype="float64", at={"w": w}, fd=True))["w"]
    assert g.verdict == "pass"
    fd = g.finite_difference
    truncation = k**3 * abs(torch.cos(torch.tensor(k * w, dtype=torch.float64)).item()) / 6e12
    assert abs(fd.value - g.exact) == pytest.approx(truncation, rel=0.01)
    assert fd.abs_error > 1e-5 + 1e-3 * abs(fd.value)
    assert not fd.torch_gradcheck_would_pass
    assert not torch_gradcheck(lambda p: torch.sin(100000 * p), w)  # torch agrees


def test_a_backward_off_by_1e5_relative_is_missed_by_finite_differences():
    """exp whose backward is scaled by 1 + 1e-5: within gradcheck's rtol, so it passes there;
    the exact check in float64 fails it."""
    wrong = scaled_exp(1 + 1e-5)
    r = check(
        "exp(w)", loss="none", dtype="float64", at={"w": 0.7}, fd=True, lowerings={"exp": wrong}
    )
    g = grads(r)["w"]
    assert g.verdict == "fail"
    assert g.finite_difference.torch_gradcheck_would_pass
    assert g.finite_difference.abs_error < 1e-8  # the forward is right: so is the difference
    assert torch_gradcheck(wrong, 0.7)  # torch agrees: the wrong backward passes


def test_cli_fd_json_and_table():
    result = gradcheck("w*x+b", "--loss", "mse", "--seed", "1", "--fd", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    for g in data["gradients"]:
        fd = g["finite_difference"]
        assert set(fd) >= {"value", "eps", "abs_error", "torch_gradcheck_would_pass"}
        assert fd["eps"] == 1e-6 and fd["torch_gradcheck_would_pass"] is True
        assert abs(fd["value"] - g["exact"]) == pytest.approx(fd["abs_error"], rel=1e-6)
    table = gradcheck("w*x+b", "--fd").stdout
    assert "Finite differences (torch.autograd.gradcheck" in table
    fd_w = data["gradients"][0]["finite_difference"]["value"]
    assert repr(fd_w) in table  # the number in full


def test_fd_in_a_case_file(tmp_path):
    path = tmp_path / "cases.toml"
    path.write_text('[[case]]\nmodel = "w*x+b"\nfd = true\n')
    result = gradcheck("--file", path, "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert '"torch_gradcheck_would_pass": true' in result.stdout

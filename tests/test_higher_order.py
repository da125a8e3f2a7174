"""Second derivatives (--order 2) and forward mode (--mode forward|both)."""

import json
import math
from fractions import Fraction

import pytest
import torch
from conftest import gradcheck
from test_functions import CASES

from gradcheck_cli.pipeline import check


def hessian(result):
    return {h.params: h.entry for h in result.hessian}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hessian_of_the_tutorials_second_model_is_2x4_2x2_2(dtype):
    """mse of z = w*x**2 + b over one sample: L = (w*x**2 + b - y)**2, so d2L/dw2 = 2*x**4,
    d2L/dw db = 2*x**2, d2L/db2 = 2, computed here exactly from the drawn x (Fraction
    arithmetic is exact, float() rounds correctly, as the exact column is rounded)."""
    result = check("w*x**2+b", loss="mse", seed=1, dtype=dtype, order=2)
    x = Fraction(dict(result.values)["x"][0])
    want = {("w", "w"): 2 * x**4, ("w", "b"): 2 * x**2, ("b", "b"): Fraction(2)}
    found = hessian(result)
    assert list(found) == list(want)  # each pair once, in the order of the parameters
    for pair, value in want.items():
        assert found[pair].exact == float(value), pair
        assert found[pair].verdict == "pass", (pair, found[pair])
        assert found[pair].bound_method == "aten"  # the double backward was traced
        assert abs(found[pair].autograd - float(value)) <= found[pair].tolerance
    assert [h.entry.formula for h in result.hessian] == ["2*x**4", "2*x**2", "2"]
    assert result.status == "pass" and result.ok


def test_order_2_on_the_command_line():
    run = gradcheck("w*x**2+b", "--order", "2", "--format", "json")
    assert run.exit_code == 0, run.stderr
    document = json.loads(run.stdout)
    assert [h["params"] for h in document["hessian"]] == [["w", "w"], ["w", "b"], ["b", "b"]]
    keys = {"params", "formula", "exact", "autograd", "abs_error", "rel_error", "bound"}
    assert keys | {"verdict"} <= set(document["hessian"][0])
    table = gradcheck("w*x**2+b", "--order", "2")
    assert "Second derivatives" in table.stdout and "d2/dw db" in table.stdout
    assert table.stdout.startswith("PASS: all 5 derivatives agree")
    assert gradcheck("w*x+b", "--order", "3").exit_code == 2


def wrong_second_order_sin(slope: float):
    """torch.sin whose backward is right in value but wrong in its own derivative: it adds
    slope * g * (x - x.detach()), which is 0 at every point but differentiates to slope * g,
    so the double backward is off by slope times the incoming gradient."""

    class Sin(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.sin(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * torch.cos(x) + slope * g * (x - x.detach())

    return Sin.apply


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_wrong_double_backward_fails_while_the_gradients_pass(dtype):
    lowerings = {"sin": wrong_second_order_sin(0.25)}
    result = check("sin(w*x)+b", seed=1, dtype=dtype, order=2, lowerings=lowerings)
    assert [g.verdict for g in result.gradients] == ["pass", "pass"]
    found = hessian(result)
    assert found["w", "w"].verdict == "fail", found["w", "w"]
    assert found["w", "b"].verdict == "pass" and found["b", "b"].verdict == "pass"
    assert result.status == "fail" and not result.ok
    # the right answer, by hand: L = (sin(w x) + b - y)^2, d2L/dw2 = 2 x^2 (cos^2 - r sin)
    v = {k: items[0] for k, items in result.values}
    s, c = math.sin(v["w"] * v["x"]), math.cos(v["w"] * v["x"])
    right = 2 * v["x"] ** 2 * (c * c - (s + v["b"] - v["y"]) * s)
    assert found["w", "w"].exact == pytest.approx(right, rel=1e-12)
    same = check("sin(w*x)+b", seed=1, dtype=dtype, order=2)
    assert hessian(same)["w", "w"].verdict == "pass"


def test_forward_mode_of_a_custom_function_without_jvp_is_a_note():
    lowerings = {"sin": wrong_second_order_sin(0.0)}  # forward and backward only: no jvp
    both = check("sin(w*x)+b", seed=1, mode="both", lowerings=lowerings)
    assert [g.verdict for g in both.gradients] == ["pass", "pass"]
    assert all(g.forward is None for g in both.gradients)
    assert all("forward mode unavailable (no forward-mode rule" in g.note for g in both.gradients)
    alone = check("sin(w*x)+b", seed=1, mode="forward", lowerings=lowerings)
    assert all("reverse mode checked instead" in g.note for g in alone.gradients)
    assert alone.ok and alone.to_dict()["mode"] == "forward"


def sin_with_jvp(factor: float):
    """torch.sin with a right backward and a forward-mode rule (jvp) scaled by ``factor``."""

    class Sin(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return torch.sin(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * torch.cos(x)

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * torch.cos(x) * factor

    return Sin.apply


def test_a_wrong_forward_mode_rule_fails_only_in_forward_mode():
    right = check("sin(w*x)+b", seed=1, mode="both", lowerings={"sin": sin_with_jvp(1.0)})
    assert right.ok and [g.forward.verdict for g in right.gradients] == ["pass", "pass"]
    wrong = check("sin(w*x)+b", seed=1, mode="both", lowerings={"sin": sin_with_jvp(1.001)})
    assert [g.verdict for g in wrong.gradients] == ["pass", "pass"]  # reverse mode is right
    assert [g.forward.verdict for g in wrong.gradients] == ["fail", "pass"]
    assert wrong.status == "fail" and "disagree: w (forward)" in wrong.problems()


def test_mode_on_the_command_line():
    run = gradcheck("w*x+b", "--mode", "both", "--format", "json")
    assert run.exit_code == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["mode"] == "both"
    for g in document["gradients"]:
        assert g["forward"]["verdict"] == "pass"
        assert g["forward"]["exact"] == g["exact"]  # the same exact gradient
    table = gradcheck("w*x+b", "--mode", "both").stdout
    assert "Forward mode" in table and table.startswith("PASS: all 4 derivatives agree")
    assert json.loads(gradcheck("w*x+b", "--format", "json").stdout)["mode"] == "reverse"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_mode_agrees_with_reverse_mode(name, dtype):
    """Over the catalog's safe points: forward mode passes, against the same exact gradient,
    and agrees with reverse mode within the two tolerances."""
    model, _, points = CASES[name]
    for w in points:
        result = check(model, loss="none", dtype=dtype, at={"w": w}, mode="both")
        (g,) = result.gradients
        assert g.verdict == "pass" and g.forward.verdict == "pass", (model, w, g.forward)
        assert g.forward.exact == g.exact
        assert abs(g.forward.autograd - g.autograd) <= g.tolerance + g.forward.tolerance


def test_order_and_mode_are_case_file_keys(tmp_path):
    cases = tmp_path / "cases.toml"
    cases.write_text('[[case]]\nmodel = "w*x**2+b"\norder = 2\nmode = "both"\n')
    run = gradcheck("--file", cases, "--format", "json")
    assert run.exit_code == 0, run.stderr
    (case,) = json.loads(run.stdout)["cases"]
    assert case["mode"] == "both" and len(case["hessian"]) == 3
    assert all(g["forward"]["verdict"] == "pass" for g in case["gradients"])

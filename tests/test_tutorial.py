"""The autograd tutorial (shared/seeds/000_...txt), reproduced exactly.

The expected numbers are the ones the tutorial prints (torch.manual_seed(10), randn x, y;
torch.manual_seed(1), randn w, b; mse_loss), and the exact gradients are recomputed here
independently with fractions.Fraction from the hand formulas 2*(z-y)*x and 2*(z-y).
"""

from fractions import Fraction

from conftest import TUTORIAL

from gradcheck_cli.pipeline import check


def test_seeded_values_are_the_tutorials(tutorial):
    values = dict(tutorial.values)
    assert {k: v[0] for k, v in values.items()} == TUTORIAL  # same float32 draws, exactly
    assert [f"{values[k][0]:.4f}" for k in "xywb"] == ["-0.6014", "-1.0122", "0.6614", "0.2669"]


def test_forward_pass_matches_tutorial_print(tutorial):
    assert f"{tutorial.z_autograd[0]:.4f}" == "-0.1308"
    assert tutorial.loss_autograd == 0.776868462562561  # the tutorial's printed float32 loss


def test_autograd_gradients_match_tutorial(tutorial):
    grads = {g.param: g for g in tutorial.gradients}
    assert grads["w"].autograd == -1.0601369142532349  # float32 value, exactly as torch prints
    assert grads["b"].autograd == 1.7628028392791748
    assert f"{grads['w'].autograd:.4f}" == "-1.0601"
    assert f"{grads['b'].autograd:.4f}" == "1.7628"


def test_exact_gradients_match_hand_formulas(tutorial):
    x, y, w, b = (Fraction(TUTORIAL[k]) for k in "xywb")
    residual = w * x + b - y
    grads = {g.param: g for g in tutorial.gradients}
    assert grads["w"].exact == float(2 * residual * x)
    assert grads["b"].exact == float(2 * residual)
    assert tutorial.loss_exact == float(residual**2)
    assert grads["w"].formula == "2*x*(b + w*x - y)"


def test_verdicts_and_status(tutorial):
    assert tutorial.status == "pass"
    for g in tutorial.gradients:
        assert g.verdict == "pass"
        assert g.abs_error < 4 * 2**-24 * abs(g.exact)  # a few ulps of float32


def test_second_model_of_the_tutorial():
    result = check("w*x**2+b", loss="mse", seed=1)
    x, y, w, b = (Fraction(TUTORIAL[k]) for k in "xywb")
    residual = w * x**2 + b - y
    grads = {g.param: g for g in result.gradients}
    assert grads["w"].exact == float(2 * residual * x**2)
    assert grads["b"].exact == float(2 * residual)
    assert result.status == "pass"
    assert grads["w"].formula == "2*x**2*(b + w*x**2 - y)"

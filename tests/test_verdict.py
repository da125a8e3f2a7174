"""The verdict rules: unit tests of ``verdict.decide`` on hand-made facts, and whole checks
whose right verdict is known independently (a backward wrong by a known factor, values worked
out by hand)."""

import math

import mpmath
import pytest
import torch
from conftest import scaled_exp, scaled_tanh

from gradcheck_cli import check
from gradcheck_cli.exact.kinks import Kink, KinkFacts
from gradcheck_cli.verdict import Facts, Ladder, Verdict, decide, overall, success


def test_within_the_bound_passes_and_beyond_it_fails():
    exact = mpmath.mpf(1)
    assert decide(Facts(exact, 1.0 + 2**-23, 2**-24, "float32")).verdict is Verdict.PASS
    assert decide(Facts(exact, 1.0 + 2**-20, 2**-24, "float32")).verdict is Verdict.FAIL


def test_an_infinite_bound_covers_nothing():
    """An intermediate overflowed: only the correctly rounded value can pass."""
    exact = mpmath.mpf("0.1")
    far = decide(Facts(exact, 0.25, math.inf, "float64"))
    assert far.verdict is Verdict.FAIL and "overflows float64" in far.reason
    assert decide(Facts(exact, 0.1, math.inf, "float64")).verdict is Verdict.PASS


def test_an_exact_value_that_underflows_passes_as_zero():
    exact = -60 * mpmath.exp(-900)  # d/dw exp(-w*w) at w = 30: about -1e-389
    for dtype in ("float32", "float64"):
        decision = decide(Facts(exact, 0.0, 0.0, dtype))
        assert decision.verdict is Verdict.PASS and decision.kappa is None or decision.kappa >= 0


def test_infinite_or_nan_autograd_fails_with_its_reason():
    exact = mpmath.mpf("0.5")
    inf = decide(
        Facts(
            exact,
            math.inf,
            1e-8,
            "float32",
            ladder=lambda: Ladder("float64", math.inf, 1e-17, True),
        )
    )
    assert inf.verdict is Verdict.FAIL and "returned an infinity" in inf.reason
    nan = decide(Facts(exact, math.nan, 1e-8, "float32", nan_source=lambda: "'log(w)'"))
    assert nan.verdict is Verdict.FAIL and "NaN" in nan.reason and "'log(w)'" in nan.reason


def test_a_kink_only_where_the_switch_is_hit():
    exact = mpmath.mpf(0)
    at = Kink("relu(w)", "relu'(0) = 0", exact=True)
    inside = KinkFacts(at=(at,), left=0.0, right=1.0)
    assert decide(Facts(exact, 0.5, 0.0, "float64", kinks=lambda: inside)).verdict is (Verdict.KINK)
    assert decide(Facts(exact, 3.0, 0.0, "float64", kinks=lambda: inside)).verdict is (Verdict.FAIL)
    near = KinkFacts(near=(Kink("relu(w)", "relu'(0) = 0", exact=False),))
    assert decide(Facts(exact, 1.0, 0.0, "float64", kinks=lambda: near)).verdict is Verdict.KINK
    assert decide(Facts(exact, 1.0, 0.0, "float64")).verdict is Verdict.FAIL


def test_the_ladder_fails_a_float32_pass_that_is_wrong_in_float64():
    exact = mpmath.mpf(1)
    wrong = Ladder("float64", 1.0 + 1e-7, 2**-53, rigorous=True)
    decision = decide(Facts(exact, 1.0, 2**-24, "float32", ladder=lambda: wrong))
    assert decision.verdict is Verdict.FAIL
    assert "wrong below float32's resolution" in decision.reason
    assert decision.ladder.abs_error == pytest.approx(1e-7, rel=1e-6)
    right = Ladder("float64", 1.0, 2**-53, rigorous=True)
    assert decide(Facts(exact, 1.0, 2**-24, "float32", ladder=lambda: right)).verdict is (
        Verdict.PASS
    )
    fallback = Ladder("float64", 1.0 + 1e-7, 2**-53, rigorous=False)  # not a rigorous bound
    assert decide(Facts(exact, 1.0, 2**-24, "float32", ladder=lambda: fallback)).verdict is (
        Verdict.PASS
    )


def test_status_is_the_worst_verdict_and_success_follows_strict():
    assert overall(["pass", "kink"]) is Verdict.KINK
    assert overall(["kink", "undefined", "pass"]) is Verdict.UNDEFINED
    assert overall(["pass", "fail", "undefined"]) is Verdict.FAIL
    assert success(Verdict.KINK, strict=False) and not success(Verdict.KINK, strict=True)


@pytest.mark.parametrize(
    ("name", "model", "wrong"),
    [("exp", "exp(w*x)+b", scaled_exp), ("tanh", "tanh(w*x)+b", scaled_tanh)],
)
def test_float32_catches_backward_bugs_below_its_resolution(name, model, wrong):
    for seed in (0, 3):
        assert check(model, seed=seed, lowerings={name: wrong(1.0)}).status == "pass"
        for factor in (1 + 1e-5, 1 + 1e-7):
            result = check(model, seed=seed, lowerings={name: wrong(factor)})
            w = result.gradients[0]
            assert w.verdict == "fail", (name, factor, seed, w.note)
            assert w.ladder.abs_error > w.ladder.tolerance
            if factor == 1 + 1e-7:  # float32 alone cannot see it
                assert w.abs_error <= w.tolerance
                assert "below float32's resolution" in w.note


def test_ladder_in_the_json_of_float32_checks_only():
    doc = check("w*x+b", seed=1).to_dict()
    ladder = doc["gradients"][0]["ladder"]
    assert ladder["dtype"] == "float64" and ladder["passed"] is True
    assert ladder["abs_error"] <= ladder["tolerance"]
    assert check("w*x+b", seed=1, dtype="float64").to_dict()["gradients"][0]["ladder"] is None


def test_relu_of_a_far_argument_is_no_kink():
    """relu's argument is acosh(1e200) = 460.5, far from its switch; autograd's 0 against the
    exact 1e-200 (torch's w*w overflows in acosh's backward) is a real failure."""
    result = check("relu(acosh(w))", loss="none", at={"w": 1e200}, dtype="float64")
    assert result.gradients[0].verdict == "fail"
    assert result.gradients[0].exact == pytest.approx(1e-200)


def test_underflowing_gradient_passes_without_a_crash():
    for dtype in ("float32", "float64"):
        result = check("exp(-w*w)", loss="none", at={"w": 30}, dtype=dtype)
        assert result.gradients[0].verdict == "pass"
        assert result.gradients[0].autograd == 0.0


def test_infinite_autograd_against_a_finite_exact_value_fails_without_a_crash():
    result = check(
        "sqrt(sqrt(p0*p0+p1*p1)+p0)",
        loss="none",
        params=["p0", "p1"],
        at={"p0": -1000, "p1": 0.1},
    )
    p0, p1 = result.gradients
    assert p0.verdict == p1.verdict == "fail"
    assert "infinity" in p1.note and math.isinf(p1.autograd)
    # exact d/dp1 = p1 / (2 r s) with r = sqrt(p0^2 + p1^2), s = sqrt(r + p0): by hand in mpmath
    with mpmath.workprec(200):
        p0v, p1v = mpmath.mpf(-1000), mpmath.mpf(torch.tensor(0.1).item())
        r = mpmath.sqrt(p0v**2 + p1v**2)
        assert p1.exact == pytest.approx(float(p1v / (2 * r * mpmath.sqrt(r + p0v))))


def test_constants_torch_holds_inexactly_are_covered_to_every_order():
    """sin(pi) is 0 for SymPy but sin(fl(pi)) = 1.2e-16 for torch: through sign() the model
    itself differs (w + b against b), through silu(...)**2 only at second order (1e-32): both
    are the constant's rounding, not autograd's error (found by a random run of 3000 checks)."""
    jump = check("w*sign(sin(pi))+b", seed=1)
    assert jump.status == "pass"
    assert all("constants torch holds inexactly" in g.note for g in jump.gradients)
    square = check("w*((silu(2*sin(pi))) * (silu(2*sin(pi))))", seed=0, dtype="float64", samples=2)
    assert square.status == "pass"
    wrong = check("exp(0.1*w)", loss="none", seed=2, lowerings={"exp": scaled_exp(1.001)})
    assert wrong.status == "fail"  # the constant term does not hide a wrong backward


def test_a_branch_of_the_backward_flipped_by_rounding_is_a_near_kink():
    """bce's backward divides by max(z(1-z), 1e-12): with z = sigmoid(c/w) about 1 - 4e-8, float32
    rounds z to 1 and takes the clamp (autograd 0 against an exact -13.4); float64 does not.
    Found as a false fail by benchmarks/random_checks.py."""
    result = check("sigmoid(c/w)", loss="bce", seed=2577, samples=2)
    assert result.status == "kink"
    assert all("within rounding error of its switch" in g.note for g in result.gradients)
    assert check("sigmoid(c/w)", loss="bce", seed=2577, samples=2, dtype="float64").status == (
        "pass"
    )

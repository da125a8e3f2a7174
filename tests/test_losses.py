"""Each loss against hand-written derivatives evaluated in Python floats (independent of SymPy)."""

import math

import pytest

from gradcheck_cli.errors import EvaluationError, UnsupportedError
from gradcheck_cli.pipeline import check


def sig(t):
    return 1 / (1 + math.exp(-t))


def sign(t):
    return (t > 0) - (t < 0)


# name -> (model, options, z(w, b, x), per-sample loss l(z, y), dl/dz, dz/dw / x factor)
LIN = ("w*x+b", lambda w, b, x: w * x + b, lambda z: 1.0)
SIG = ("sigmoid(w*x+b)", lambda w, b, x: sig(w * x + b), lambda z: z * (1 - z))
EXP = ("exp(w*x+b)", lambda w, b, x: math.exp(w * x + b), lambda z: z)
CASES = {
    "mse": (LIN, {}, lambda z, y: (z - y) ** 2, lambda z, y: 2 * (z - y)),
    "l1": (LIN, {}, lambda z, y: abs(z - y), lambda z, y: sign(z - y)),
    "mae": (LIN, {}, lambda z, y: abs(z - y), lambda z, y: sign(z - y)),
    "huber": (
        LIN,
        {"delta": 0.5},
        lambda z, y: (z - y) ** 2 / 2 if abs(z - y) < 0.5 else 0.5 * (abs(z - y) - 0.25),
        lambda z, y: (z - y) if abs(z - y) < 0.5 else 0.5 * sign(z - y),
    ),
    "smooth_l1": (
        LIN,
        {"beta": 0.75},
        lambda z, y: (z - y) ** 2 / 1.5 if abs(z - y) < 0.75 else abs(z - y) - 0.375,
        lambda z, y: (z - y) / 0.75 if abs(z - y) < 0.75 else sign(z - y),
    ),
    "bce": (
        SIG,
        {},
        lambda z, y: -(y * math.log(z) + (1 - y) * math.log(1 - z)),
        lambda z, y: (z - y) / (z * (1 - z)),
    ),
    "bce_logits": (LIN, {}, lambda z, y: math.log1p(math.exp(z)) - y * z, lambda z, y: sig(z) - y),
    "soft_margin": (
        LIN,
        {},
        lambda z, y: math.log1p(math.exp(-y * z)),
        lambda z, y: -y * sig(-y * z),
    ),
    "poisson_nll": (LIN, {}, lambda z, y: math.exp(z) - y * z, lambda z, y: math.exp(z) - y),
    "poisson_nll_rate": (
        EXP,
        {"log_input": False, "full": True, "eps": 1e-8},
        lambda z, y: (
            z
            - y * math.log(z + 1e-8)
            + (y * math.log(y) - y + 0.5 * math.log(2 * math.pi * y) if y > 1 else 0.0)
        ),
        lambda z, y: 1 - y / (z + 1e-8),
    ),
    "gaussian_nll": (
        LIN,
        {"var": 2.0, "full": True},
        lambda z, y: (math.log(2.0) + (z - y) ** 2 / 2.0 + math.log(2 * math.pi)) / 2,
        lambda z, y: (z - y) / 2.0,
    ),
    "(z-y)**4": (LIN, {}, lambda z, y: (z - y) ** 4, lambda z, y: 4 * (z - y) ** 3),
}


def _run(name, samples, reduction, dtype="float64", seed=3):
    (model, zf, dz), options, _, _ = CASES[name]
    loss = "poisson_nll" if name == "poisson_nll_rate" else name
    return check(
        model,
        loss=loss,
        seed=seed,
        samples=samples,
        reduction=reduction,
        dtype=dtype,
        loss_options=tuple(options.items()),
    )


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("samples", [1, 4])
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_against_hand_derivative(name, samples, reduction):
    (model, zf, dz), _, lf, dl = CASES[name]
    result = _run(name, samples, reduction)
    values = dict(result.values)
    (w,), (b,) = values["w"], values["b"]
    losses, gw, gb = [], [], []
    for x, y in zip(values["x"], values["y"], strict=True):
        z = zf(w, b, x)
        losses.append(lf(z, y))
        gb.append(dl(z, y) * dz(z))
        gw.append(dl(z, y) * dz(z) * x)
    scale = 1 / samples if reduction == "mean" else 1.0
    assert result.loss_exact == pytest.approx(sum(losses) * scale, rel=1e-10)
    assert result.loss_autograd == pytest.approx(sum(losses) * scale, rel=1e-10)
    want = {"w": sum(gw) * scale, "b": sum(gb) * scale}
    for g in result.gradients:
        assert g.exact == pytest.approx(want[g.param], rel=1e-9, abs=1e-12), g
        assert g.verdict == "pass", g


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_passes_in_float32_over_seeds(name):
    for seed in range(3):
        result = _run(name, 5, "mean", dtype="float32", seed=seed)
        assert result.ok, result.gradients


def test_targets_are_drawn_in_the_loss_domain():
    result = check("sigmoid(w*x)", loss="bce", samples=6, seed=1)
    assert all(0 < y < 1 for y in dict(result.values)["y"])
    result = check("w*x", loss="soft_margin", samples=6, seed=1)
    assert set(dict(result.values)["y"]) <= {-1.0, 1.0}


def test_bce_clamps_the_log_at_minus_100_as_torch():
    # z = 0 exactly with y = 1: torch's log is clamped to -100, so the loss is 100
    result = check("relu(w)", loss="bce", at={"w": -1.0, "y": 1.0}, dtype="float64")
    assert result.loss_exact == 100.0 and result.loss_autograd == 100.0  # exact: -(1*(-100))


def test_bce_refuses_a_model_that_is_not_a_probability():
    with pytest.raises(EvaluationError, match="z in \\[0, 1\\]"):
        check("w*x", loss="bce", at={"w": 3.0, "x": 1.0})


def test_gaussian_variance_is_clamped_at_eps():
    result = check(
        "w*x",
        loss="gaussian_nll",
        at={"w": 1.0, "x": 1.0, "y": 0.0},
        dtype="float64",
        loss_options=(("var", 1e-9), ("eps", 1e-6)),
    )
    assert result.gradients[0].exact == pytest.approx(1e6)  # (z - y) / eps
    assert result.ok


def test_loss_options_are_checked():
    with pytest.raises(UnsupportedError, match="--delta does not apply to loss 'mse'"):
        check("w*x", loss_options=(("delta", 1.0),))
    with pytest.raises(UnsupportedError, match="delta must be > 0, got 0.0"):
        check("w*x", loss="huber", loss_options=(("delta", 0.0),))


def test_custom_loss_errors():
    with pytest.raises(UnsupportedError, match="unknown loss 'msee'"):
        check("w*x", loss="msee")
    with pytest.raises(UnsupportedError, match="uses z, q"):
        check("w*x", loss="(z-q)**2")


def test_custom_loss_without_target():
    result = check("w*x", loss="z**2", at={"w": 3.0, "x": 2.0}, dtype="float64")
    assert result.target is None
    assert result.gradients[0].exact == 2 * 6.0 * 2.0  # d/dw (w x)^2 = 2 w x * x, exact in binary


def test_bce_backward_clamps_at_float32_1e_minus_12_in_every_dtype():
    # Found by the random run: where z(1-z) < 1e-12 torch's float64 gradient was 1 + 4.0e-9
    # times the exact one with the clamp at 1e-12: torch holds the clamp as float32(1e-12).
    import struct

    import mpmath

    from gradcheck_cli import check

    clamp = mpmath.mpf(struct.unpack("f", struct.pack("f", 1e-12))[0])
    result = check("sigmoid(c - 31)", loss="bce", seed=4169, dtype="float64", reduction="sum")
    (g,) = result.gradients
    c, y = (mpmath.mpf(dict(result.values)[k][0]) for k in ("c", "y"))
    with mpmath.workprec(200):
        z = 1 / (1 + mpmath.exp(31 - c))
        assert z * (1 - z) < clamp  # the clamp is active
        want = (z - y) / clamp * z * (1 - z)
    assert g.exact == pytest.approx(float(want), rel=1e-15)
    assert g.verdict == "pass", g.note

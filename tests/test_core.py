"""The core check against independent answers: hand derivatives evaluated in Python floats."""

import math

import pytest
import torch
from conftest import scaled_exp

from gradcheck_cli.errors import RoleError, UnsupportedError
from gradcheck_cli.pipeline import check


def grads(result):
    return {g.param: g for g in result.gradients}


@pytest.mark.parametrize(
    ("model", "derivative"),
    [
        ("exp(w*x)", lambda w, x: x * math.exp(w * x)),
        ("log(w*w+x*x)", lambda w, x: 2 * w / (w * w + x * x)),
        ("sqrt(w*w+1)*x", lambda w, x: x * w / math.sqrt(w * w + 1)),
        (
            "sin(w)*cos(x*w)",
            lambda w, x: math.cos(w) * math.cos(x * w) - x * math.sin(w) * math.sin(x * w),
        ),
        ("tan(w/3)", lambda w, x: (1 / math.cos(w / 3) ** 2) / 3),
        ("tanh(w*x)", lambda w, x: x * (1 - math.tanh(w * x) ** 2)),
        ("abs(w)*x", lambda w, x: math.copysign(1, w) * x),
        ("relu(w)*x", lambda w, x: x if w > 0 else 0.0),
        ("sigmoid(w*x)", lambda w, x: x * math.exp(-w * x) / (1 + math.exp(-w * x)) ** 2),
        ("softplus(w*x)", lambda w, x: x / (1 + math.exp(-w * x))),
        ("w**3/x", lambda w, x: 3 * w * w / x),
        ("log(w*w+2, 2)", lambda w, x: 2 * w / ((w * w + 2) * math.log(2))),
        ("pi*w + E", lambda w, x: math.pi),
    ],
)
@pytest.mark.parametrize("seed", [1, 2, 7])
def test_gradient_of_functions_matches_hand_derivative(model, derivative, seed):
    result = check(model, loss="none", seed=seed, dtype="float64", params=["w"])
    values = {"x": None} | {name: v[0] for name, v in result.values}
    g = grads(result)["w"]
    expected = derivative(values["w"], values["x"])
    assert g.exact == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert g.verdict == "pass", g


def test_mse_with_samples_mean_and_sum_match_hand_formula():
    for reduction, scale in (("mean", 1 / 5), ("sum", 1.0)):
        result = check("w*x+b", loss="mse", seed=3, samples=5, reduction=reduction, dtype="float64")
        v = dict(result.values)
        w, b = v["w"][0], v["b"][0]
        res = [w * x + b - y for x, y in zip(v["x"], v["y"], strict=True)]
        g = grads(result)
        assert g["w"].exact == pytest.approx(
            scale * sum(2 * r * x for r, x in zip(res, v["x"], strict=True)), rel=1e-13
        )
        assert g["b"].exact == pytest.approx(scale * sum(2 * r for r in res), rel=1e-13)
        assert result.loss_exact == pytest.approx(scale * sum(r * r for r in res), rel=1e-13)
        assert result.status == "pass"
        assert len(v["x"]) == 5 and len(v["w"]) == 1


def test_samples_are_drawn_like_torch_randn():
    result = check("w*x+b", loss="mse", seed=4, samples=3)
    gen = torch.Generator().manual_seed(40)
    x, y = torch.randn(3, generator=gen), torch.randn(3, generator=gen)
    gen = torch.Generator().manual_seed(4)
    w, b = torch.randn(1, generator=gen), torch.randn(1, generator=gen)
    v = dict(result.values)
    assert v["x"] == tuple(x.tolist()) and v["y"] == tuple(y.tolist())
    assert v["w"] == tuple(w.tolist()) and v["b"] == tuple(b.tolist())


def test_seeding_does_not_touch_global_rng():
    torch.manual_seed(123)
    before = torch.randn(1)
    torch.manual_seed(123)
    check("w*x+b", seed=1)
    assert torch.randn(1) == before


def test_at_overrides_seeded_values_and_keeps_the_others():
    seeded = dict(check("w*x+b", seed=1).values)
    fixed = dict(check("w*x+b", seed=1, at={"w": 0.5, "x": 2}).values)
    assert fixed["w"] == (0.5,) and fixed["x"] == (2.0,)
    assert fixed["b"] == seeded["b"] and fixed["y"] == seeded["y"]


def test_at_value_is_rounded_to_the_dtype():
    result = check("w*x", loss="none", at={"w": 0.1, "x": 1}, params=["w"])
    assert dict(result.values)["w"] == (float(torch.tensor(0.1, dtype=torch.float32)),)


def test_roles_defaults_and_explicit():
    r = check("w*x+b", seed=1)
    assert (r.inputs, r.target, r.params) == (("x",), "y", ("w", "b"))
    r = check("w*x+b", seed=1, params=["x"])
    assert r.params == ("x",) and set(r.inputs) == {"w", "b"}
    r = check("a*t1+c", seed=1, inputs=["t1"], target="t", params=["a", "c"])
    assert (r.inputs, r.target, r.params) == (("t1",), "t", ("a", "c"))


def test_loss_none_with_only_x_differentiates_every_symbol():
    r = check("sqrt(x+1)-sqrt(x)", loss="none", at={"x": 1e6})
    assert r.params == ("x",) and r.target is None
    x = 1e6
    assert grads(r)["x"].exact == pytest.approx(
        0.5 / math.sqrt(x + 1) - 0.5 / math.sqrt(x), rel=1e-6
    )
    assert r.status == "pass"


@pytest.mark.parametrize(
    ("model", "kwargs", "message"),
    [
        ("w*x+y", {}, "uses the target symbol 'y'"),
        ("w*x+b", {"params": ["q"]}, "--params names 'q'"),
        ("w*x+b", {"inputs": ["z"]}, "--inputs names 'z'"),
        ("w*x", {"at": {"k": 1.0}}, "--at names 'k'"),
        ("x*2", {}, "no parameters to differentiate"),
        ("w*x", {"loss": "none", "target": "t"}, "has no target"),
        ("w*x", {"inputs": ["w"], "params": ["w"]}, "both in --inputs and in --params"),
    ],
)
def test_role_errors(model, kwargs, message):
    with pytest.raises(RoleError, match=message.replace("(", r"\(")):
        check(model, **kwargs)


def test_bad_options():
    with pytest.raises(UnsupportedError, match="unknown loss 'hinge'"):
        check("w*x", loss="hinge")
    with pytest.raises(UnsupportedError, match="unknown dtype"):
        check("w*x", dtype="float8")


def test_parameter_that_cancels_out_passes_at_zero():
    g = grads(check("w*x - w*x + b", seed=1))
    assert g["w"].exact == 0.0 and g["w"].autograd == 0.0 and g["w"].verdict == "pass"
    assert g["b"].verdict == "pass"


def test_undefined_point_is_reported_as_undefined():
    result = check("log(w)", loss="none", at={"w": -1.0})
    g = grads(result)["w"]
    assert g.verdict == "undefined" and "undefined at this point" in g.note
    assert result.status == "undefined" and not result.ok


def test_lowering_override_plugs_in_a_wrong_backward_and_it_fails():
    good = check("exp(w*x)", loss="none", seed=2, params=["w"], dtype="float64")
    bad = check(
        "exp(w*x)",
        loss="none",
        seed=2,
        params=["w"],
        dtype="float64",
        lowerings={"exp": scaled_exp(1 + 1e-4)},
    )
    assert good.status == "pass"
    assert bad.status == "fail"
    assert grads(bad)["w"].exact == grads(good)["w"].exact  # the exact side is untouched


def test_float64_is_more_accurate_than_float32():
    g32 = grads(check("tanh(w*x)*b", seed=5))
    g64 = grads(check("tanh(w*x)*b", seed=5, dtype="float64"))
    for name in ("w", "b"):
        assert g64[name].verdict == g32[name].verdict == "pass"
        assert g64[name].tolerance < g32[name].tolerance * 1e-6


def test_a_result_crosses_processes_with_its_formulas_as_text():
    """Batch workers pickle results: the formula travels printed (a SymPy expression would
    be rebuilt node by node in the parent), and the reports read the same from it."""
    import pickle

    result = check("tanh(w*x+3)*v", seed=1, order=2, mode="both")
    back = pickle.loads(pickle.dumps(result))
    assert back.to_dict() == result.to_dict()
    g = back.gradients[0]
    assert type(g.expression) is str and g.formula == result.gradients[0].formula
    assert g.formula == "2*v*x*(1 - tanh(w*x + 3)**2)*(v*tanh(w*x + 3) - y)"
    assert type(back.hessian[0].entry.expression) is str

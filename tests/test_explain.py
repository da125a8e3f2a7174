"""--explain: the tutorial's chain rule with its numbers, autograd's adjoint at every node, and
the node where a wrong backward departs. Answers are computed here by hand (Python floats from
the tutorial's draw), not read from the code under test."""

import math

import pytest
from conftest import TUTORIAL, gradcheck, scaled_exp, scaled_tanh

from gradcheck_cli.explain.chain import check_explained, explain
from gradcheck_cli.options import make_options
from gradcheck_cli.pipeline import prepare, run

X, Y, W, B = (TUTORIAL[k] for k in "xywb")


def explained(model, lowerings=None, **options):
    return check_explained(model, make_options({"seed": 1, **options}), lowerings)


def edge(e, parent, child):
    return next(
        x for x in e.edges if e.nodes[x.parent].text == parent and e.nodes[x.child].text == child
    )


def test_tutorial_chain_rule_lines_with_their_numbers():
    out = gradcheck("w*x+b", "--loss", "mse", "--seed", "1", "--explain")
    assert out.exit_code == 0
    assert "dL/dz = 2*(z - y) = 1.7628" in out.stdout
    assert "dz/dw = x = -0.6014" in out.stdout
    assert "dL/dw = dL/dz * dz/dw = 1.7628 * (-0.6014) = -1.0601" in out.stdout
    assert "dL/db = dL/dz * dz/db = 1.7628 * 1.0000 = 1.7628" in out.stdout
    assert "every step of autograd agrees with the chain rule" in out.stdout


def test_tutorial_numbers_against_the_hand_calculation():
    result, e = explained("w*x+b")
    dl_dz = 2 * (W * X + B - Y)  # float64 arithmetic on the exact binary draws
    (w, b) = e.chains
    assert w.dl_dz[0] == pytest.approx(dl_dz, rel=1e-14)
    assert w.dz_dp_exact == (X,)  # dz/dw = x: the drawn value itself, exactly
    assert w.exact == pytest.approx(dl_dz * X, rel=1e-14)
    assert b.exact == pytest.approx(dl_dz, rel=1e-14)
    by_param = {g.param: g for g in result.gradients}
    assert w.autograd == pytest.approx(by_param["w"].autograd, rel=1e-6)
    assert b.autograd == pytest.approx(by_param["b"].autograd, rel=1e-6)


def test_nested_model_adjoint_at_every_node():
    _, e = explained("tanh(w*x)+b")
    z = math.tanh(W * X) + B
    dl_dz = 2 * (z - Y)
    dl_du = dl_dz * (1 - math.tanh(W * X) ** 2)  # u = w*x
    assert edge(e, "tanh(w * x) + b", "tanh(w * x)").adjoint_exact == pytest.approx(dl_dz)
    inner = edge(e, "tanh(w * x)", "w * x")
    assert inner.local == "1 - tanh(w*x)**2"
    assert inner.local_exact[0] == pytest.approx(1 - math.tanh(W * X) ** 2, rel=1e-14)
    assert inner.adjoint_exact == pytest.approx(dl_du, rel=1e-14)
    assert inner.adjoint_autograd == pytest.approx(dl_du, rel=1e-6)  # float32
    assert edge(e, "w * x", "w").adjoint_exact == pytest.approx(dl_du * X, rel=1e-14)
    assert e.first_backward is None and e.first_forward is None


def test_wrong_custom_backward_is_located_at_its_node():
    result, e = explained("tanh(w*x)+b", {"tanh": scaled_tanh(1.001)})
    assert {g.param: g.verdict for g in result.gradients} == {"w": "fail", "b": "pass"}
    first = e.first_backward
    assert (e.nodes[first.parent].text, e.nodes[first.child].text) == ("tanh(w * x)", "w * x")
    assert [x for x in e.edges if x.departs] == [first]  # nothing else is blamed
    out = gradcheck("tanh(w*x)+b", "--seed", "1", "--explain")  # the real tanh: no departure
    assert "DEPARTS" not in out.stdout


@pytest.mark.parametrize(
    "model, samples", [("exp(-(w*x-b)**2)*w + sin(w)", 5), ("sin(w)*exp(w*x)", 1)]
)
def test_wrong_exp_deep_in_a_model_is_located(model, samples):
    _, e = explained(model, {"exp": scaled_exp(1.0001)}, samples=samples)
    assert e.nodes[e.first_backward.parent].op == "exp"
    _, good = explained(model, samples=samples)
    assert good.first_backward is None


@pytest.mark.parametrize(
    "model, options",
    [
        ("relu(w*x)+log(b*b)/x", {"samples": 3, "loss": "huber"}),
        ("sigmoid(w*x+b)", {"loss": "bce", "samples": 4}),
        ("w*x**3 - 2*w/x + b", {"dtype": "float64", "seed": 7}),
        ("tanh(w*x)", {"at": {"x": 15.0, "w": 1.0}, "dtype": "float64"}),  # 1 - y**2 tiny
        ("softplus(w)*x + abs(b - w)", {"loss": "l1", "samples": 2, "reduction": "sum"}),
    ],
)
def test_torch_own_backward_never_departs(model, options):
    _, e = explained(model, **options)
    assert e.first_backward is None and e.first_forward is None
    assert all(x.step_error is not None for x in e.edges if x.adjoint_autograd is not None)


def test_samples_sum_of_per_sample_products_is_the_gradient():
    prepared = prepare("w*x+b", make_options({"seed": 3, "samples": 3}))
    result, e = run(prepared), explain(prepared)
    w = e.chains[0]
    assert len(w.dl_dz) == 3
    assert math.fsum(a * b for a, b in zip(w.dl_dz, w.dz_dp_exact, strict=True)) == pytest.approx(
        w.exact
    )
    assert w.exact == pytest.approx(result.gradients[0].exact, rel=1e-14)
    out = gradcheck("w*x+b", "--seed", "3", "--samples", "3", "--explain")
    assert "dL/dw = sum_i dL/dz_i * dz_i/dw" in out.stdout and "i=2:" in out.stdout


def test_parameter_used_twice_sums_its_uses():
    _, e = explained("w*sin(w*x)")
    uses = [x for x in e.edges if e.nodes[x.child].text == "w"]
    assert len(uses) == 2
    total = math.fsum(x.adjoint_autograd for x in uses)
    assert e.chains[0].autograd == pytest.approx(total)
    assert e.chains[0].exact == pytest.approx(math.fsum(x.adjoint_exact for x in uses))


def test_explain_json_and_one_check_only():
    import json

    out = gradcheck("w*x+b", "--seed", "1", "--explain", "--format", "json")
    data = json.loads(out.stdout)
    assert data["explain"]["dl_dz"] == "2*(z - y)"
    assert data["explain"]["first_backward_departure"] is None
    out = gradcheck("w*x+b", "--seeds", "1..2", "--explain")
    assert out.exit_code != 0
    assert out.stderr.strip().splitlines() == [
        "Error: --explain, --graph and --format latex show one check (one MODEL)"
    ]

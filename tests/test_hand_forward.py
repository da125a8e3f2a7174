"""Hand values of the forward pass (--expect loss= / z= / z[i]=), the decimals of an integer
hand value, the versions in the JSON, and what a batch line says of a case that did not pass.

Envelope radii are recomputed here by hand: each input moves by up to h = 0.5e-4 (4 decimals),
so the value moves by about h * sum |partial derivatives|, plus the answer's own rounding h.
"""

import json

import pytest
import sympy
import torch
from conftest import TUTORIAL, gradcheck

from gradcheck_cli.batch.runner import run_cases
from gradcheck_cli.pipeline import check

H = 0.5e-4
x, y, w, b = (TUTORIAL[k] for k in "xywb")
Z = w * x + b
LOSS = (Z - y) ** 2


def forward(result):
    return {h.param: h for h in result.forward_expect}


def test_the_tutorials_forward_pass_by_hand_is_rounding():
    result = check("w*x+b", seed=1, expect=(("loss", "0.7769"), ("z", "-0.1308")))
    hands = forward(result)
    assert hands["loss"].classification == "rounding" and hands["z"].classification == "rounding"
    assert result.status == "pass"
    # dz = h * (|x| + |w| + 1); dloss = h * |2 (z - y)| * (|x| + |w| + 1 + 1)
    assert hands["z"].envelope.radius == pytest.approx(H * (abs(x) + abs(w) + 1) + H, rel=1e-3)
    loss_spread = H * abs(2 * (Z - y)) * (abs(x) + abs(w) + 2)
    assert hands["loss"].envelope.radius == pytest.approx(loss_spread + H, rel=1e-3)
    assert hands["loss"].envelope.center == pytest.approx(LOSS, rel=1e-6)
    assert hands["z"].envelope.center == pytest.approx(Z, rel=1e-6)


@pytest.mark.parametrize(("name", "text"), [("loss", "0.7869"), ("z", "-0.1318"), ("z", "0.1308")])
def test_a_wrong_forward_value_is_a_mistake_and_fails_the_check(name, text):
    result = check("w*x+b", seed=1, expect=((name, text),))
    assert forward(result)[name].classification == "mistake"
    assert result.status == "fail" and not result.ok
    out = gradcheck("w*x+b", "--expect", f"{name}={text}")
    assert out.exit_code == 1 and f"FAIL: hand value for {name} is a mistake" in out.stdout


def test_z_with_samples_names_the_first_sample_or_the_one_indexed():
    result = check("w*x+b", seed=3, samples=3, expect=(("z", "0"), ("z[2]", "0")))
    values = dict(result.values)
    draws = torch.Generator().manual_seed(30)
    xs = torch.randn(3, generator=draws).tolist()
    assert values["x"] == tuple(xs)
    z = [values["w"][0] * xi + values["b"][0] for xi in xs]  # exact in float64 to ~1e-16
    hands = forward(result)
    assert hands["z"].envelope.center == pytest.approx(z[0], abs=1e-12)
    assert hands["z[2]"].envelope.center == pytest.approx(z[2], abs=1e-12)
    text = f"{z[1]:.4f}"
    assert (
        forward(check("w*x+b", seed=3, samples=3, expect=(("z[1]", text),)))["z[1]"].classification
        == "rounding"
    )


def test_forward_names_that_do_not_fit_are_errors():
    out = gradcheck("w*x+b", "--samples", "2", "--expect", "z[2]=1.0")
    assert out.exit_code == 2
    assert out.stderr == "Error: --expect names 'z[2]', but there are 2 samples (z[0] .. z[1])\n"
    out = gradcheck("w*x+b", "--expect", "loss[0]=1.0")
    assert out.exit_code == 2 and "--expect names 'loss[0]', which is not a parameter" in out.stderr


def test_a_parameter_named_z_keeps_its_name():
    result = check("z*x", seed=1, expect=(("z", "0.0"),))
    assert result.forward_expect == () and result.gradients[0].expect.param == "z"


def test_an_integer_hand_value_assumes_4_decimals_for_the_inputs():
    """--expect w=3 (wrong sign) was 'rounding': 0 decimals moved every input by 0.5."""
    result = check("w*x+b", seed=1, expect=(("w", "3"), ("b", "2")))
    g = {r.param: r for r in result.gradients}
    assert g["w"].expect.classification == "mistake"
    assert g["b"].expect.classification == "rounding"  # 1.7628 rounds to the integer 2
    env = g["w"].envelope
    assert (env.decimals, env.answer_decimals, env.decimals_from) == (4, 0, "assumed")
    # inputs to 4 decimals: tiny beside the integer answer's own rounding, 0.5
    grad_w = 2 * (Z - y) * x
    spread = H * (abs(2 * x * x) + abs(2 * (Z - y) + 2 * w * x) + abs(2 * x) + abs(2 * x))
    assert env.center == pytest.approx(grad_w, rel=1e-6)
    assert env.radius == pytest.approx(0.5 + spread, rel=1e-6)
    typed = check("w*x+b", seed=1, expect=(("w", "-1.0601"),)).gradients[0].envelope
    assert (typed.decimals, typed.decimals_from) == (4, "typed")
    given = check("w*x+b", seed=1, expect=(("w", "3"),), decimals=0).gradients[0]
    assert given.envelope.decimals_from == "--decimals" and given.expect.classification == (
        "rounding"  # what the user asked for: inputs rounded to integers
    )


def test_the_output_says_which_decimals_were_assumed():
    out = gradcheck("w*x+b", "--expect", "w=3", "--format", "json")
    envelope = json.loads(out.stdout)["gradients"][0]["expect"]["envelope"]
    assert envelope["decimals"] == 4 and envelope["decimals_from"] == "assumed"
    table = gradcheck("w*x+b", "--expect", "w=3")
    assert "4 (assumed)" in table.stdout


def test_json_names_the_versions_it_ran_with():
    doc = json.loads(gradcheck("w*x+b", "--format", "json").stdout)
    from gradcheck_cli import __version__

    assert doc["versions"] == {
        "gradcheck": __version__,
        "torch": torch.__version__,
        "sympy": sympy.__version__,
    }
    batch = json.loads(gradcheck("w*x+b", "--seeds", "1..2", "--format", "json").stdout)
    assert batch["versions"] == doc["versions"]


def test_a_batch_line_says_what_is_undefined_and_what_is_a_mistake():
    from gradcheck_cli.batch.casefile import load_cases
    from gradcheck_cli.report.batch import case_line

    text = "log(w)+b\nw*x+b\n"
    specs = load_cases("models.txt", text, defaults={"at": {"w": -1.0}, "expect": {"z": "0.5"}})
    lines = [case_line(o) for o in run_cases(specs).outcomes]
    assert lines[0].startswith("UNDEFINED")
    assert lines[0].endswith(
        "undefined (w, b): 'log(w)' is undefined at this point (log of a non-positive number)"
    )
    assert "disagree" not in lines[0]
    assert lines[1].startswith("FAIL") and lines[1].endswith("hand value a mistake: z")

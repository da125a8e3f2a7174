"""The user's own torch code checked against exact mathematics: --lower, --define, --impl.

Expected gradients are derived by hand here (d/dw of exp(w*x) + b is x*exp(w*x); of
swish(w*x) = u*sigmoid(u), u = w*x, it is x*(s + u*s*(1-s)) with s = sigmoid(u)), evaluated
with Python's math at the drawn values read from the JSON.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gradcheck_cli import check
from gradcheck_cli.errors import GradcheckError, ParseError

KERNELS = """
import torch

class WrongExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * 1.001  # wrong by 0.1 %

def plain_exp(x):
    return torch.exp(x)

def fused_swish(u):
    return u * torch.sigmoid(u)

class WrongSwish(torch.autograd.Function):
    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return u * torch.sigmoid(u)

    @staticmethod
    def backward(ctx, g):
        (u,) = ctx.saved_tensors
        return g * torch.sigmoid(u)  # forgets the product rule's second term

def model(w, x, b):
    return w * x + b

def shifted_model(w, x, b):
    return w * x + b + 1e-3
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "mykernels_uc.py").write_text(KERNELS)
    return tmp_path


def gradcheck(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).parent / "gradcheck"), *args]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, check=False)


def grads(result) -> dict[str, float]:
    return {g["param"]: g for g in result["gradients"]}


def test_lower_to_a_wrong_backward_fails_and_a_right_one_passes(project):
    wrong = gradcheck(project, "exp(w*x)+b", "--lower", "exp=mykernels_uc:WrongExp.apply")
    assert wrong.returncode == 1 and "FAIL" in wrong.stdout
    right = gradcheck(
        project, "exp(w*x)+b", "--lower", "exp=mykernels_uc:plain_exp", "--format", "json"
    )
    assert right.returncode == 0, right.stderr
    data = json.loads(right.stdout)
    x, w = data["values"]["x"], data["values"]["w"]
    dz_dw = x * math.exp(w * x)
    dl_dz = 2 * (data["z"]["exact"] - data["values"]["y"])
    assert grads(data)["w"]["exact"] == pytest.approx(dl_dz * dz_dw, rel=1e-12)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lower", "exq=mykernels_uc:plain_exp"], "no function 'exq' in the grammar (did you"),
        (["--lower", "exp=mykernels_uc:nope"], "mykernels_uc has no attribute 'nope'"),
        (["--lower", "exp=nomodule_uc:f"], "cannot import nomodule_uc"),
        (["--lower", "exp"], "--lower expects NAME=MODULE:ATTR"),
        (["--impl", "mykernels_uc"], "is not MODULE:ATTR"),
    ],
)
def test_user_code_problems_are_one_error_line(project, args, message):
    out = gradcheck(project, "exp(w*x)+b", *args)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("Error: ") and message in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_define_is_checked_through_its_body_by_default(project):
    out = gradcheck(
        project, "swish(w*x)+b", "--define", "swish(u) = u*sigmoid(u)", "--format", "json"
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    x, w, b, y = (data["values"][k] for k in "xwby")
    u = w * x
    s = 1 / (1 + math.exp(-u))
    z = u * s + b
    assert grads(data)["w"]["exact"] == pytest.approx(2 * (z - y) * x * (s + u * s * (1 - s)))


def test_define_with_a_fused_lowering_checks_the_users_kernel(project):
    definition = ["--define", "swish(u) = u*sigmoid(u)"]
    fused = gradcheck(
        project, "swish(w*x)+b", *definition, "--lower", "swish=mykernels_uc:fused_swish"
    )
    assert fused.returncode == 0, fused.stdout + fused.stderr
    wrong = gradcheck(
        project, "swish(w*x)+b", *definition, "--lower", "swish=mykernels_uc.py:WrongSwish.apply"
    )
    assert wrong.returncode == 1 and "disagree (w)" in wrong.stdout


def test_impl_forward_is_judged_first_then_the_gradients(project):
    right = gradcheck(project, "w*x+b", "--impl", "mykernels_uc:model")
    assert right.returncode == 0, right.stdout + right.stderr
    wrong = gradcheck(project, "w*x+b", "--impl", "mykernels_uc:shifted_model", "--format", "json")
    assert wrong.returncode == 1
    data = json.loads(wrong.stdout)
    (forward,) = data["impl_forward"]
    assert forward["verdict"] == "fail"
    assert forward["autograd"] - forward["exact"] == pytest.approx(1e-3, rel=1e-3)
    text = gradcheck(project, "w*x+b", "--impl", "mykernels_uc:shifted_model").stdout
    assert text.startswith("FAIL: --impl's forward value differs from the specification")


def test_case_file_keys_find_modules_beside_the_file(project, tmp_path_factory):
    (project / "cases.toml").write_text(
        """
[[case]]
name = "wrong exp"
model = "exp(w*x)+b"
lower = { exp = "mykernels_uc:WrongExp.apply" }

[[case]]
name = "swish"
model = "swish(w*x)+b"
define = ["swish(u) = u*sigmoid(u)"]
lower = { swish = "mykernels_uc.py:fused_swish" }

[[case]]
name = "impl"
model = "w*x+b"
impl = "mykernels_uc:model"
"""
    )
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    out = gradcheck(elsewhere, "--file", str(project / "cases.toml"), "--format", "json")
    statuses = {c["case"]: c["status"] for c in json.loads(out.stdout)["cases"]}
    assert statuses == {"wrong exp": "fail", "swish": "pass", "impl": "pass"}, out.stderr


class _Half(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.tanh(x)

    @staticmethod
    def backward(ctx, g):
        return g * 0.5


def test_api_takes_lowerings_defines_and_impl():
    with pytest.raises(GradcheckError, match="no function 'tahn' in the grammar"):
        check("tanh(w*x)", lowerings={"tahn": torch.tanh}, seed=1)
    assert check("tanh(w*x)", lowerings={"tanh": _Half.apply}, seed=1).status == "fail"
    assert check("sq(w)+x", defines=["sq(u) = u*u"], seed=1).status == "pass"
    with pytest.raises(ParseError, match="may not call itself"):
        check("f(w)", defines=["f(u) = f(u)"])
    assert check("w*x+b", impl=lambda w, x, b: w * x + b, seed=2).status == "pass"
    assert check("w*x+b", impl=lambda w, x, b: w * x - b, seed=2).status == "fail"


OWN_CODE = Path(__file__).parent.parent / "examples" / "own_code"


def test_the_own_code_examples_pass_and_the_wrong_backward_fails():
    from gradcheck_cli import check_file

    good = check_file(OWN_CODE / "own_code.toml")
    assert [(o.case, o.status) for o in good.outcomes if not o.ok] == []
    assert good.summary()["total"] == 12
    wrong = check_file(OWN_CODE / "wrong_backward.toml")
    assert {o.status for o in wrong.outcomes} == {"fail"}
    for outcome in wrong.outcomes:  # off by 1e-4: w's gradient fails, b's (no exp) passes
        verdicts = {g.param: g.verdict for g in outcome.result.gradients}
        assert verdicts == {"w": "fail", "b": "pass"}


def test_no_import_refuses_user_modules(project):
    single = gradcheck(project, "exp(w*x)+b", "--lower", "exp=m:f", "--no-import")
    assert single.returncode == 2 and "--no-import refuses --lower and --impl" in single.stderr
    batch = gradcheck(project, "--file", str(OWN_CODE / "own_code.toml"), "--no-import")
    assert batch.returncode == 2 and "refused by --no-import" in batch.stderr
    assert batch.stdout == ""
    plain = gradcheck(project, "swish(w*x)", "--define", "swish(u) = u*sigmoid(u)", "--no-import")
    assert plain.returncode == 0  # a definition imports nothing

"""The recording of autograd's aten ops: what it notes, and that replaying it is autograd.

Replayed values are compared with plain autograd for equality: the replay calls the same
kernels on the same values in the same order, so they agree to the last bit (the reason the
recording replaces ``make_fx`` without changing a single number).
"""

from __future__ import annotations

import subprocess
import sys

import torch

from gradcheck_cli import recording


def model(x, w, b):
    z = torch.tanh(w * x + b) * 3.0
    return z, ((z - 0.5) ** 2).mean()


def autograd(x, w, b):
    w, b = w.detach().requires_grad_(), b.detach().requires_grad_()
    z, loss = model(x, w, b)
    return (z, loss, *torch.autograd.grad(loss, [w, b]))


def tensors(seed, n=5, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, generator=g, dtype=dtype)] + [
        torch.randn(1, generator=g, dtype=dtype) for _ in range(2)
    ]


def test_recording_returns_autograds_values_and_replays_them_at_other_points():
    recorded, outputs = recording.record(model, tensors(0), [1, 2])
    for got, want in zip(outputs, autograd(*tensors(0)), strict=True):
        assert torch.equal(got, want)
    for seed in (1, 2, 3):
        replayed = recording.replay(recorded, tensors(seed))
        for got, want in zip(replayed, autograd(*tensors(seed)), strict=True):
            assert torch.equal(got, want)


def test_the_recording_holds_the_aten_ops_of_forward_and_backward():
    recorded, _ = recording.record(model, tensors(0), [1, 2])
    ops = [str(n.target) for n in recorded.nodes if n.op == "call_function"]
    assert ops[:3] == ["aten.mul.Tensor", "aten.add.Tensor", "aten.tanh.default"]
    assert "aten.tanh_backward.default" in ops  # the backward is recorded too
    assert "aten.detach.default" not in ops  # autograd's saved aliases are the same value
    assert [n.op for n in recorded.nodes[:3]] == ["placeholder"] * 3
    assert recorded.nodes[-1].op == "output" and recorded.n_values == 2
    shapes = {n.meta.shape for n in recorded.nodes if n.meta is not None}
    assert shapes <= {(5,), (1,), ()}


def test_a_tensor_made_inside_is_a_constant_that_replays_unchanged():
    def fn(x, w):
        c = torch.tensor([2.0])
        c.mul_(3.0)  # in place on the constant: a replay must not see it mutated
        return (w * x * c).sum()

    x, w = torch.tensor([1.5]), torch.tensor([0.25])
    recorded, outputs = recording.record(fn, [x, w], [1])
    constants = [n for n in recorded.nodes if n.op == "constant"]
    assert [c.value.tolist() for c in constants] == [[2.0]]
    for _ in range(2):
        value, grad = recording.replay(recorded, [x, w])
        assert value.item() == 1.5 * 0.25 * 6.0 and grad.tolist() == [1.5 * 6.0]


def test_unrecorded_ops_run_but_are_not_noted():
    def fn(x, w):
        with recording.unrecorded():
            assert bool((x > 0).all())
        return (w * x).sum()

    recorded, _ = recording.record(fn, [torch.tensor([1.0]), torch.tensor([2.0])], [1])
    ops = {str(n.target) for n in recorded.nodes if n.op == "call_function"}
    assert not ops & {"aten.gt.Scalar", "aten.all.default"}


def test_no_gradient_where_nothing_depends_on_the_parameters():
    recorded, outputs = recording.record(lambda x, w: (x * 2).sum(), tensors(0)[:2], [1])
    assert outputs[1] is None and recording.replay(recorded, tensors(1)[:2])[1] is None


def test_a_check_imports_neither_dynamo_nor_inductor():
    code = (
        "import sys\nfrom gradcheck_cli import check\n"
        "check('tanh(w*x+b)*v', samples=2)\ncheck('sigmoid(w*x)', loss='bce')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('torch._dynamo', "
        "'torch._inductor'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_bound_contributions_are_named_by_the_models_sub_expressions():
    from gradcheck_cli import check

    result = check("tanh(w*x)+b", seed=1)
    named = {(name, op) for g in result.gradients for name, op, _ in g.contributions}
    assert ("tanh(w * x)", "aten.tanh_backward.default") in named  # a backward op
    assert ("tanh(w * x)", "aten.tanh.default") in named  # its forward op
    assert ("loss", "aten.mse_loss_backward.default") in named
    assert {name for name, _ in named} <= {"w * x", "tanh(w * x)", "tanh(w * x) + b", "loss", "z"}


def test_a_user_functions_backward_is_named_by_its_call():
    from pathlib import Path

    from gradcheck_cli import check
    from gradcheck_cli.user_code import load

    examples = Path(__file__).parent.parent / "examples" / "own_code"
    my_exp = load("kernels.py:MyExp.apply", examples)
    result = check("exp(w*x)+b", seed=1, lowerings={"exp": my_exp})
    names = {name for g in result.gradients for name, _, _ in g.contributions}
    assert "exp(w * x)" in names and not any(n.startswith("op") for n in names)

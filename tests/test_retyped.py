"""The float64 rung without a second recording: ``recording.retyped`` against a real one.

For every catalog function (inside ``w*x+b``), the equivalence models and the benchmark's
templates, under every loss and with one and three samples, the float32 (or half) recording
retyped to float64 must be, node for node, the recording ``record`` makes at the inputs
widened to float64 (targets, arguments, keyword arguments, metas, origins), and replaying it
must give that recording's run bit for bit. Where ``retyped`` declines, the rung records.
"""

from __future__ import annotations

import re
from functools import partial

import pytest
import torch
from test_equivalence import MODELS
from test_functions import CASES

from gradcheck_cli import pipeline, recording, torch_side
from gradcheck_cli.autograd_modes import row_function
from gradcheck_cli.errors import GradcheckError
from gradcheck_cli.losses import LOSSES, draw_targets
from gradcheck_cli.options import make_options

BENCHMARK = ["w*x*3+b", "tanh(w*x+3)*v", "w*x**2+b*3", "sigmoid(w*x-3)+b"]
FUNCTION_MODELS = [re.sub(r"\bw\b", "(w*x+b)", model) for model, _, _ in CASES.values()]


def recordings(model, options, row=None):
    """(the run's recording retyped to float64 or None, the float64 recording, its outputs,
    the widened inputs); None where the check stops before autograd. ``row``: of the Hessian
    (torch's double backward of gradient ``row``) instead."""
    try:
        p = pipeline.prepare(model, options)
        targets = partial(draw_targets, p.loss, dtype=options.dtype)
        tensors = list(torch_side.sample(p.roles, options, targets).tensors)
    except GradcheckError:
        return None
    n = len(p.roles.params)
    wrt = list(range(len(tensors) - n, len(tensors)))
    fn = p.forward if row is None else row_function(p.forward, n, min(row, n - 1))
    wide = torch_side.widen(tensors, "float64")
    try:
        narrow, _ = recording.record(fn, tensors, wrt)
        want, outputs = recording.record(fn, wide, wrt)
    except (GradcheckError, RuntimeError, NotImplementedError):
        return None
    return recording.retyped(narrow, torch.float64), want, outputs, wide


def same(got, want):
    """The same tensor to the last bit (NaNs and the sign of zero included)."""
    if got is None or want is None:
        return got is None and want is None
    return (got.dtype, got.shape) == (want.dtype, want.shape) and torch.equal(
        got.view(torch.int64), want.view(torch.int64)
    )


def check(models, options, row=None):
    retyped = recorded = 0
    for model in models:
        found = recordings(model, options, row)
        recorded += found is not None
        if found is None or found[0] is None:
            continue
        got, want, outputs, wide = found
        assert len(got.nodes) == len(want.nodes), model
        for a, b in zip(got.nodes, want.nodes, strict=True):
            assert a == b and repr(a) == repr(b), (model, a, b)
        assert (got.n_values, got.wrt) == (want.n_values, want.wrt)
        replayed = recording.replay(got, wide)
        assert all(same(g, w) for g, w in zip(replayed, outputs, strict=True)), model
        retyped += 1
    return retyped, recorded


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_a_retyped_recording_is_the_float64_recording(loss):
    models = FUNCTION_MODELS + MODELS + BENCHMARK
    for samples in (1, 3):
        options = make_options({"loss": loss, "samples": samples})
        retyped, recorded = check(models, options)
        assert retyped >= recorded // 2 > 0  # most are retyped, not declined


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_a_retyped_half_recording_is_the_float64_recording(dtype):
    models = FUNCTION_MODELS + BENCHMARK
    for loss in ("mse", "huber", "bce_logits"):
        check(models, make_options({"loss": loss, "dtype": dtype, "samples": 2}))


@pytest.mark.parametrize("row", [0, 1])
def test_a_retyped_double_backward_is_the_float64_recording(row):
    models = FUNCTION_MODELS + MODELS
    retyped, recorded = check(models, make_options({"loss": "huber", "samples": 2}), row)
    assert retyped >= recorded // 2 > 0


def test_a_defined_function_is_retyped_as_its_body():
    defs = ("gate(a, b) = tanh(a)*b + 2", "sq(a) = a*a")
    models = ["gate(w*x, b) + sq(v)*x", "gate(sq(w), x) - b", "sq(gate(w, x)) * b"]
    for loss in ("mse", "l1"):
        assert check(models, make_options({"loss": loss, "define": defs})) == (3, 3)


def test_the_benchmarks_models_are_retyped():
    for loss in ("mse", "l1"):
        for model in BENCHMARK:
            got = recordings(model, make_options({"loss": loss}))[0]
            assert got is not None and {n.meta.dtype for n in got.nodes if n.meta} == {
                torch.float64
            }


def test_a_constant_or_a_dtype_argument_declines():
    x, w = torch.tensor([1.5]), torch.tensor([0.25], requires_grad=True)

    def constant(x, w):
        return (w * x * torch.tensor([2.0])).sum()

    def cast(x, w):
        return (w * x).to(torch.float64).sum()

    def plain(x, w):
        return (w * x * 2.0).sum()

    for fn in (constant, cast):
        assert recording.retyped(recording.record(fn, [x, w], [1])[0], torch.float64) is None
    assert recording.retyped(recording.record(plain, [x, w], [1])[0], torch.float64) is not None

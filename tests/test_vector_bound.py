"""The bound on interval vectors (``rounding.vector``) against the exact mpmath tape: the same
bounds to 1e-11 relative on many lanes, and ``Undecided`` wherever an interval cannot decide."""

from __future__ import annotations

from fractions import Fraction
from functools import partial

import numpy as np
import pytest

from gradcheck_cli import recording, torch_side
from gradcheck_cli.losses import draw_targets
from gradcheck_cli.options import make_options
from gradcheck_cli.pipeline import prepare
from gradcheck_cli.rounding import intervals, trace
from gradcheck_cli.rounding.intervals import Undecided
from gradcheck_cli.rounding.vector import Lane

MODELS = [
    "w*x+b",
    "v*tanh(w*x+b)+c",
    "softplus(w*x)*exp(b)",
    "sqrt(x*x+1)*w + log(1+exp(b))",
    "relu(w*x+b) + leaky_relu(c*x)",
    "sin(w*x)*cos(b) + atan(c*x)",
    "gelu(w*x+b) + silu(c*x)",
    "abs(w*x-b)**1.5",
    "erf(w*x) + elu(b*x)",
]


def recorded(model: str, loss: str, dtype: str, samples: int):
    options = make_options({"loss": loss, "dtype": dtype, "samples": samples, "seed": 5})
    prepared = prepare(model, options)
    targets = partial(draw_targets, prepared.loss, dtype=dtype)
    tensors = list(torch_side.sample(prepared.roles, options, targets).tensors)
    wrt = list(range(len(tensors) - len(prepared.roles.params), len(tensors)))
    return recording.record(prepared.forward, tensors, wrt)[0], tensors


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("loss", ["mse", "l1", "bce_logits"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_interval_bounds_equal_the_exact_tape(model, loss, dtype):
    graph, tensors = recorded(model, loss, dtype, 7)
    exact = trace.bound(graph, tensors, tensors[0].dtype)
    fast = trace.fast_bound(graph, tensors, tensors[0].dtype)
    assert fast.bounds == pytest.approx(exact.bounds, rel=1e-11)
    for got, want in zip(fast.elementwise_bounds, exact.elementwise_bounds, strict=True):
        assert got == pytest.approx(want, rel=1e-11)


def test_interval_bound_is_an_upper_bound_of_the_exact_one():
    graph, tensors = recorded("v*tanh(w*x+b)+c", "mse", "float32", 50)
    exact = trace.bound(graph, tensors, tensors[0].dtype)
    fast = trace.fast_bound(graph, tensors, tensors[0].dtype)
    assert all(f >= e for f, e in zip(fast.bounds, exact.bounds, strict=True))


def test_a_lane_decides_only_what_its_interval_decides():
    assert Lane(1.0, 2.0) > 0 and not Lane(1.0, 2.0) <= 0
    assert Lane(0.0, 0.0) == 0 and Lane(-2.0, -1.0) < Lane(1.0, 1.0)
    for compare in (lambda v: v > 0, lambda v: v <= 0, lambda v: v == 0):
        with pytest.raises(Undecided):
            compare(Lane(-1e-300, 1e-300))


def test_intervals_enclose_and_refuse_division_by_zero():
    third = intervals.div(intervals.point([1.0]), intervals.point([3.0]))
    assert Fraction(third.lo[0]) < Fraction(1, 3) < Fraction(third.hi[0])
    assert intervals.add(intervals.point([0.5]), intervals.point([0.25]), exact=True).lo[0] == 0.75
    with pytest.raises(Undecided):
        intervals.div(intervals.point([1.0]), intervals.Iv(np.array([-1.0]), np.array([1.0])))

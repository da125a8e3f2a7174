"""The compiled Arb program against mpmath: the same certified values, or a hand-back.

Independent answers: each value is the expression evaluated by mpmath at 400 bits (points, no
intervals), which the program's certified value must equal after rounding to the dtype; where
the program cannot certify (undefined, a branch a ball straddles, a function without interval
version) it must say None so that the mpmath path decides, never a value.
"""

from __future__ import annotations

import mpmath
import pytest
import sympy
from flint import arb

from gradcheck_cli.errors import Ambiguous
from gradcheck_cli.exact import evaluate, symbolic
from gradcheck_cli.exact.ball import Ball, precision
from gradcheck_cli.exact.certify import Job, certify
from gradcheck_cli.exact.program import compile_program
from gradcheck_cli.expr.catalog.numeric import decide
from gradcheck_cli.expr.parse import parse

POINTS = [
    {"x": 0.3, "w": -1.25, "b": 0.1, "c": 2.0},
    {"x": -2.5, "w": 0.75, "b": -0.4, "c": 0.5},
    {"x": 1e-3, "w": 3.0, "b": 7.0, "c": -1.5},
]
MODELS = [
    "w*x+b",
    "tanh(w*x+b)*c",
    "sigmoid(w*x+b)*c + softplus(b*x)",
    "exp(-w*w*x*x)/(1+b*b)",
    "relu(w*x+b) + leaky_relu(c*x)",
    "sin(w*x)*cos(b) + atan(c*x)",
    "gelu(w*x+b) + silu(c*x) + erf(w*x)",
    "max(w*x, b) + min(c, x) + abs(w*x-b)**1.5",
    "sqrt(x*x+1)*w + log(1+exp(b)) + elu(b*x)",
]


def reference(expr: sympy.Expr, points, reduction: str) -> mpmath.mpf:
    with mpmath.workprec(400):
        values = [evaluate.evaluate(expr, {k: mpmath.mpf(v) for k, v in p.items()}) for p in points]
        total = mpmath.fsum(values)
        return total / len(values) if reduction == "mean" else total


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_certified_values_round_as_high_precision_mpmath(model, dtype):
    expr = parse(model)
    z = symbolic.to_sympy(expr)
    loss = (z - symbolic.symbol("c")) ** 2
    grads = symbolic.gradients(loss, ("w", "b"))
    exprs = [loss, z, *grads]
    program = compile_program(exprs, expr.tree)
    jobs = [Job(i, "mean", dtype) for i in range(len(exprs))]
    found = certify(program, POINTS, [*jobs, Job(len(exprs), dtype=None)])
    assert found[-1] is True  # defined at every point as typed
    for e, exact in zip(exprs, found, strict=False):
        assert exact is not None and exact.certified
        want = reference(e, POINTS, "mean")
        assert evaluate.round_to(exact.value, dtype) == evaluate.round_to(want, dtype)
        assert abs(exact.value - want) <= abs(want) * mpmath.ldexp(1, -80) + mpmath.ldexp(1, -1200)


@pytest.mark.parametrize(
    ("model", "point"),
    [
        ("log(x)", {"x": -1.0}),
        ("sqrt(x)", {"x": -0.5}),
        ("1/(x-x)", {"x": 2.0}),
        ("w/x", {"w": 1.0, "x": 0.0}),
        ("acos(x)", {"x": 1.5}),
    ],
)
def test_undefined_points_are_left_to_mpmath(model, point):
    expr = parse(model)
    program = compile_program([], expr.tree)
    assert certify(program, [point], [Job(0, dtype=None)]) == [None]


def test_a_branch_at_its_switch_is_taken_as_mpmath_takes_it():
    """relu'(0) is torch's convention (0): an exact 0 in a ball decides the branch."""
    (grad,) = symbolic.gradients(symbolic.to_sympy(parse("relu(w*x)")), ("w",))
    program = compile_program([grad])
    for point in ({"w": 0.0, "x": 2.0}, {"w": 1.0, "x": 2.0}, {"w": -1.0, "x": 2.0}):
        (exact,) = certify(program, [point], [Job(0)])
        assert exact.value == evaluate.exact(grad, point), point
    assert [float(certify(program, [p], [Job(0)])[0].value) for p in ({"w": 0.0, "x": 2.0},)] == [
        0.0
    ]


def test_comparisons_of_a_ball_that_cannot_tell_are_undecided():
    with precision(64):
        straddling = Ball(arb(-1).union(arb(1)))
        assert (straddling > 0) is None and (straddling <= 0) is None
        assert (straddling == 0) is None and (straddling != 5) is True
        with pytest.raises(Ambiguous):
            decide(straddling > 0)
        assert (Ball(arb(0)) > 0) is False and (Ball(arb(0)) >= 0) is True

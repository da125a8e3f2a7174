"""Tests for gradcheck_cli.rounding.trace: exact graph values, and E1 covering real float errors."""

import mpmath
import pytest
import torch
import torch.nn.functional as F

from gradcheck_cli.rounding.trace import (
    BoundResult,
    UnsupportedOp,
    rounding_bound,
)

U32 = 2.0**-24


def t32(*vals):
    return torch.tensor(vals, dtype=torch.float32)


def autograd_grads(fn, inputs, wrt):
    xs = [t.detach().clone().requires_grad_(i in wrt) for i, t in enumerate(inputs)]
    gs = torch.autograd.grad(fn(*xs), [xs[i] for i in wrt], allow_unused=True)
    return [None if g is None else g.detach().reshape(-1).tolist() for g in gs]


def actual_errors(fn, inputs, wrt, res: BoundResult):
    """max |autograd - exact| per wrt entry, computed in mpmath."""
    errs = []
    for g, exact in zip(autograd_grads(fn, inputs, wrt), res.exact, strict=True):
        g = g if g is not None else [0.0] * len(exact)
        errs.append(max(float(abs(mpmath.mpf(a) - e)) for a, e in zip(g, exact, strict=True)))
    return errs


def floats(exact):
    return tuple(tuple(float(v) for v in e) for e in exact)


def mse(x, y, w, b):
    return F.mse_loss(w * x + b, y)


MSE_POINT = [
    t32(-0.6013928055763245),
    t32(-1.0122097730636597),
    t32(0.6613521575927734),
    t32(0.266924113035202),
]


def test_mse_exact_outputs_match_hand_formula():
    res = rounding_bound(mse, MSE_POINT, [2, 3], torch.float32)
    x, y, w, b = (mpmath.mpf(t.item()) for t in MSE_POINT)
    with mpmath.workprec(200):
        r = w * x + b - y
        want = (2 * x * r, 2 * r)
        for got, exp in zip(res.exact, want, strict=True):
            assert abs(got[0] - exp) <= abs(exp) * mpmath.mpf(2) ** -150
    assert floats(res.exact) == ((float(want[0]),), (float(want[1]),))


def test_mse_bound_covers_float32_error_and_is_tight():
    res = rounding_bound(mse, MSE_POINT, [2, 3], torch.float32)
    errs = actual_errors(mse, MSE_POINT, [2, 3], res)
    for err, bound, exact in zip(errs, res.bounds, floats(res.exact), strict=True):
        assert 0 < err <= bound
        kappa = bound / (U32 * abs(exact[0]))
        assert 1 <= kappa <= 20
    for contribs, bound in zip(res.contributions, res.bounds, strict=True):
        vals = [c.contribution for c in contribs]
        assert vals == sorted(vals, reverse=True)
        assert sum(vals) == pytest.approx(bound, rel=1e-12)
        assert {c.op for c in contribs} <= {
            "aten.mul.Tensor",
            "aten.add.Tensor",
            "aten.mse_loss_backward.default",
        }


def test_wrong_value_exceeds_bound():
    res = rounding_bound(mse, MSE_POINT, [2, 3], torch.float32)
    for bound, exact in zip(res.bounds, res.exact, strict=True):
        wrong = exact[0] + 1000 * mpmath.mpf(bound)
        assert float(abs(wrong - exact[0])) > bound


CANCELLATION = [
    ("sqrt_diff", lambda x: torch.sqrt(x + 1) - torch.sqrt(x), 1e6, True),
    ("recip_diff", lambda x: 1 / (x + 1) - 1 / x, 1e6, True),
    ("expm1_naive", lambda x: torch.exp(x) - 1, 1e-6, False),
]


@pytest.mark.parametrize("name,fn,x0,cancels", CANCELLATION, ids=[c[0] for c in CANCELLATION])
def test_fpbench_cancellation_is_covered(name, fn, x0, cancels):
    inputs = [t32(x0)]
    res = rounding_bound(fn, inputs, [0], torch.float32)
    (err,) = actual_errors(fn, inputs, [0], res)
    exact = abs(float(res.exact[0][0]))
    assert err <= res.bounds[0]
    kappa = res.bounds[0] / (U32 * exact)
    if cancels:
        assert err / exact > 1e-3  # float32 gradient is badly wrong ...
        assert kappa > 1e3  # ... and the bound says so
    else:
        assert kappa < 20


def test_precision_ladder_separates_rounding_from_real_error():
    fn = CANCELLATION[0][1]
    inputs = [t32(1e6)]
    res = rounding_bound(fn, inputs, [0], torch.float32)
    exact = res.exact[0][0]
    (g32,) = autograd_grads(fn, inputs, [0])[0]
    (g64,) = autograd_grads(fn, [t.double() for t in inputs], [0])[0]  # the float64 rung
    e32, e64 = abs(g32 - exact), abs(g64 - exact)
    assert e64 < e32 * 2.0**-20  # rounding: the error collapses in float64
    res64 = rounding_bound(fn, inputs, [0], torch.float64)
    assert e64 <= res64.bounds[0]
    assert floats(res64.exact) == floats(res.exact)


def test_unused_input_gets_zero_bound():
    res = rounding_bound(
        lambda x, y: torch.exp(x).sum(), [t32(0.5), t32(2.0)], [0, 1], torch.float32
    )
    assert res.bounds[1] == 0.0 and res.contributions[1] == ()
    assert floats(res.exact)[1] == (0.0,)
    wide = [t32(0.5).double(), t32(2.0).double()]
    assert autograd_grads(lambda x, y: torch.exp(x).sum(), wide, [0, 1])[1] is None  # unused


def test_unknown_op_raises():
    with pytest.raises(UnsupportedOp) as info:
        rounding_bound(lambda x: torch.i0(x).sum(), [t32(0.3)], [0], torch.float32)
    assert "i0" in info.value.op_name


def test_exact_gradients_match_an_independent_mpmath_computation():
    x, y, w, b = (t.item() for t in MSE_POINT)
    res = rounding_bound(mse, MSE_POINT, [2, 3], torch.float32)
    with mpmath.workprec(200):
        r = mpmath.mpf(w) * x + b - y
        ref = [2 * mpmath.mpf(x) * r, 2 * r]
        assert all(abs(e[0] - f) < 1e-40 for e, f in zip(res.exact, ref, strict=True))


def expr_sigmoid_tanh(x, w, b):
    return (torch.sigmoid(w * x + b) * torch.tanh(x)).sum() + F.softplus(w * x).mean()


def expr_mse_vec(x, w, b):
    return F.mse_loss(torch.sin(w * x) + b, torch.cos(x))


def expr_rational(x, w, b):
    z = w * x + b
    return (z / (1 + z * z)).sum() + torch.relu(z).pow(3).sum() + torch.abs(z - w).mean()


def expr_log_sqrt(x, w, b):
    return (torch.log(torch.exp(w * x) + 1) + torch.sqrt(x * x + b * b) - x).sum()


EXPRS = [expr_sigmoid_tanh, expr_mse_vec, expr_rational, expr_log_sqrt]


@pytest.mark.parametrize("expr", EXPRS, ids=[e.__name__ for e in EXPRS])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_random_points_error_within_bound(expr, dtype):
    gen = torch.Generator().manual_seed(1234)
    for _ in range(8):
        n = int(torch.randint(1, 5, (1,), generator=gen))
        x = torch.randn(n, generator=gen, dtype=torch.float64).to(dtype) * 3
        w = torch.randn(1, generator=gen, dtype=torch.float64).to(dtype) * 2
        b = torch.randn(1, generator=gen, dtype=torch.float64).to(dtype)
        inputs = [x, w, b]
        res = rounding_bound(expr, inputs, [1, 2], dtype)
        errs = actual_errors(expr, inputs, [1, 2], res)
        for err, bound in zip(errs, res.bounds, strict=True):
            assert err <= bound, (expr.__name__, inputs, err, bound)


def test_overflowing_intermediate_gives_infinite_bound():
    fn = CANCELLATION[2][1]  # exp(x) - 1: float32 exp(100) overflows
    res = rounding_bound(fn, [t32(100.0)], [0], torch.float32)
    assert res.bounds[0] == float("inf")
    assert rounding_bound(fn, [t32(100.0)], [0], torch.float64).bounds[0] < 1e30


def test_sympy_reference_gradient_agrees_with_graph():
    sympy = pytest.importorskip("sympy")
    xs, ys, ws, bs = sympy.symbols("x y w b")
    loss = (ws * xs + bs - ys) ** 2
    vals = {s: sympy.Rational(t.item()) for s, t in zip((xs, ys, ws, bs), MSE_POINT, strict=True)}
    ref = [sympy.diff(loss, s).subs(vals) for s in (ws, bs)]  # exact rationals
    res = rounding_bound(mse, MSE_POINT, [2, 3], torch.float32)
    with mpmath.workprec(200):
        for e, r in zip(res.exact, ref, strict=True):
            assert abs(e[0] - mpmath.mpf(r.p) / r.q) < 1e-50
            assert abs(e[0] - 2 * mpmath.mpf(r.p) / r.q) > 0.5  # a wrong reference is told apart


def test_out_of_domain_raises():
    from gradcheck_cli.rounding.trace import OutOfDomain

    with pytest.raises(OutOfDomain):
        rounding_bound(lambda x: torch.log(x - 1).sum(), [t32(0.5)], [0], torch.float32)
    with pytest.raises(OutOfDomain):
        rounding_bound(lambda x: torch.sqrt(x * 0).sum(), [t32(0.5)], [0], torch.float32)


def test_vector_parameter_elementwise_bounds_cover_each_component():
    gen = torch.Generator().manual_seed(99)
    x = torch.randn(5, generator=gen, dtype=torch.float64).float()
    y = torch.randn(5, generator=gen, dtype=torch.float64).float()
    w = torch.randn(1, generator=gen, dtype=torch.float64).float()

    def fn(x, y, w):
        return F.mse_loss(torch.tanh(w * x), y) + torch.sigmoid(x).sum()

    res = rounding_bound(fn, [x, y, w], [0, 2], torch.float32)
    assert len(res.elementwise_bounds[0]) == 5 and len(res.exact[0]) == 5
    assert res.bounds[0] == max(res.elementwise_bounds[0])
    (gx, gw) = autograd_grads(fn, [x, y, w], [0, 2])
    for g, e, b in zip(gx, res.exact[0], res.elementwise_bounds[0], strict=True):
        assert float(abs(mpmath.mpf(g) - e)) <= b
    assert float(abs(mpmath.mpf(gw[0]) - res.exact[1][0])) <= res.bounds[1]

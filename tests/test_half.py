"""bfloat16 and float16: the dtype records, the draws, what torch's CPU kernels compute (measured
against exact rational arithmetic at many points: the semantics ``rounding`` encodes), the
bound holding on the tutorial's graph at many seeds, the SymPy fallback, the ladder."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
import torch
from conftest import gradcheck, scaled_exp

from gradcheck_cli import check
from gradcheck_cli.dtypes import DTYPES, floats_between
from gradcheck_cli.errors import GradcheckError

HALVES = ("bfloat16", "float16")
EMIN = {"bfloat16": -126, "float16": -14, "float32": -126}  # exponent of the smallest normal
BITS = {"bfloat16": 8, "float16": 11, "float32": 24}


def rounded(v: Fraction, dtype: str) -> Fraction:
    """``v`` correctly rounded (to nearest, ties to even) to ``dtype``, subnormals included:
    an independent reference (rational arithmetic, nothing from gradcheck)."""
    if v == 0:
        return v
    e = abs(v).numerator.bit_length() - abs(v).denominator.bit_length()
    e = e if 2**e <= abs(v) else e - 1  # 2^e <= |v| < 2^(e+1)
    quantum = Fraction(2) ** (max(e, EMIN[dtype]) - BITS[dtype] + 1)
    return round(v / quantum) * quantum  # Python's round: ties to even


def exact(t: torch.Tensor) -> list[Fraction]:
    return [Fraction(v) for v in t.double().reshape(-1).tolist()]


def draws(dtype: str, n: int, seed: int) -> torch.Tensor:
    """Values spread over 2^-3 .. 2^3 times a normal draw, in the dtype."""
    g = torch.Generator().manual_seed(seed)
    scale = torch.exp2(torch.randint(-3, 4, (n,), generator=g).float())
    return (torch.randn(n, generator=g) * scale).to(getattr(torch, dtype))


def test_records_match_torch_finfo():
    for name in HALVES:
        d, info = DTYPES[name], torch.finfo(getattr(torch, name))
        assert d.unit_roundoff == info.eps / 2 and d.max == info.max
        assert d.tiny == info.smallest_normal * info.eps  # the smallest subnormal
        assert d.half and d.accumulate == "float32"
    assert DTYPES["bfloat16"].unit_roundoff == 2.0**-8 and DTYPES["float16"].max == 65504
    assert floats_between(1.0, 1.0 + 2**-7, "bfloat16") == 1
    assert floats_between(-1.0, 1.0, "float16") == 2 * 0x3C00  # 1.0 is 0x3c00


@pytest.mark.parametrize("dtype", HALVES)
@pytest.mark.parametrize("op", ["mul", "add", "sub"])
def test_arithmetic_of_two_tensors_is_correctly_rounded(dtype, op):
    a, b = draws(dtype, 3000, 1), draws(dtype, 3000, 2)
    f = {"mul": lambda x, y: x * y, "add": lambda x, y: x + y, "sub": lambda x, y: x - y}[op]
    got = exact(f(a, b))
    want = [rounded(f(x, y), dtype) for x, y in zip(exact(a), exact(b), strict=True)]
    assert got == want


@pytest.mark.parametrize("dtype", HALVES)
def test_mse_loss_and_its_backward_round_after_every_step(dtype):
    """mse_loss (reduction none): d = fl(a - b), fl(d * d); mse_loss_backward (mean over n):
    fl(fl(fl(2/n) * fl(a - b)) * g), as in float32: the steps ``aten_nn`` encodes."""
    a, b, g = draws(dtype, 3000, 3), draws(dtype, 3000, 4), draws(dtype, 3000, 5)
    r = lambda v: rounded(v, dtype)  # noqa: E731
    got = exact(torch.nn.functional.mse_loss(a, b, reduction="none"))
    assert got == [r(r(x - y) ** 2) for x, y in zip(exact(a), exact(b), strict=True)]
    for n in (1, 3, 10):
        back = torch.cat(
            [
                torch.ops.aten.mse_loss_backward(g[k], a[k : k + n], b[k : k + n], 1)
                for k in range(0, 300 * n, n)
            ]
        )
        norm = r(Fraction(2.0 / n))  # the kernel's 2. / numel, a double held in the dtype
        gs = [x for x in exact(g[0 : 300 * n : n]) for _ in range(n)]
        xs, ys = exact(a[: 300 * n]), exact(b[: 300 * n])
        want = [r(r(norm * r(x - y)) * z) for x, y, z in zip(xs, ys, gs, strict=True)]
        assert exact(back) == want


@pytest.mark.parametrize("dtype", HALVES)
@pytest.mark.parametrize("n", [2, 5, 40])
def test_reductions_accumulate_in_float32_and_round_once(dtype, n):
    """sum, mean and mse_loss's reduction: within the tape's (n-1) u32 sum|x| + u|total|
    (plus 2 u32 for mean's division), and never the per-addition rounding in the dtype the
    bound would then need: at least one total differs from adding in the dtype."""
    u, u32 = DTYPES[dtype].unit_roundoff, 2.0**-24
    x = draws(dtype, 200 * n, 6).reshape(200, n)
    stepwise_differs = False
    for row in x:
        xs = exact(row)
        total, size = sum(xs), sum(abs(v) for v in xs)
        assert abs(Fraction(row.sum().item()) - total) <= (n - 1) * u32 * size + u * abs(total)
        mean = total / n
        inner = (n - 1) * u32 * size / n + 2 * u32 * abs(mean)
        assert abs(Fraction(row.mean().item()) - mean) <= inner + u * abs(mean) * (1 + 2 * u32)
        zero = torch.zeros_like(row)
        loss = Fraction(torch.nn.functional.mse_loss(row, zero, reduction="sum").item())
        squares = [rounded(v * v, dtype) for v in xs]
        assert abs(loss - sum(squares)) <= (n - 1) * u32 * sum(squares) + u * sum(squares)
        in_dtype = Fraction(0)
        for v in xs:
            in_dtype = rounded(in_dtype + v, dtype)
        stepwise_differs |= in_dtype != Fraction(row.sum().item())
    assert stepwise_differs or n == 2  # two terms: one addition, the same either way


@pytest.mark.parametrize("dtype", HALVES)
def test_draws_are_float32_draws_rounded(dtype):
    half, single = check("w*x+b", dtype=dtype, seed=5), check("w*x+b", seed=5)
    for (name, values), (_, wide) in zip(half.values, single.values, strict=True):
        assert values == tuple(torch.tensor(wide).to(getattr(torch, dtype)).tolist()), name


@pytest.mark.parametrize("dtype", HALVES)
@pytest.mark.parametrize("model", ["w*x+b", "w*x*x+b", "w*x-b*x"])
def test_the_traced_bound_covers_the_error_at_many_seeds(dtype, model):
    """The bound itself (not 4x it) covers autograd's error: the tape's model of the kernels
    is an upper bound, at 1 and at 5 samples (sum.dim_IntList, mean)."""
    for seed in range(1, 13):
        r = check(model, dtype=dtype, seed=seed, samples=1 + 4 * (seed % 2))
        for g in r.gradients:
            assert g.bound_method == "aten" and g.verdict == "pass", (seed, g.param, g.note)
            assert g.abs_error <= g.bound, (seed, g.param)


@pytest.mark.parametrize("dtype", HALVES)
def test_tutorial_passes_with_a_bound_that_explains_its_error(dtype):
    result = gradcheck(
        "w*x+b", "--loss", "mse", "--seed", "1", "--dtype", dtype, "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "pass" and data["dtype"] == dtype
    for g in data["gradients"]:
        assert g["bound_method"] == "aten" and g["note"] == ""
        assert 0 < g["abs_error"] <= g["bound"]  # rounding, and explained by the bound
        assert g["abs_error"] > 2.0**-24 * abs(g["exact"])  # more than float32 would lose
        assert g["ladder"]["dtype"] == "float64" and g["ladder"]["passed"]
    table = gradcheck("w*x+b", "--dtype", dtype).stdout
    assert table.startswith("PASS") and f"dtype    {dtype}" in table


@pytest.mark.parametrize("dtype", HALVES)
def test_an_unmodelled_kernel_falls_back_and_says_so(dtype):
    g = check("tanh(w*x+b)", dtype=dtype).gradients[0]
    assert g.bound_method == "sympy" and g.verdict == "pass"
    assert f"aten.tanh.default: its {dtype} kernel is not modelled" in g.note
    g = check("0.1*w*x+b", dtype=dtype).gradients[0]
    assert g.bound_method == "sympy" and "with a Python number" in g.note


@pytest.mark.parametrize("dtype", HALVES)
def test_the_ladder_finds_a_backward_wrong_below_half_precision(dtype):
    """exp's backward off by 1e-3: hidden by half precision's rounding, not by float64's."""
    r = check(
        "exp(w*x)", loss="none", dtype=dtype, params=["w"], lowerings={"exp": scaled_exp(1.001)}
    )
    g = r.gradients[0]
    assert g.verdict == "fail" and f"wrong below {dtype}'s resolution" in g.note
    assert check("exp(w*x)", loss="none", dtype=dtype, params=["w"]).gradients[0].verdict == "pass"


def test_float16_range():
    with pytest.raises(GradcheckError, match="overflows float16"):
        check("w*x+b", dtype="float16", at={"w": 70000.0})
    r = check("w*x", loss="none", dtype="float16", params=["w"], at={"x": 300.0, "w": 300.0})
    assert r.z_autograd[0] == float("inf")  # 90000 > 65504

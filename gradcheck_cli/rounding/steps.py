"""The floating-point steps ATen kernels are built of, each pushed on the tape with its cost
(``c`` of the table in ``gradcheck_cli.rounding.trace``): the shared vocabulary of the aten op
handlers (``aten_ops``, ``aten_nn``).
"""

from __future__ import annotations

from functools import lru_cache

import torch

from gradcheck_cli.rounding.tape import M, Tape

LIBM = 2  # a <= 1 ulp libm / SLEEF u10 kernel: 1 ulp <= 2u|v|


def add(tp: Tape, a: int, b: int, kind: str = "add") -> int:
    return tp.op(kind, (a, b), 0 if tp.is_zero(a) or tp.is_zero(b) else 1)


def sub(tp: Tape, a: int, b: int) -> int:
    return add(tp, a, b, "sub")


def mul(tp: Tape, a: int, b: int) -> int:
    if tp.is_pow2(a) or tp.is_pow2(b):
        return tp.op("mul", (a, b), 0, eta_count=1)
    return tp.op("mul", (a, b), 1)


def div(tp: Tape, a: int, b: int, scalar: bool = False) -> int:
    if tp.is_pow2(b):
        return tp.op("div", (a, b), 0, eta_count=1)
    return tp.op("div", (a, b), 2 if scalar else 1)


def fn(tp: Tape, kind: str, x: int, c: float = LIBM) -> int:
    """One call of a libm / SLEEF function (``c``: its documented error, in units of u)."""
    return tp.op(kind, (x,), c)


def neg(tp: Tape, x: int) -> int:
    return tp.op("neg", (x,), 0, 0)


def one(tp: Tape) -> int:
    return tp.const(1)


def select(tp: Tape, mask: list, a: int, b: int) -> int:
    """mask ? a : b, lane by lane (exact: no rounding; the lane not taken may be NaN)."""
    n = max(len(mask), len(tp.prims[a].val), len(tp.prims[b].val))
    flags = [M.mpf(int(bool(m))) for m in (mask * n if len(mask) == 1 else mask)]
    return tp.op("select", (a, b), 0, 0, extra=flags)


def scalar(tp: Tape, value: float, exact=None) -> int:
    """A number held in the dtype: ``value`` rounded to it; ``exact`` (default ``value``) is
    the mathematical number it stands for, its rounding error the leaf's error."""
    c = tp.const(value)
    p = tp.prims[c]
    if exact is not None:
        p.val[0] = M.mpf(exact) if not isinstance(exact, M.mpf) else exact
    p.err[0] = abs(_held(value, tp.dtype) - p.val[0])
    p.exact = p.err[0] == 0
    return c


@lru_cache(maxsize=4096)
def _held(x: float, dtype: torch.dtype):
    """``x`` as the dtype holds it, an exact ``M`` number."""
    return M.mpf(round_to(x, dtype))


def round_to(x: float, dtype: torch.dtype) -> float:
    return torch.tensor(x, dtype=torch.float64).to(dtype).item()


def pow_(tp: Tape, x: int, k: float) -> int:
    simple = {
        1: lambda: tp.op("id", (x,), 0, 0),
        2: lambda: mul(tp, x, x),
        3: lambda: mul(tp, mul(tp, x, x), x),
        0.5: lambda: tp.op("sqrt", (x,)),
        -1: lambda: div(tp, one(tp), x),
        -2: lambda: div(tp, one(tp), mul(tp, x, x)),
        -0.5: lambda: div(tp, one(tp), tp.op("sqrt", (x,))),
    }
    if k == 0:
        return tp.const(1, len(tp.prims[x].val))
    if k in simple:
        return simple[k]()
    return tp.op("powk", (x,), max(2, abs(k)), extra=[M.mpf(k)] * len(tp.prims[x].val))


def mean(tp: Tape, x: int) -> int:
    n = len(tp.prims[x].val)
    if not tp.half:
        return div(tp, tp.reduce_sum(x), tp.const(n), scalar=True)
    count = tp.const(n)  # half: the float32 total / n in float32, rounded once to the dtype
    inner = 0 if tp.is_pow2(count) else 2 * tp.acc / tp.u
    cost = 0 if n == 1 else 1 + inner  # one term: the total is a value of the dtype already
    return tp.op("div", (tp.reduce_sum(x, rounded=False), count), cost, eta_count=1)


def reduce(tp: Tape, x: int, reduction: int) -> int:
    """apply_loss_reduction: 0 none, 1 mean, 2 sum."""
    return {0: lambda: x, 1: lambda: mean(tp, x), 2: lambda: tp.reduce_sum(x)}[reduction]()


def norm(tp: Tape, n: int, reduction: int, value: float = 1.0) -> int:
    """The backward's ``value / numel`` (mean) or ``value`` (sum), a double cast to the dtype."""
    if reduction == 1:
        return scalar(tp, value / n, _ratio(value, n))
    return scalar(tp, value)


@lru_cache(maxsize=4096)
def _ratio(value: float, n: int):
    """``value / n`` exactly as M divides (at its precision)."""
    return M.mpf(value) / n


def sigmoid(tp: Tape, x: int) -> int:
    """1 / (1 + exp(-x)), the order of ATen's sigmoid kernel."""
    e = fn(tp, "exp", neg(tp, x))
    return div(tp, one(tp), add(tp, e, one(tp)))


def softplus(tp: Tape, x: int, beta=1, threshold=20) -> int:
    t = mul(tp, x, tp.const(beta))
    lp = fn(tp, "log1p", fn(tp, "exp", t))
    out = div(tp, lp, tp.const(beta), scalar=True)
    return select(tp, [v > threshold for v in tp.prims[t].val], x, out)


def values(tp: Tape, x: int) -> list:
    return tp.prims[x].val

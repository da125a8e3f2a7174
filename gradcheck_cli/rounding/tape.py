"""The tape of exact rounding steps: each primitive floating-point step with its exact value
(mpmath, 200 bits, a private context) and its local absolute error bound ``c * (u*|v| + eta)``
(see the table in ``gradcheck_cli.rounding.trace``). ``rounding.aten_ops`` expands aten ops
into these steps; ``rounding.sweep`` sweeps adjoints back through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import torch
from mpmath.libmp import (
    fnan,
    fzero,
    mpf_abs,
    mpf_add,
    mpf_div,
    mpf_mul,
    mpf_mul_int,
    mpf_sub,
    mpf_sum,
)

from gradcheck_cli.dtypes import DTYPES
from gradcheck_cli.errors import OutOfDomain, UnsupportedOp  # noqa: F401 (re-exported)
from gradcheck_cli.rounding.raw import NOT_FINITE, M, raw_mul  # M: re-exported

_TORCH = {getattr(torch, d.torch_name): d for d in DTYPES.values()}
UNIT = {dt: (d.unit_roundoff, d.tiny) for dt, d in _TORCH.items()}  # u and eta per torch dtype
ACCUMULATE = {  # the unit roundoff CPU kernels compute in (float32 for bfloat16 and float16)
    dt: DTYPES[d.accumulate].unit_roundoff if d.half else d.unit_roundoff
    for dt, d in _TORCH.items()
}
FMAX = {dt: d.max for dt, d in _TORCH.items()}
_P, _R = M.prec, "n"  # what M's arithmetic rounds to (round to nearest: its default)
_ARITH = {"add": mpf_add, "sub": mpf_sub, "mul": raw_mul, "div": mpf_div}  # what + - * / call


class Ref(NamedTuple):
    id: int


@dataclass(slots=True)
class _Prim:
    kind: str
    args: tuple[int, ...]
    val: list
    err: list
    exact: bool
    owner: tuple[str, str]
    extra: Any = None


_UNARY = {
    "neg": (lambda x: -x, lambda x, v: -1),
    "id": (lambda x: x, lambda x, v: 1),
    "sqrt": (M.sqrt, lambda x, v: 1 / (2 * v)),
    "exp": (M.exp, lambda x, v: v),
    "expm1": (M.expm1, lambda x, v: v + 1),
    "log": (M.log, lambda x, v: 1 / x),
    "log1p": (M.log1p, lambda x, v: 1 / (1 + x)),
    "sin": (M.sin, lambda x, v: M.cos(x)),
    "cos": (M.cos, lambda x, v: -M.sin(x)),
    "tanh": (M.tanh, lambda x, v: 1 - v * v),
    "log10": (M.log10, lambda x, v: 1 / (x * M.ln10)),
    "tan": (M.tan, lambda x, v: 1 + v * v),
    "asin": (M.asin, lambda x, v: 1 / M.sqrt(1 - x * x)),
    "acos": (M.acos, lambda x, v: -1 / M.sqrt(1 - x * x)),
    "atan": (M.atan, lambda x, v: 1 / (1 + x * x)),
    "sinh": (M.sinh, lambda x, v: M.cosh(x)),
    "cosh": (M.cosh, lambda x, v: M.sinh(x)),
    "asinh": (M.asinh, lambda x, v: 1 / M.sqrt(x * x + 1)),
    "acosh": (M.acosh, lambda x, v: 1 / M.sqrt(x * x - 1)),
    "atanh": (M.atanh, lambda x, v: 1 / (1 - x * x)),
    "erf": (M.erf, lambda x, v: 2 / M.sqrt(M.pi) * M.exp(-x * x)),
    "erfc": (M.erfc, lambda x, v: -2 / M.sqrt(M.pi) * M.exp(-x * x)),
    "lgamma": (
        lambda x: M.loggamma(x) if x > 0 else M.log(abs(M.gamma(x))),
        lambda x, v: M.digamma(x),
    ),
    "digamma": (M.digamma, lambda x, v: M.psi(1, x)),
}
_BINARY = {
    "add": (lambda a, b: a + b, lambda a, b, v: (1, 1)),
    "sub": (lambda a, b: a - b, lambda a, b, v: (1, -1)),
    "mul": (lambda a, b: a * b, lambda a, b, v: (b, a)),
    "div": (lambda a, b: a / b, lambda a, b, v: (1 / b, -v / b)),
    "atan2": (M.atan2, lambda a, b, v: (b / (a * a + b * b), -a / (a * a + b * b))),
    "hypot": (M.hypot, lambda a, b, v: (a / v, b / v)),
    "pow": (lambda a, b: a**b, lambda a, b, v: (b * a ** (b - 1), v * _log_positive(a))),
}


def _log_positive(a):
    """log a for the exponent's partial of a**b; no real derivative in b where a <= 0."""
    if a <= 0:
        raise ZeroDivisionError("pow: no derivative in the exponent at a base <= 0")
    return M.log(a)


def signs(values) -> list:
    """The sign of each value (-1, 0, 1); a tape whose lanes are not mpmath numbers gives
    its own (``rounding.vector.Lanes.signs``)."""
    if hasattr(values, "signs"):
        return values.signs()
    return [M.sign(v) for v in values]


def pick(xs: list, j: int):
    return xs[0] if len(xs) == 1 else xs[j]


class Tape:
    """Flat list of primitive steps with exact values and local absolute error bounds."""

    def __init__(self, dtype: torch.dtype):
        self.dtype = dtype
        self.u, self.eta, self.acc, self.fmax = _numbers(dtype)  # acc: u of the accumulation
        self.half = self.acc != self.u  # stored in half precision, computed in float32
        self.prims: list[_Prim] = []
        self.owner = ("", "")
        self._costs = _costs(dtype)  # (c, eta_count) -> (c * u, eta count * eta)

    def _push(self, kind, args, val, err, exact, extra=None) -> int:
        self.prims.append(_Prim(kind, tuple(args), val, err, exact, self.owner, extra))
        return len(self.prims) - 1

    def leaf(self, val: list, exact: bool = True) -> int:
        return self._push("leaf", (), list(val), [M.zero] * len(val), exact)

    def const(self, x: float | int | bool, n: int = 1) -> int:
        exact_val, err, exact = _constant(x, self.dtype)
        return self._push("leaf", (), [exact_val] * n, [err] * n, exact)

    def ref(self, x) -> int:
        return x.id if isinstance(x, Ref) else self.const(x)

    def op(self, kind: str, args, c: float = 1, eta_count: float | None = None, extra=None):
        arith = _ARITH.get(kind)  # + - * /: mpmath's own functions on raw values
        if arith is not None and not extra:
            ps = (self.prims[args[0]], self.prims[args[1]])
            x, y = ps[0].val, ps[1].val
            if len(x) == 1 == len(y):  # one lane
                val = [_arith1(arith, x[0]._mpf_, y[0]._mpf_)]
            else:
                val = _values(kind, ps, extra, arith)
        else:
            ps = [self.prims[a] for a in args]
            val = _values(kind, ps, extra, arith)
        cost = self._costs.get((c, eta_count))
        scale, floor = cost if cost is not None else self._cost(c, eta_count)
        exact = c == 0 and all(p.exact for p in ps)
        return self._push(kind, args, val, _errors(val, scale, floor), exact, extra)

    def _cost(self, c: float, eta_count: float | None) -> tuple:
        """``c * u`` and ``ec * eta`` as raw values (``ec``: ``eta_count``, by default ``c``):
        a step's error is ``c * u * |v| + ec * eta``."""
        ec = c if eta_count is None else eta_count
        cost = self._costs[(c, eta_count)] = ((c * self.u)._mpf_, (ec * self.eta)._mpf_)
        return cost

    def reduce_sum(self, a: int, rounded: bool = True) -> int:
        """A sum of n terms, any order: ``(n - 1) * u * sum|x|``; in half precision the
        terms are added in float32 (``acc``) and the total rounded once to the dtype (not
        ``rounded``: the float32 total, which ``mean`` divides before rounding)."""
        xs = [x._mpf_ for x in self.prims[a].val]  # M.fsum's arithmetic on the raw values:
        s = M.make_mpf(mpf_sum(xs, _P, _R))
        scale = mpf_mul_int(self.acc._mpf_, len(xs) - 1, _P, _R)  # (n - 1) * acc
        err = mpf_mul(scale, mpf_sum([mpf_abs(x, _P, _R) for x in xs], _P, _R), _P, _R)
        err = M.make_mpf(err)  # * sum |x|
        if self.half and rounded and len(xs) > 1:
            err += self.u * abs(s) + self.eta
        return self._push("sum", (a,), [s], [err], len(xs) == 1 and self.prims[a].exact)

    def expand(self, a: int, n: int) -> int:
        p = self.prims[a]
        if len(p.val) == n:
            return a
        if len(p.val) != 1:
            raise UnsupportedOp(f"expand {len(p.val)}->{n}")
        return self._push("expand", (a,), p.val * n, [M.zero] * n, p.exact)

    def is_pow2(self, a: int) -> bool:
        p = self.prims[a]
        if not p.exact:
            return False
        for v in p.val:
            if v._mpf_[1] != 1:  # v != 0 and |mantissa| 1
                return False
        return True

    def is_zero(self, a: int) -> bool:
        p = self.prims[a]
        if not p.exact:
            return False
        for v in p.val:
            if v._mpf_ != fzero:
                return False
        return True


def _values(kind: str, ps: list, extra: Any, arith: Any) -> list:
    """The exact value of each lane of a step (``_value``), arguments of one lane broadcast."""
    sizes = [len(p.val) for p in ps]
    n = max([*sizes, len(extra) if extra else 1])  # extra: per lane
    if any(size not in (1, n) for size in sizes):
        raise UnsupportedOp(f"broadcast {sizes}")
    if arith is not None and not extra:
        return _arith(arith, ps[0].val, ps[1].val, n)
    if n == 1:
        return [_value(kind, [p.val[0] for p in ps], extra[0] if extra else None)]
    xs = [p.val for p in ps]
    return [
        _value(kind, [pick(x, j) for x in xs], pick(extra, j) if extra else None) for j in range(n)
    ]


def _arith(f, xs: list, ys: list, n: int) -> list:
    """``_value`` of + - * / lane by lane (``_arith1``)."""
    if n == 1:
        return [_arith1(f, xs[0]._mpf_, ys[0]._mpf_)]
    return [
        _arith1(
            f, (xs[0] if len(xs) == 1 else xs[j])._mpf_, (ys[0] if len(ys) == 1 else ys[j])._mpf_
        )
        for j in range(n)
    ]


def _arith1(f, a: tuple, b: tuple) -> Any:
    """NaN where an argument is NaN, the operation fails (x / 0) or the result is not finite;
    else ``f(a, b)`` at M's precision and rounding, which is what M's operators compute."""
    if a == fnan or b == fnan:
        return M.nan
    try:
        v = f(a, b, _P, _R)
    except (ZeroDivisionError, ValueError):
        return M.nan
    return M.nan if v in NOT_FINITE else M.make_mpf(v)


def _errors(val: list, scale: tuple, floor: tuple) -> list:
    """``scale * |v| + floor`` per lane (0 where v is NaN), rounded as M's operators round."""
    if scale == fzero and floor == fzero:
        return [M.zero] * len(val)
    out = []
    for v in val:
        r = v._mpf_
        if r == fnan:
            out.append(M.zero)
            continue
        out.append(M.make_mpf(mpf_add(raw_mul(scale, mpf_abs(r, _P, _R)), floor, _P, _R)))
    return out


@lru_cache(maxsize=16)
def _numbers(dtype: torch.dtype) -> tuple:
    """u, eta, the u reductions accumulate in, and the largest finite value of ``dtype``."""
    return tuple(M.mpf(t) for t in (*UNIT[dtype], ACCUMULATE[dtype], FMAX[dtype]))


@lru_cache(maxsize=16)
def _costs(dtype: torch.dtype) -> dict:
    return {}  # Tape._cost's results, shared by the tapes of one dtype


@lru_cache(maxsize=4096)
def _constant(x: float | int | bool, dtype: torch.dtype) -> tuple:
    """A Python number as an exact value, its rounding error ``|fl(x) - x|`` in ``dtype``, and
    whether that error is 0."""
    exact_val = M.mpf(x)
    rounded = torch.tensor(float(x), dtype=torch.float64).to(dtype).item()
    err = abs(M.mpf(rounded) - exact_val)
    return exact_val, err, err == 0


def _value(kind: str, xs: list, extra):
    """The exact value, NaN where it is undefined or not real (a masked lane of torch's kernel,
    such as log(y) where the Stirling term is masked off); the adjoint sweep refuses a NaN
    that the gradient depends on (``OutOfDomain``)."""
    if kind == "select":  # extra: 1 takes the first argument, 0 the second (exact, no rounding)
        return xs[0] if extra else xs[1]
    if any(M.isnan(x) for x in xs):
        return M.nan
    try:
        v = _fwd(kind, xs, extra)
    except (ZeroDivisionError, ValueError):
        return M.nan
    return v if isinstance(v, M.mpf) and M.isfinite(v) else M.nan


def _fwd(kind: str, xs: list, extra):
    if kind in _UNARY:
        return _UNARY[kind][0](xs[0])
    if kind in _BINARY:
        return _BINARY[kind][0](*xs)
    if kind == "scale":
        return xs[0] * extra
    if kind == "powk":
        return xs[0] ** extra
    raise UnsupportedOp(kind)


def partials(kind: str, xs: list, v, extra) -> tuple:
    if kind in _UNARY:
        return (_UNARY[kind][1](xs[0], v),)
    if kind in _BINARY:
        return _BINARY[kind][1](*xs, v)
    if kind == "scale":
        return (extra,)
    if kind == "select":
        return (1, 0) if extra else (0, 1)
    return (extra * xs[0] ** (extra - 1),)  # powk

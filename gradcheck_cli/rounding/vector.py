"""The tape of rounding steps in rigorous float64 interval vectors (``rounding.intervals``):
the same steps, costs and first-order formula as ``rounding.tape`` (mpmath, lane by lane),
computed a whole tensor at a time.

``VecTape`` has the interface the aten handlers use (``op``, ``const``, ``leaf``, ``prims[i].val``
to read lanes); a lane read by a handler is a ``Lane`` whose comparisons answer only where the
interval decides them. ``sweep`` computes E1 of one output component from enclosures of every
value and adjoint, so it is an upper bound of the exact E1; where the enclosure of E1 is wider
than ``WIDTH`` (relative) or anything is undecided, ``Undecided`` is raised and the caller uses
the exact tape, so results agree with it to far better than the recorded 1e-9.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch

from gradcheck_cli.errors import UnsupportedOp
from gradcheck_cli.rounding import intervals as iv
from gradcheck_cli.rounding.intervals import ARB_KINDS, Iv, Undecided
from gradcheck_cli.rounding.tape import FMAX, UNIT, M, Ref

WIDTH = 1e-12  # the widest relative enclosure of E1 accepted


@lru_cache(maxsize=4096)
def rounded(x: float | int | bool, dtype: torch.dtype) -> float:
    return torch.tensor(float(x), dtype=torch.float64).to(dtype).item()


class Lane:
    """One lane as a handler sees it: comparisons decided by the interval, or ``Undecided``."""

    __slots__ = ("lo", "hi")

    def __init__(self, lo: float, hi: float):
        self.lo, self.hi = lo, hi

    def _mpmath_(self, prec: int, rounding: str) -> Any:
        if self.lo != self.hi:
            raise Undecided("an inexact lane read as a number")
        return M.mpf(self.lo)

    def __abs__(self) -> Lane:
        if self.lo >= 0:
            return self
        if self.hi <= 0:
            return Lane(-self.hi, -self.lo)
        return Lane(0.0, max(-self.lo, self.hi))

    def __gt__(self, other: Any) -> bool:
        lo, hi = _ends(other)
        return _decide(self.lo > hi, self.hi <= lo)

    def __ge__(self, other: Any) -> bool:
        lo, hi = _ends(other)
        return _decide(self.lo >= hi, self.hi < lo)

    def __lt__(self, other: Any) -> bool:
        lo, hi = _ends(other)
        return _decide(self.hi < lo, self.lo >= hi)

    def __le__(self, other: Any) -> bool:
        lo, hi = _ends(other)
        return _decide(self.hi <= lo, self.lo > hi)

    def __eq__(self, other: Any) -> bool:  # type: ignore[override]
        lo, hi = _ends(other)
        return _decide(self.lo == self.hi == lo == hi, self.hi < lo or self.lo > hi)

    def __ne__(self, other: Any) -> bool:  # type: ignore[override]
        return not self == other

    __hash__ = None  # type: ignore[assignment]


def _ends(x: Any) -> tuple[float, float]:
    if isinstance(x, Lane):
        return x.lo, x.hi
    if isinstance(x, bool | int | float):
        return (x, x) if isinstance(x, float) or abs(x) < 2**53 else iv.enclose_mpf(M.mpf(x))
    return iv.enclose_mpf(x)


def _decide(yes: bool, no: bool) -> bool:
    if yes == no:
        raise Undecided("a comparison the interval straddles")
    return yes


class Lanes:
    """A prim's values: an ``Iv``, and the exact mpmath numbers where it has them (leaves)."""

    __slots__ = ("iv", "mp")

    def __init__(self, values: Iv, mp: list | None = None):
        self.iv, self.mp = values, mp

    def __len__(self) -> int:
        return len(self.iv)

    def __getitem__(self, j: int) -> Any:
        if self.mp is not None:
            return self.mp[j]
        return Lane(float(self.iv.lo[j]), float(self.iv.hi[j]))

    def __iter__(self):
        if self.mp is not None:
            return iter(self.mp)
        return map(Lane, self.iv.lo.tolist(), self.iv.hi.tolist())

    def signs(self) -> np.ndarray:
        lo, hi = self.iv.lo, self.iv.hi
        if not ((lo > 0) | (hi < 0) | ((lo == 0) & (hi == 0))).all():
            raise Undecided("a sign the interval straddles")
        return np.sign(lo) + (lo == 0) * np.sign(hi)

    def __setitem__(self, j: int, x: Any) -> None:  # an exact value given to a leaf
        if self.mp is None:
            raise Undecided("a computed lane overwritten")
        self.mp[j] = x
        self.iv.lo[j], self.iv.hi[j] = iv.enclose_mpf(x)


class VPrim:
    __slots__ = ("kind", "args", "val", "errs", "exact", "owner", "extra", "cost", "parts")

    def __init__(self, kind, args, val, errs, exact, owner, extra=None, cost=(0.0, 0.0)):
        self.kind, self.args, self.val, self.errs = kind, tuple(args), val, errs
        self.exact, self.owner, self.extra, self.cost = exact, owner, extra, cost
        self.parts = None  # the partials, once the sweep needs them

    @property
    def err(self) -> Lanes:
        """The local rounding errors: given (leaves), else computed from the values at each
        read and not kept (at 100000 samples each step's would hold 1.6 MB to the end)."""
        if self.errs is not None:
            return self.errs
        cu, ceta = self.cost  # c*u and an upper bound of ec*eta
        v = self.val.iv
        hi = iv.up(iv.up(cu * v.mag()) + ceta)
        return Lanes(Iv(cu * v.mig() + ceta, hi))


def _zeros(n: int) -> Lanes:
    z = np.zeros(n)
    return Lanes(Iv(z, z), [M.zero] * n)


class VecTape:
    """The rounding steps of ``rounding.tape.Tape`` on interval vectors (float32 and float64
    only: half precision's float32 accumulation is the exact tape's)."""

    half = False

    def __init__(self, dtype: torch.dtype):
        if dtype not in UNIT:
            raise UnsupportedOp(f"dtype {dtype}")
        self.dtype = dtype
        self.u, self.eta = (float(t) for t in UNIT[dtype])
        self.fmax = float(FMAX[dtype])
        self.prims: list[VPrim] = []
        self.owner = ("", "")

    def _push(self, prim: VPrim) -> int:
        self.prims.append(prim)
        return len(self.prims) - 1

    def leaf(self, val: list, exact: bool = True) -> int:
        lanes = Lanes(iv.from_mpf(val), list(val))
        return self._push(VPrim("leaf", (), lanes, _zeros(len(val)), exact, self.owner))

    def leaf_array(self, values: Any) -> int:
        lanes = Lanes(iv.point(values))
        return self._push(VPrim("leaf", (), lanes, _zeros(len(lanes)), True, self.owner))

    def const(self, x: float | int | bool, n: int = 1) -> int:
        exact_val = M.mpf(x)
        err = abs(M.mpf(rounded(x, self.dtype)) - exact_val)
        lo, hi = iv.enclose_mpf(exact_val)
        elo, ehi = iv.enclose_mpf(err)
        val = Lanes(Iv(np.full(n, lo), np.full(n, hi)), [exact_val] * n)
        errs = Lanes(Iv(np.full(n, elo), np.full(n, ehi)), [err] * n)
        return self._push(VPrim("leaf", (), val, errs, err == 0, self.owner))

    def ref(self, x) -> int:
        return x.id if isinstance(x, Ref) else self.const(x)

    def op(self, kind: str, args, c: float = 1, eta_count: float | None = None, extra=None):
        xs = [self.prims[a].val.iv for a in args]
        n = max([len(x) for x in xs] + [1 if extra is None else len(extra)])
        if any(len(x) not in (1, n) for x in xs):
            raise UnsupportedOp(f"broadcast {[len(x) for x in xs]}")
        ex = None if extra is None else _exact_floats(extra)
        val = _forward(kind, xs, ex, c == 0)
        if len(val) != n:
            val = Iv(np.broadcast_to(val.lo, n), np.broadcast_to(val.hi, n))
        ec = c if eta_count is None else eta_count
        exact = c == 0 and all(self.prims[a].exact for a in args)
        errs = _zeros(n) if c == 0 and ec == 0 else None
        cost = (c * self.u, _upper_product(ec, self.eta))
        return self._push(VPrim(kind, args, Lanes(val), errs, exact, self.owner, ex, cost))

    def reduce_sum(self, a: int) -> int:
        p = self.prims[a]
        x, n = p.val.iv, len(p.val)
        scale = (n - 1) * self.u
        hi = iv.up(np.array([iv.upper_sum(x.mag()) * scale]))
        errs = Lanes(Iv(np.array([np.sum(x.mig()) * scale]), hi))
        val = Lanes(iv.total(x))
        return self._push(VPrim("sum", (a,), val, errs, n == 1 and p.exact, self.owner))

    def expand(self, a: int, n: int) -> int:
        p = self.prims[a]
        if len(p.val) == n:
            return a
        if len(p.val) != 1:
            raise UnsupportedOp(f"expand {len(p.val)}->{n}")
        x = p.val.iv
        mp = None if p.val.mp is None else p.val.mp * n
        val = Lanes(Iv(np.broadcast_to(x.lo, n), np.broadcast_to(x.hi, n)), mp)
        return self._push(VPrim("expand", (a,), val, _zeros(n), p.exact, self.owner))

    def is_pow2(self, a: int) -> bool:
        p = self.prims[a]
        if not p.exact:
            return False
        if p.val.mp is not None:
            return all(v != 0 and abs(v.man) == 1 for v in p.val.mp)
        x = p.val.iv
        if not x.is_point():
            raise Undecided("an exact value held as an interval")
        return bool((x.lo != 0).all() and (np.abs(np.frexp(x.lo)[0]) == 0.5).all())

    def is_zero(self, a: int) -> bool:
        p = self.prims[a]
        if not p.exact:
            return False
        if p.val.mp is not None:
            return all(v == 0 for v in p.val.mp)
        x = p.val.iv
        if not x.is_point():
            raise Undecided("an exact value held as an interval")
        return bool((x.lo == 0).all())


def _upper_product(a: float, b: float) -> float:
    """An upper bound of a*b (a*b itself where it is exact)."""
    p = float(a) * float(b)
    return p if M.mpf(p) == M.mpf(a) * M.mpf(b) else float(np.nextafter(p, np.inf))


def _exact_floats(extra: Any) -> np.ndarray:
    if isinstance(extra, np.ndarray):
        return extra
    out = np.array([float(e) for e in extra])
    if len(extra) and not all(M.mpf(f) == e for f, e in zip(out[:1], extra[:1], strict=True)):
        raise Undecided("an operand beyond float64")
    return out


def _forward(kind: str, xs: list[Iv], ex: np.ndarray | None, exact: bool) -> Iv:
    if kind == "select":
        return iv.select(ex != 0, xs[0], xs[1])
    if kind in ("neg", "id"):
        return iv.neg(xs[0]) if kind == "neg" else xs[0]
    if kind in ("add", "sub", "mul", "div"):
        return getattr(iv, kind)(xs[0], xs[1], exact)
    if kind == "scale":
        unit = bool(np.isin(ex, (-1.0, 0.0, 1.0)).all())
        return iv.mul(xs[0], Iv(ex, ex), unit)
    if kind == "sqrt":
        return iv.sqrt(xs[0])
    if kind == "powk":
        k = power(ex)
        return iv.arb_lanes(lambda x: x**k, xs[0])
    if kind in ARB_KINDS:
        return iv.arb_lanes(ARB_KINDS[kind][0], *xs)
    raise UnsupportedOp(kind)


def power(ex: np.ndarray) -> Any:
    k = float(ex[0])
    if not (ex == k).all():
        raise Undecided("an exponent varying by lane")
    if k.is_integer():
        return int(k)
    from flint import arb

    return arb(k)

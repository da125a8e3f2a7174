"""Rigorous interval vectors in float64 (numpy): the fast arithmetic of ``rounding.vector``.

An ``Iv`` holds, lane by lane, a lower and an upper float64 end that enclose an exact real
value. + - * / and sqrt are IEEE correctly rounded, so a result rounded to nearest and moved
one ulp outwards (``np.nextafter``) encloses the exact result; a step that is exact in float64
(negation, selection, a product by 0 or +-1) keeps its ends. Functions of the libm kind are
evaluated lane by lane in Arb balls (python-flint, rigorous) and their ends rounded outwards.
A sum of lanes is ``math.fsum`` (correctly rounded) moved one ulp outwards.

Whatever these intervals cannot decide (a NaN, an infinity, a division by an interval holding
0, a comparison or a sign an interval straddles) raises ``Undecided``: the caller then
evaluates with the exact mpmath tape instead, so no answer ever rests on a guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np

from gradcheck_cli.exact.ball import precision

INF = np.inf


class Undecided(Exception):
    """Intervals cannot decide this step; the exact (mpmath) tape must."""


class Iv:
    """Lanes of enclosing intervals ``[lo, hi]`` (float64 arrays of one length)."""

    __slots__ = ("lo", "hi")

    def __init__(self, lo: np.ndarray, hi: np.ndarray):
        self.lo, self.hi = lo, hi

    def __len__(self) -> int:
        return len(self.lo)

    def mag(self) -> np.ndarray:
        """The largest |x| of each lane."""
        return np.maximum(np.abs(self.lo), np.abs(self.hi))

    def mig(self) -> np.ndarray:
        """The smallest |x| of each lane (0 where it holds 0)."""
        return np.where((self.lo > 0) | (self.hi < 0), np.minimum(abs(self.lo), abs(self.hi)), 0)

    def is_point(self) -> bool:
        return self.lo is self.hi or bool(np.array_equal(self.lo, self.hi))


def point(values: Any) -> Iv:
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    return checked(Iv(v, v))


def down(x: np.ndarray) -> np.ndarray:
    return np.nextafter(x, -INF)


def up(x: np.ndarray) -> np.ndarray:
    return np.nextafter(x, INF)


def checked(x: Iv) -> Iv:
    if not (np.isfinite(x.lo).all() and np.isfinite(x.hi).all()):
        raise Undecided("not finite in float64")
    return x


def widened(lo: np.ndarray, hi: np.ndarray) -> Iv:
    return checked(Iv(down(lo), up(hi)))


def enclose_mpf(x: Any) -> tuple[float, float]:
    """The float64 ends of an mpmath number (equal where it is a double)."""
    f = float(x)
    if not np.isfinite(f):
        raise Undecided("beyond float64")
    if mpmath.mpf(f) == x:
        return f, f
    return float(np.nextafter(f, -INF)), float(np.nextafter(f, INF))


def from_mpf(values: list) -> Iv:
    ends = [enclose_mpf(v) for v in values]
    return Iv(np.array([e[0] for e in ends]), np.array([e[1] for e in ends]))


def add(a: Iv, b: Iv, exact: bool = False) -> Iv:
    lo, hi = a.lo + b.lo, a.hi + b.hi
    return checked(Iv(lo, hi)) if exact else widened(lo, hi)


def neg(a: Iv) -> Iv:
    return Iv(-a.hi, -a.lo)


def sub(a: Iv, b: Iv, exact: bool = False) -> Iv:
    return add(a, neg(b), exact)


def mul(a: Iv, b: Iv, exact: bool = False) -> Iv:
    """a*b; ``exact``: known exact in float64 unless it underflows (a power of two, 0, +-1)."""
    if a.is_point() and b.is_point():
        p = a.lo * b.lo
        lo, hi = p, p
    else:
        ps = (a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
        lo = np.minimum(np.minimum(ps[0], ps[1]), np.minimum(ps[2], ps[3]))
        hi = np.maximum(np.maximum(ps[0], ps[1]), np.maximum(ps[2], ps[3]))
    if exact and not _underflows(lo, hi):
        return checked(Iv(lo, hi))
    return widened(lo, hi)


def div(a: Iv, b: Iv, exact: bool = False) -> Iv:
    if not ((b.lo > 0) | (b.hi < 0)).all():
        raise Undecided("division by an interval holding 0")
    if a.is_point() and b.is_point():
        q = a.lo / b.lo
        lo, hi = q, q
    else:
        qs = (a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi)
        lo = np.minimum(np.minimum(qs[0], qs[1]), np.minimum(qs[2], qs[3]))
        hi = np.maximum(np.maximum(qs[0], qs[1]), np.maximum(qs[2], qs[3]))
    if exact and not _underflows(lo, hi):
        return checked(Iv(lo, hi))
    return widened(lo, hi)


def _underflows(lo: np.ndarray, hi: np.ndarray) -> bool:
    tiny = np.finfo(np.float64).tiny
    return bool((((lo != 0) & (abs(lo) < tiny)) | ((hi != 0) & (abs(hi) < tiny))).any())


def sqrt(a: Iv) -> Iv:
    if (a.lo < 0).any():
        raise Undecided("sqrt of an interval reaching below 0")
    return widened(np.sqrt(a.lo), np.sqrt(a.hi))


def select(flags: np.ndarray, a: Iv, b: Iv) -> Iv:
    return Iv(np.where(flags, a.lo, b.lo), np.where(flags, a.hi, b.hi))


def total(a: Iv) -> Iv:
    """The sum of the lanes, one lane (``math.fsum`` is correctly rounded: one ulp out)."""
    return widened(np.array([math.fsum(a.lo)]), np.array([math.fsum(a.hi)]))


def upper_sum(x: np.ndarray) -> float:
    """An upper bound of the sum of nonnegative floats (itself where one term)."""
    if len(x) == 1:
        return float(x[0])
    return float(np.nextafter(math.fsum(x), INF))


# ---------------------------------------------------------------- Arb, lane by lane
def arb_lanes(f: Callable[..., Any], *args: Iv) -> Iv:
    """``f`` (on python-flint ``arb`` balls) of every lane, its ends rounded outwards."""
    from flint import arb

    n = max(len(a) for a in args)
    lo, hi = np.empty(n), np.empty(n)
    cols = [[_ball(arb, a.lo[j], a.hi[j]) for j in range(len(a))] for a in args]
    with precision(96):
        for j in range(n):
            v = f(*(c[0] if len(c) == 1 else c[j] for c in cols))
            if not v.is_finite():
                raise Undecided("no finite value in Arb")
            lo[j], hi[j] = float(v.lower()), float(v.upper())
    return widened(lo, hi)


def _ball(arb: Any, lo: float, hi: float) -> Any:
    return arb(lo) if lo == hi else arb(lo).union(arb(hi))


def _pi(x: Any) -> Any:
    return type(x).pi()


# kind -> (value, partials (x, v) -> tuple), each on arb balls
ARB_KINDS: dict[str, tuple[Callable[..., Any], Callable[..., tuple]]] = {
    "exp": (lambda x: x.exp(), lambda x, v: (v,)),
    "expm1": (lambda x: x.expm1(), lambda x, v: (v + 1,)),
    "log": (lambda x: x.log(), lambda x, v: (1 / x,)),
    "log1p": (lambda x: x.log1p(), lambda x, v: (1 / (1 + x),)),
    "sin": (lambda x: x.sin(), lambda x, v: (x.cos(),)),
    "cos": (lambda x: x.cos(), lambda x, v: (-x.sin(),)),
    "tanh": (lambda x: x.tanh(), lambda x, v: (1 - v * v,)),
    "log10": (lambda x: x.log() / type(x)(10).log(), lambda x, v: (1 / (x * type(x)(10).log()),)),
    "tan": (lambda x: x.tan(), lambda x, v: (1 + v * v,)),
    "asin": (lambda x: x.asin(), lambda x, v: (1 / (1 - x * x).sqrt(),)),
    "acos": (lambda x: x.acos(), lambda x, v: (-1 / (1 - x * x).sqrt(),)),
    "atan": (lambda x: x.atan(), lambda x, v: (1 / (1 + x * x),)),
    "sinh": (lambda x: x.sinh(), lambda x, v: (x.cosh(),)),
    "cosh": (lambda x: x.cosh(), lambda x, v: (x.sinh(),)),
    "asinh": (lambda x: x.asinh(), lambda x, v: (1 / (x * x + 1).sqrt(),)),
    "acosh": (lambda x: x.acosh(), lambda x, v: (1 / (x * x - 1).sqrt(),)),
    "atanh": (lambda x: x.atanh(), lambda x, v: (1 / (1 - x * x),)),
    "erf": (lambda x: x.erf(), lambda x, v: (2 / _pi(x).sqrt() * (-x * x).exp(),)),
    "erfc": (lambda x: x.erfc(), lambda x, v: (-2 / _pi(x).sqrt() * (-x * x).exp(),)),
    "atan2": (
        lambda a, b: type(a).atan2(a, b),
        lambda a, b, v: (b / (a * a + b * b), -a / (a * a + b * b)),
    ),
    "hypot": (lambda a, b: (a * a + b * b).sqrt(), lambda a, b, v: (a / v, b / v)),
    "pow": (lambda a, b: a**b, lambda a, b, v: (b * a ** (b - 1), v * a.log())),
}

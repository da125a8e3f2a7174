"""Ball arithmetic (python-flint's ``arb``) behind the mpmath context interface of the catalog.

The catalog's evaluators are written against an mpmath context ``ctx`` (``mpmath.mp`` for points,
``mpmath.iv`` for intervals). ``BallContext`` is a third such context: its numbers are ``Ball``
(an ``arb``, a midpoint and a radius that rigorously enclose the value, computed by FLINT's Arb
in C, tens of times faster than ``mpmath.iv`` in Python). Comparisons say True or False only
where the whole ball decides them and None otherwise, as ``mpmath.iv``'s do, so that
``numeric.decide`` refuses to pick a branch a ball straddles (``Ambiguous``).

Arb answers NaN (or an infinite ball) outside a function's domain: such a value makes the
caller give up on balls and evaluate as before (``exact/program.py``), so that every message
and every value not certified here comes from the mpmath path unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import flint
import mpmath
from flint import arb

from gradcheck_cli.errors import NoInterval

__all__ = ["Ball", "BallContext", "precision", "to_mpf"]


def _raw(x: Any) -> Any:
    return x.v if type(x) is Ball else x


class Ball:
    """An ``arb`` with tri-state comparisons (None: the ball cannot tell)."""

    __slots__ = ("v",)
    __hash__ = None  # type: ignore[assignment]  # values, never keys

    def __init__(self, v: Any):
        self.v = v

    def __add__(self, o: Any) -> Ball:
        return Ball(self.v + _raw(o))

    __radd__ = __add__

    def __sub__(self, o: Any) -> Ball:
        return Ball(self.v - _raw(o))

    def __rsub__(self, o: Any) -> Ball:
        return Ball(_raw(o) - self.v)

    def __mul__(self, o: Any) -> Ball:
        return Ball(self.v * _raw(o))

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Ball:
        return Ball(self.v / _raw(o))

    def __rtruediv__(self, o: Any) -> Ball:
        return Ball(_raw(o) / self.v)

    def __neg__(self) -> Ball:
        return Ball(-self.v)

    def __pos__(self) -> Ball:
        return self

    def __abs__(self) -> Ball:
        return Ball(abs(self.v))

    def __pow__(self, k: Any) -> Ball:
        if type(k) is not int:
            raise NoInterval  # only integer powers: the evaluators write b**e as exp(e*log b)
        return Ball(self.v**k) if k >= 0 else Ball(1 / self.v ** (-k))

    def __gt__(self, o: Any) -> bool | None:
        o = _raw(o)
        return True if self.v > o else False if self.v <= o else None

    def __ge__(self, o: Any) -> bool | None:
        o = _raw(o)
        return True if self.v >= o else False if self.v < o else None

    def __lt__(self, o: Any) -> bool | None:
        o = _raw(o)
        return True if self.v < o else False if self.v >= o else None

    def __le__(self, o: Any) -> bool | None:
        o = _raw(o)
        return True if self.v <= o else False if self.v > o else None

    def __eq__(self, o: Any) -> bool | None:  # type: ignore[override]
        if o is None:
            return False  # ``None in values``: a value is missing
        o = _raw(o)
        return True if self.v == o else False if self.v != o else None

    def __ne__(self, o: Any) -> bool | None:  # type: ignore[override]
        same = self.__eq__(o)
        return None if same is None else not same

    def __bool__(self) -> bool:
        raise TypeError("the truth of a ball is a comparison: use numeric.decide")

    def finite(self) -> bool:
        return self.v.is_finite()

    def beyond(self, bits: int) -> bool:
        """Whether some value of the ball reaches 2^bits in magnitude."""
        return not self.v.abs_upper() < 2**bits

    def integer(self) -> int | None:
        """The integer the ball is exactly, else None."""
        return int(self.v.unique_fmpz()) if self.v.is_exact() and self.v.is_integer() else None

    def ends(self) -> tuple[mpmath.mpf, mpmath.mpf]:
        """The ends of the ball as exact mpmath numbers."""
        return to_mpf(self.v.lower()), to_mpf(self.v.upper())


def to_mpf(exact: Any) -> mpmath.mpf:
    """An exact ``arb`` (a point: ``lower()``, ``upper()``) as an mpmath number, exactly."""
    return mpmath.mp.make_mpf(exact._mpf_)  # as it is: mpmath.mpf would round to mp.prec


def _unary(method: str) -> Any:
    def apply(self: BallContext, x: Ball) -> Ball:
        return Ball(getattr(self.mpf(x).v, method)())

    apply.__name__ = method
    return apply


class BallContext:
    """The mpmath-context interface over ``arb`` (the names the catalog's evaluators call)."""

    ball = True

    def __init__(self, prec: int):
        self.prec = prec

    def mpf(self, x: Any) -> Ball:
        if type(x) is Ball:
            return x
        if isinstance(x, int | float | str):
            return Ball(arb(x))
        raise NoInterval  # an interval given by its ends: not needed with balls

    @property
    def pi(self) -> Ball:
        return Ball(arb.pi())

    @property
    def e(self) -> Ball:
        return Ball(arb.const_e())

    @property
    def euler(self) -> Ball:
        return Ball(arb.const_euler())

    def fsum(self, terms: Iterable[Any]) -> Ball:
        total = arb(0)
        for t in terms:
            total += _raw(t)
        return Ball(total)

    def isnan(self, x: Any) -> bool:
        return type(x) is Ball and not x.v.is_finite()

    exp, log, sqrt, expm1, log1p = map(_unary, ("exp", "log", "sqrt", "expm1", "log1p"))
    sin, cos, tan, asin, acos, atan = map(_unary, ("sin", "cos", "tan", "asin", "acos", "atan"))
    sinh, cosh, tanh, asinh, acosh = map(_unary, ("sinh", "cosh", "tanh", "asinh", "acosh"))
    atanh, erf, erfc, gamma = map(_unary, ("atanh", "erf", "erfc", "gamma"))
    loggamma = _unary("lgamma")

    def cbrt(self, x: Ball) -> Ball:
        if x.v >= 0:
            return Ball(x.v.root(3))
        raise NoInterval  # the catalog's cbrt takes x >= 0 only

    def atan2(self, y: Ball, x: Ball) -> Ball:
        return Ball(arb.atan2(self.mpf(y).v, self.mpf(x).v))

    def psi(self, order: int, x: Ball) -> Ball:
        if order != 0:
            raise NoInterval  # Arb has digamma only
        return Ball(x.v.digamma())

    def extreme(self, xs: Sequence[Ball], largest: bool) -> Ball:
        """max (or min) of balls: the hull of the largest (smallest) lower and upper ends."""
        pick = max if largest else min
        lo = pick((_raw(x).lower() for x in xs), key=_Key)
        hi = pick((_raw(x).upper() for x in xs), key=_Key)
        return Ball(lo.union(hi))


class _Key:
    """Orders exact arbs (ends of balls) for max and min."""

    __slots__ = ("v",)

    def __init__(self, v: Any):
        self.v = v

    def __lt__(self, other: _Key) -> bool:
        return bool(self.v < other.v)


@contextmanager
def precision(prec: int) -> Iterator[BallContext]:
    """Arb's working precision (a global of python-flint) set to ``prec`` bits meanwhile."""
    saved = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        yield BallContext(prec)
    finally:
        flint.ctx.prec = saved

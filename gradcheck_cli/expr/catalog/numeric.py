"""Building blocks of the evaluators: functions of an mpmath context ``ctx``, valid for points
(``mpmath.mp``) and for interval enclosures (``mpmath.iv``).

An evaluator built only from these blocks, ctx arithmetic and ``decide``d comparisons is a valid
interval extension. mpmath.iv lacks most special functions (and ``iv.erf`` does not converge):
``monotone`` encloses a function that is monotone on the interval by its values at the ends,
computed with mpmath.mp 30 bits beyond the interval precision and widened outward by 2^-(prec+20)
relative, far more than mpmath's error there.

Bounded magnitudes: an argument beyond ``2**BIG_BITS`` in magnitude (far beyond every dtype: exp
of it has a 10^11-bit exponent) is never evaluated; an interval there takes the function's limit
(``exp`` of [2^40, inf] is [exp(2^40), inf]), and a point there raises ``MagnitudeError``
unless the function has a finite limit (erf, tanh). mpmath is imported only inside functions,
so that importing the catalog stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradcheck_cli.errors import Ambiguous, MagnitudeError, NoInterval

BIG_BITS = 40
EXTRA_BITS = 30  # mpmath.mp evaluates the ends of a monotone enclosure this far beyond prec
WIDEN_BITS = 20  # ... and they are widened outward by 2^-(prec + WIDEN_BITS) relative

Limits = tuple[Any, Any]  # a function's limits at -inf and +inf; None: unbounded


class DomainError(ValueError):
    """A domain test that fails (for an interval: fails on all of it, so certainly)."""


def decide(result: Any) -> bool:
    """A comparison's truth; interval comparisons that cannot tell give None."""
    if result is None:
        raise Ambiguous
    return bool(result)


def domain(ok: bool | None, message: str) -> None:
    if not decide(ok):
        raise DomainError(message)


def is_interval(ctx: Any) -> bool:
    return type(ctx).__name__ == "MPIntervalContext"


def is_ball(ctx: Any) -> bool:
    """Whether ``ctx`` is ``exact/ball.py``'s context of Arb balls (its own functions are
    rigorous enclosures, at any argument a ball reaches)."""
    return getattr(ctx, "ball", False)


def is_zero(x: Any) -> bool:
    """Whether x is 0 (an interval: [0, 0]; one that contains 0 and more cannot tell).

    mpmath.iv's ``==`` is False for [-1, 1] == 0, so zero tests go through here."""
    positive, negative = x > 0, x < 0
    if positive or negative:
        return False
    if positive is None or negative is None:
        raise Ambiguous
    return True


def integer(ctx: Any, x: Any) -> int | None:
    """x as an int if it is exactly an integer (an interval: a point), else None."""
    if is_ball(ctx):
        return x.integer()
    if is_interval(ctx):
        if x.a != x.b:
            return None
        x = _mp(x.a)
    return int(x) if x == int(x) else None


def _mp(x: Any) -> Any:
    import mpmath

    return mpmath.mpf(x)


def _beyond(ctx: Any, x: Any) -> int:
    """+1 (-1) if x is at or above 2^BIG_BITS (at or below -2^BIG_BITS), 0 if within."""
    import mpmath

    if is_ball(ctx):  # a ball reaching the caps is left to mpmath: any sign will do
        return 1 if x.beyond(BIG_BITS) else 0
    big = mpmath.ldexp(1, BIG_BITS)
    if is_interval(ctx):
        return 1 if _mp(x.b) >= big else -1 if _mp(x.a) <= -big else 0
    return 1 if x >= big else -1 if x <= -big else 0


def monotone(
    ctx: Any,
    name: str,
    f: Callable[[Any, Any], Any],
    x: Any,
    increasing: bool = True,
    limits: Limits | None = None,
) -> Any:
    """``f`` (a function of (mpmath context, number)) at x, f monotone on x's range.

    ``limits``: f's limits at -inf and +inf (None: unbounded); given, arguments beyond
    2^BIG_BITS are never evaluated (f takes its limit there, or for a point without a finite
    limit ``MagnitudeError``). Without ``limits`` f is cheap at any magnitude (atan, log1p)."""
    import mpmath

    if is_ball(ctx):
        if limits is not None and _beyond(ctx, x):
            raise NoInterval  # near its limits: left to mpmath.iv (see ``exact/ball.py``)
        return f(ctx, x)
    if not is_interval(ctx):
        side = _beyond(ctx, x) if limits is not None else 0
        if side == 0:
            return f(ctx, x)
        limit = limits[side > 0] if limits is not None else None
        if limit is None:
            raise MagnitudeError(f"{name} of a number beyond 2^{BIG_BITS} in magnitude")
        return ctx.mpf(limit)  # within 2^-(2^40) of it: equal at any precision used
    prec = ctx.prec
    big = mpmath.ldexp(1, BIG_BITS)
    ends = []
    for end, toward in ((_mp(x.a), -1), (_mp(x.b), 1)):
        outward = toward if increasing else -toward  # the direction this end's bound widens
        if limits is not None and abs(end) >= big and (end > 0) == (toward > 0):
            limit = limits[toward > 0]
            ends.append(mpmath.inf * outward if limit is None else mpmath.mpf(limit))
            continue
        if limits is not None:
            end = max(min(end, big), -big)
        with mpmath.workprec(prec + EXTRA_BITS):
            value = f(mpmath.mp, end)
            if mpmath.isfinite(value):
                value += outward * abs(value) * mpmath.ldexp(1, -prec - WIDEN_BITS)
        ends.append(value)
    lo, hi = (ends[0], ends[1]) if increasing else (ends[1], ends[0])
    if limits is not None:  # the widening must not leave the function's range
        low, high = limits if increasing else limits[::-1]
        lo = lo if low is None else max(lo, mpmath.mpf(low))
        hi = hi if high is None else min(hi, mpmath.mpf(high))
    if mpmath.isnan(lo) or mpmath.isnan(hi) or lo > hi:  # an end at a pole, or NaN in x
        raise NoInterval("no enclosure from the ends of this interval")
    return ctx.mpf([lo, hi])


def _special(name: str, increasing: bool = True, limits: Limits | None = None) -> Any:
    """A monotone mpmath function of one argument, by name."""

    def compute(ctx: Any, x: Any) -> Any:
        return monotone(ctx, name, lambda c, v: getattr(c, name)(v), x, increasing, limits)

    return compute


def exp(ctx: Any, x: Any) -> Any:
    if is_interval(ctx) and _beyond(ctx, x) == 0:
        return ctx.exp(x)  # mpmath.iv's own
    return monotone(ctx, "exp", lambda c, v: c.exp(v), x, True, (0, None))


def trig(name: str) -> Callable[..., Any]:
    """sin, cos, tan: mpmath.iv's own; beyond 2^BIG_BITS their argument reduction would need
    that many bits of pi."""

    def compute(ctx: Any, x: Any) -> Any:
        if _beyond(ctx, x):
            raise MagnitudeError(f"{name} of a number beyond 2^{BIG_BITS} in magnitude")
        return getattr(ctx, name)(x)

    return compute


expm1_ = _special("expm1", True, (-1, None))
sinh = _special("sinh", True, (None, None))
erf = _special("erf", True, (-1, 1))
erfc = _special("erfc", False, (2, 0))
atan = _special("atan")
asinh = _special("asinh")
cbrt_ = _special("cbrt")


def log(ctx: Any, x: Any) -> Any:
    domain(x > 0, "log of a non-positive number")
    return ctx.log(x)


def log1p(ctx: Any, x: Any) -> Any:
    domain(x > -1, "log1p of a number <= -1")
    return monotone(ctx, "log1p", lambda c, v: c.log1p(v), x)


def expm1(ctx: Any, x: Any) -> Any:
    return expm1_(ctx, x)


def cosh(ctx: Any, x: Any) -> Any:
    return monotone(ctx, "cosh", lambda c, v: c.cosh(v), abs(x), True, (None, None))


def tanh(ctx: Any, x: Any) -> Any:
    return monotone(ctx, "tanh", lambda c, v: c.tanh(v), x, True, (-1, 1))


def sigmoid(ctx: Any, x: Any) -> Any:
    return 1 / (1 + exp(ctx, -x))


def log1pexp(ctx: Any, x: Any) -> Any:
    """log(1 + exp(x)) without overflow of exp for large x."""
    positive = x > 0
    if positive is None:  # an interval around 0: the second form holds everywhere
        positive = False
    return x + log1p(ctx, exp(ctx, -x)) if positive else log1p(ctx, exp(ctx, x))


def gamma(ctx: Any, x: Any) -> Any:
    """Gamma(x) (signed); beyond 2^BIG_BITS only +inf's limit is known."""
    side = _beyond(ctx, x)
    if side == 0:
        value = ctx.gamma(x)
        if is_interval(ctx) and not value.a <= value.b:  # mpmath.iv.gamma can reverse them
            raise NoInterval("mpmath.iv.gamma gave a reversed interval")
        return value
    if side > 0 and is_interval(ctx) and decide(x > 0):
        return monotone(ctx, "gamma", lambda c, v: c.gamma(v), x, True, (None, None))
    raise MagnitudeError(f"gamma of a number beyond 2^{BIG_BITS} in magnitude")


def lgamma(ctx: Any, x: Any) -> Any:
    """log|Gamma(x)|: loggamma for x > 0 (cheap at any size), else log|gamma(x)|."""
    positive = x > 0
    if positive:
        return ctx.loggamma(x)
    if positive is None:
        raise Ambiguous
    return ctx.log(abs(gamma(ctx, x)))


def psi(ctx: Any, k: Any, x: Any) -> Any:
    """polygamma(k, x): monotone for x > 0 (increasing for even k); digamma between poles."""
    order = integer(ctx, k)
    if order is None or order < 0:
        raise DomainError("polygamma of a non-integer order")
    if not is_interval(ctx):
        return ctx.psi(order, x)
    if decide(x > 0):
        return monotone(ctx, "polygamma", lambda c, v: c.psi(order, v), x, order % 2 == 0)
    import mpmath

    a, b = _mp(x.a), _mp(x.b)
    if order == 0 and mpmath.floor(a) == mpmath.floor(b) and a != mpmath.floor(a):
        return monotone(ctx, "polygamma", lambda c, v: c.psi(0, v), x)  # between two poles
    raise NoInterval


def power(ctx: Any, b: Any, e: Any, k: int | None = None, half: bool = False) -> Any:
    """b**e with gradcheck's domain rules: k, the exponent if it is an integer (b = 0 and
    k < 0 is a division by zero); ``half``: a square root (b >= 0); else b > 0, or b = 0 with
    e > 0."""
    if k is not None:
        if k < 0 and is_zero(b):
            raise DomainError("division by zero")
        return b**k
    if half:
        domain(b >= 0, "square root of a negative number")
        return ctx.sqrt(b)
    if decide(b < 0) or (is_zero(b) and decide(e <= 0)):
        raise DomainError("power of a non-positive base")
    if is_zero(b):
        return ctx.mpf(0)
    return exp(ctx, e * ctx.log(b))


def extreme(ctx: Any, xs: tuple[Any, ...], largest: bool) -> Any:
    """max (or min) of xs; for intervals the hull of the ends, valid where they overlap."""
    pick = max if largest else min
    if is_ball(ctx):
        return ctx.extreme(xs, largest)
    if not is_interval(ctx):
        return pick(xs)
    return ctx.mpf([pick(_mp(x.a) for x in xs), pick(_mp(x.b) for x in xs)])


def sign(ctx: Any, x: Any) -> Any:
    return ctx.mpf(1) if decide(x > 0) else ctx.mpf(-1) if decide(x < 0) else ctx.mpf(0)


def clamp(ctx: Any, x: Any, lo: Any, hi: Any) -> Any:
    return lo if decide(x < lo) else hi if decide(x > hi) else x


def elu(ctx: Any, x: Any, alpha: Any) -> Any:
    return x if decide(x > 0) else alpha * expm1(ctx, x)


def exact(ctx: Any, decimal: str) -> Any:
    """An exact decimal constant as a ctx number."""
    from fractions import Fraction

    q = Fraction(decimal)
    return ctx.mpf(q.numerator) / q.denominator

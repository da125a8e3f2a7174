"""Building blocks of the evaluators: functions of an mpmath context ``ctx``, valid for points
(``mpmath.mp``) and for interval enclosures (``mpmath.iv``) when built only from ctx functions,
arithmetic and ``decide``d comparisons. Nothing here imports mpmath."""

from __future__ import annotations

from typing import Any

from gradcheck_cli.errors import Ambiguous


def decide(result: Any) -> bool:
    """A comparison's truth; interval comparisons that cannot tell give None."""
    if result is None:
        raise Ambiguous
    return bool(result)


def domain(ok: bool | None, message: str) -> None:
    if not decide(ok):
        raise ValueError(message)


def log(ctx: Any, x: Any) -> Any:
    domain(x > 0, "log of a non-positive number")
    return ctx.log(x)


def log1p(ctx: Any, x: Any) -> Any:
    domain(x > -1, "log1p of a number <= -1")
    return ctx.log1p(x) if hasattr(ctx, "log1p") else ctx.log(1 + x)


def expm1(ctx: Any, x: Any) -> Any:
    return ctx.expm1(x) if hasattr(ctx, "expm1") else ctx.exp(x) - 1


def tanh(ctx: Any, x: Any) -> Any:
    return ctx.tanh(x) if hasattr(ctx, "tanh") else 1 - 2 / (ctx.exp(2 * x) + 1)


def sigmoid(ctx: Any, x: Any) -> Any:
    return 1 / (1 + ctx.exp(-x))


def log1pexp(ctx: Any, x: Any) -> Any:
    """log(1 + exp(x)) without overflow of exp for large x."""
    return x + log1p(ctx, ctx.exp(-x)) if decide(x > 0) else log1p(ctx, ctx.exp(x))


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

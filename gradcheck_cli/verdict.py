"""Rounding-error analysis: tell floating-point rounding from a real error, with numbers.

For each gradient: ``abs_error`` and ``rel_error`` against the exact value; ``ulps`` (the error in
units of the last place of the exact value in the dtype); ``bits`` (Herbie's bits of error,
log2(1 + floats between autograd's value and the correctly rounded exact value)); ``bound``, a
first-order rounding-error bound E1 of the computation autograd actually ran (``tracebound``:
the aten graph of forward and backward, every node evaluated exactly, adjoints swept back,
E1 = sum u * c_i * |v_i| * |a_i|), or where tracing is impossible the same first-order sweep
over the SymPy gradient (``method`` says which), plus the effect of constants torch holds
inexactly (``constant_term``); ``kappa`` = bound / (u * |exact|).

Verdict: ``pass`` when ``abs_error <= SAFETY * bound`` (plus the smallest subnormal), or when
autograd returned the correctly rounded exact value (no dtype value is closer);
``fail`` otherwise, confirmed by the precision ladder (float32 runs are recomputed in float64:
rounding shrinks by about 2^-29, a real error does not). Where the bound is only the SymPy
fallback (the graph could not be traced; SymPy may have cancelled terms torch computes, as in
a - a), the ladder decides: an error that shrinks like rounding passes, with a note.
``ill_conditioned`` flags a pass where kappa leaves fewer than half the dtype's bits correct.
A NaN from autograd where the exact value is finite is a fail; a finite exact value beyond the
dtype's range expects an infinity of the right sign.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath

from gradcheck_cli.exact.evaluate import round_to

SAFETY = 4  # first-order bound: covers O(u^2) terms and libm results a little worse than 1 ulp
UNIT_ROUNDOFF = {"float32": 2.0**-24, "float64": 2.0**-53}
PRECISION_BITS = {"float32": 24, "float64": 53}
TINY = {"float32": 2.0**-149, "float64": 2.0**-1074}
MAX_FINITE = {"float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308}


@dataclass(frozen=True)
class Judgement:
    abs_error: float
    rel_error: float | None
    ulps: float | None
    bits: float | None
    bound: float
    kappa: float | None
    tolerance: float
    verdict: str
    ill_conditioned: bool = False
    note: str = ""


def judge(exact: mpmath.mpf, autograd: float | None, bound: float, dtype: str) -> Judgement:
    """Judge one gradient. ``autograd`` None means autograd gave no gradient (taken as 0)."""
    u, tiny = UNIT_ROUNDOFF[dtype], TINY[dtype]
    tolerance = SAFETY * bound + tiny
    kappa = None if exact == 0 else bound / (u * float(abs(exact)))
    note = "autograd gave no gradient (parameter unused): taken as 0" if autograd is None else ""
    got = 0.0 if autograd is None else autograd
    if math.isnan(got):
        return Judgement(
            math.nan,
            None,
            None,
            None,
            bound,
            kappa,
            tolerance,
            "fail",
            note="autograd returned NaN where the exact gradient is finite",
        )
    beyond = abs(exact) > MAX_FINITE[dtype]
    if math.isinf(got) or beyond:
        same = math.isinf(got) and beyond and math.copysign(1, got) == mpmath.sign(exact)
        if same:
            return Judgement(
                0.0,
                0.0,
                0.0,
                0.0,
                bound,
                kappa,
                tolerance,
                "pass",
                note=f"overflow: the exact value is beyond {dtype}'s range",
            )
        what = "returned an infinity" if math.isinf(got) else "is finite"
        return Judgement(
            math.inf,
            math.inf,
            None,
            None,
            bound,
            kappa,
            tolerance,
            "fail",
            note=f"autograd {what}; exact value {mpmath.nstr(exact, 8)}",
        )
    error = abs(mpmath.mpf(got) - exact)
    rounded = round_to(exact, dtype)
    ulps = float(error) / ulp(rounded, dtype)
    bits = math.log2(1 + floats_between(got, rounded, dtype))
    passed = error <= tolerance or got == rounded  # the correctly rounded value is the best
    ill = passed and kappa is not None and kappa > 2.0 ** (PRECISION_BITS[dtype] / 2)
    return Judgement(
        float(error),
        None if exact == 0 else float(error / abs(exact)),
        ulps,
        bits,
        bound,
        kappa,
        tolerance,
        "pass" if passed else "fail",
        ill,
        note,
    )


def ulp(value: float, dtype: str) -> float:
    """The spacing of ``dtype`` floats at ``value`` (the subnormal spacing near zero)."""
    value = abs(value)
    if value == 0 or math.isinf(value):
        return TINY[dtype]
    exponent = math.frexp(value)[1] - 1  # value = m * 2^exponent, 1 <= m < 2
    return max(2.0 ** (exponent - PRECISION_BITS[dtype] + 1), TINY[dtype])


def floats_between(a: float, b: float, dtype: str) -> int:
    """How many ``dtype`` values lie between a and b (0 when equal)."""
    import numpy

    kind, width = (
        (numpy.float32, numpy.int32) if dtype == "float32" else (numpy.float64, numpy.int64)
    )

    def ordinal(x: float) -> int:
        i = int(numpy.array(x, dtype=kind).view(width))
        return i if i >= 0 else -(i & (2 ** (8 * numpy.dtype(width).itemsize - 1) - 1))

    return abs(ordinal(a) - ordinal(b))


def shrinks(exact: mpmath.mpf, got: float, got64: float | None, dtype: str) -> bool:
    """True when the float64 recomputation removes the error as rounding would (2^-20 or more)."""
    if dtype != "float32" or got64 is None or math.isnan(got64):
        return False
    err32, err64 = abs(mpmath.mpf(got) - exact), abs(mpmath.mpf(got64) - exact)
    return err32 > 0 and err64 <= err32 * 2.0**-20


def confirm(exact: mpmath.mpf, got: float, got64: float | None, dtype: str) -> str:
    """The precision ladder's word on a failure: rounding shrinks in float64, an error does not."""
    if dtype != "float32" or got64 is None:
        return "no higher precision to confirm with (float64 is the top of the ladder)"
    err32, err64 = abs(mpmath.mpf(got) - exact), abs(mpmath.mpf(got64) - exact)
    if err32 == 0 or math.isnan(got64):
        return ""
    if err64 <= err32 * 2.0**-20:
        shrink = "exactly" if err64 == 0 else f"by 2^{math.log2(float(err64 / err32)):.0f}"
        return f"float64 error shrinks {shrink}: rounding beyond the bound, not an error"
    return (
        f"confirmed by float64: its error {float(err64):.3g} does not shrink "
        f"(float32 {float(err32):.3g}): a real error"
    )

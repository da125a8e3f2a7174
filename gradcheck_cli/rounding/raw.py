"""The exact numbers of the rounding tape: ``M``, a private mpmath context at 200 bits, and its
arithmetic on raw values (``libmp`` tuples ``(sign, man, exp, bc)``) rounded as ``M``'s numbers
round (its precision, to nearest), without a number object per operation: what the tape
(``rounding.tape``) and the adjoint sweeps (``rounding.sweep``, ``rounding.sweep1``) compute."""

from __future__ import annotations

from typing import Any

import mpmath
from mpmath.libmp import (
    finf,
    fnan,
    fninf,
    fnone,
    fone,
    fzero,
    mpf_abs,
    mpf_add,
    mpf_gt,
    mpf_mul,
    mpf_neg,
    mpf_sum,
    to_float,
)

M = mpmath.MPContext()
M.prec = 200
PREC, RND = M.prec, "n"  # what M's arithmetic rounds to (round to nearest: its default)
NOT_FINITE = (finf, fninf, fnan)
# tape.partials of the steps whose partial derivatives are constants, as raw values (mul: its
# arguments, swapped, filled in by the sweep)
SIMPLE = {"add": (fone, fone), "sub": (fone, fnone), "neg": (fnone,), "id": (fone,), "mul": ()}


def raw_mul(a: tuple, b: tuple, prec: int = PREC, rnd: str = RND) -> tuple:
    """``mpf_mul(a, b, prec, rnd)``; by a power of two (mantissa 1) a nonzero finite factor of
    at most ``prec`` bits is what mpf_mul returns unrounded: only its exponent moves."""
    if a[1] == 1 and b[1] and b[3] <= prec:
        return (a[0] ^ b[0], b[1], a[2] + b[2], b[3])
    if b[1] == 1 and a[1] and a[3] <= prec:
        return (a[0] ^ b[0], a[1], a[2] + b[2], a[3])
    return mpf_mul(a, b, prec, rnd)


def raw(d: Any) -> tuple:
    """A partial derivative (an ``M`` number, or a Python int or float) as a raw value."""
    return d._mpf_ if hasattr(d, "_mpf_") else M.convert(d)._mpf_


def special(x: tuple) -> bool:
    """Infinite or NaN (a raw value whose mantissa is 0 but which is not 0)."""
    return not x[1] and x != fzero


def beyond(r: tuple, fmax: tuple) -> bool:
    """``|r| > fmax`` as M compares (False for NaN); a nonzero finite r whose top bit is
    below fmax's (exponent + bit count) is smaller without a comparison."""
    if r[1] and r[2] + r[3] < fmax[2] + fmax[3]:
        return False
    return mpf_gt(mpf_abs(r, PREC, RND), fmax)


def times(a: tuple, d: tuple) -> tuple:
    """``a * d`` rounded as M rounds it; by 1 or -1 exact (a value of M's precision)."""
    if d == fone:
        return a
    if d == fnone:
        return mpf_neg(a)
    return raw_mul(a, d, PREC, RND)


def plus(s: tuple, v: tuple) -> tuple:
    """``s + v`` rounded as M rounds it; 0 + v is v (a value of M's precision)."""
    return v if s == fzero else mpf_add(s, v, PREC, RND)


def local_term(a: tuple, err: tuple) -> tuple:
    """``|a| * err`` rounded as M rounds it."""
    return raw_mul(mpf_abs(a, PREC, RND), err, PREC, RND)


def total(terms: list) -> tuple:
    """``M.fsum`` of raw values: their sum rounded once."""
    return mpf_sum(terms, PREC, RND)


def numbers(owners: dict[tuple[str, str], tuple]) -> tuple[Any, dict]:
    """A seed's E1 (the sum of its parts, an ``M`` number) and its parts as floats (what
    ``float`` of the ``M`` number gives: rounded to nearest)."""
    return M.make_mpf(total(list(owners.values()))), {
        k: to_float(v, rnd=RND) for k, v in owners.items()
    }

"""lgamma and digamma as ATen's CPU kernels compute them, as rounding steps with their errors.

``aten.lgamma``: ``std::lgamma`` per element, glibc's ``lgamma``/``lgammaf``. glibc's
libm-test-ulps list it at 3 to 7 ulps across architectures; 8 ulps are assumed, ``c = 16``
(1 ulp <= 2u|v|), for x > 0. For x < 0 the error of glibc's double lgamma near its zeros was
measured here beyond 8 ulps (1.7 times the bound at some of 3000 points in (-20, 0)): not
modelled, the SymPy bound is used. At a pole the exact value does not exist (out of domain).

``aten.digamma`` (lgamma's backward): ATen's own ``calc_digamma`` (Cephes), in the dtype's
arithmetic: for x < 10 the recurrence ``result -= 1/x; x += 1``, at x == 10 ``PSI_10``,
beyond it ``result + log(x) - 0.5/x - z*polevl(z, A, 6)`` with ``z = 1/(x*x)`` (the truncated
asymptotic series). Its local error at an exact argument x is bounded here element by element:
the algorithm is run on (value, first-order error) pairs, each step adding the rounding of its
result (libm ``log`` 2u|v|) and each constant its own rounding to the dtype, and the distance of
the algorithm's exact value (the series truncated, the decimal constants) from psi(x) is added,
computed exactly. Negative arguments take a reflection through ``tan``, computed in double for
float32: not modelled, the graph falls back to the SymPy bound there (``UnsupportedOp``).
In float64 torch's digamma is this algorithm bit for bit (tests/test_aten_gamma.py); in
float32 its results are closer to psi than a float32 run of these steps, and the bound was
measured to cover them (worst 0.46 of the bound over 5,400 arguments), not derived from
their code.
"""

from __future__ import annotations

from typing import Any

from gradcheck_cli.rounding.tape import M, OutOfDomain, Tape, UnsupportedOp

LGAMMA_COST = 16  # 8 ulps
PSI_10 = "2.25175258906672110764"
ASYMPTOTIC = (
    "8.33333333333333333333E-2",
    "-2.10927960927960927961E-2",
    "7.57575757575757575758E-3",
    "-4.16666666666666666667E-3",
    "3.96825396825396825397E-3",
    "-8.33333333333333333333E-3",
    "8.33333333333333333333E-2",
)


class _Tracked:
    """A quantity of the algorithm: its exact value and a first-order bound on the error of
    the floating-point value the kernel holds for it."""

    def __init__(self, value: Any, error: Any, tape: Tape):
        self.v, self.e, self.tp = value, error, tape

    def _round(self, value: Any, error: Any, cost: int = 1) -> _Tracked:
        return _Tracked(value, error + cost * (self.tp.u * abs(value) + self.tp.eta), self.tp)

    def __add__(self, o: _Tracked) -> _Tracked:
        return self._round(self.v + o.v, self.e + o.e)

    def __sub__(self, o: _Tracked) -> _Tracked:
        return self._round(self.v - o.v, self.e + o.e)

    def __mul__(self, o: _Tracked) -> _Tracked:
        return self._round(self.v * o.v, abs(o.v) * self.e + abs(self.v) * o.e)

    def __truediv__(self, o: _Tracked) -> _Tracked:
        value = self.v / o.v
        return self._round(value, self.e / abs(o.v) + abs(value / o.v) * o.e)

    def log(self) -> _Tracked:
        return self._round(M.log(self.v), self.e / abs(self.v), cost=2)


def _constant(tape: Tape, text: str) -> _Tracked:
    """A decimal constant of the kernel: its exact value, and the compiler's correct rounding
    of the literal to the dtype as its error (at most u times its size)."""
    exact = M.mpf(text)
    return _Tracked(exact, tape.u * abs(exact), tape)


def digamma_error(tape: Tape, x: Any) -> Any:
    """A bound on |calc_digamma(x) - psi(x)| in the tape's dtype, for an exact x > 0."""
    if x <= 0:
        raise UnsupportedOp("digamma of a non-positive argument (a reflection through tan)")
    one = _Tracked(M.one, M.zero, tape)
    arg = _Tracked(x, M.zero, tape)
    result = _Tracked(M.zero, M.zero, tape)
    while arg.v < 10:
        result = result - one / arg
        arg = arg + one
    if arg.v == 10:
        value = result + _constant(tape, PSI_10)
    else:
        z = one / (arg * arg)
        poly = _Tracked(M.zero, M.zero, tape)
        for a in ASYMPTOTIC:  # polevl: result = result * x + A[i]
            poly = poly * z + _constant(tape, a)
        half = _Tracked(M.mpf(0.5), M.zero, tape)
        value = result + arg.log() - half / arg - z * poly
    return value.e + abs(value.v - M.digamma(x))


def lgamma_error(tape: Tape, x: Any, v: Any) -> Any:
    """A bound on |lgamma(x) - log|Gamma(x)|| for x > 0 (glibc's documented ulps)."""
    if x <= 0:  # measured here: glibc's double lgamma is off by more than 8 ulps near its
        # negative zeros, beyond what its tables list
        raise UnsupportedOp("lgamma of a non-positive argument (glibc's error not documented)")
    return LGAMMA_COST * (tape.u * abs(v) + tape.eta)


def _gamma_op(kind: str, error: Any) -> Any:
    def handler(tp: Tape, node: Any, x: Any, *a: Any, **k: Any) -> int:
        out = tp.op(kind, (tp.ref(x),), 0, 0)
        prim = tp.prims[out]
        xs = tp.prims[tp.ref(x)].val
        for j, v in enumerate(prim.val):
            arg = xs[0] if len(xs) == 1 else xs[j]
            if M.isnan(v):
                raise OutOfDomain(f"{kind} at a pole ({M.nstr(arg, 8)})")
            prim.err[j] = error(tp, arg) if kind == "digamma" else error(tp, arg, v)
        prim.exact = False
        return out

    return handler


GAMMA_HANDLERS = {
    "aten.lgamma.default": _gamma_op("lgamma", lgamma_error),
    "aten.digamma.default": _gamma_op("digamma", digamma_error),
}

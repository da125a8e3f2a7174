"""Exact evaluation of SymPy expressions in mpmath: points (mp) and interval enclosures (iv).

One walker over the SymPy tree, parameterised by an mpmath context, so that every analysis
evaluates the same way. ``exact`` raises precision until two evaluations agree; ``exact_reduced``
encloses a value reduced over samples tightly enough to round to one value of the dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from gradcheck_cli.errors import Ambiguous, EvaluationError


def evaluate(expr: sympy.Expr, values: Mapping[str, Any], ctx: Any = mpmath.mp) -> Any:
    """Evaluate ``expr`` with mpmath; ``values`` maps symbol names to ctx numbers.

    Raises EvaluationError naming the sub-expression that is undefined (log of a negative
    number, division by zero, ...).
    """
    return _Evaluator(values, ctx).run(expr)


def condition(cond: sympy.Basic, values: Mapping[str, Any]) -> bool:
    """The truth of a Piecewise condition at ``values`` (mpmath numbers)."""
    return _Evaluator(values, mpmath.mp).condition(cond)


class _Evaluator:
    def __init__(self, values: Mapping[str, Any], ctx: Any):
        self.values, self.ctx, self.cache = values, ctx, {}

    def run(self, node: sympy.Expr) -> Any:
        if node in self.cache:
            return self.cache[node]
        try:
            value = self.compute(node)
        except (ZeroDivisionError, ValueError) as exc:
            if self.ctx is not mpmath.mp:
                raise Ambiguous from None
            raise EvaluationError(f"'{node}' is undefined at this point ({exc})") from None
        if _is_nan(value, self.ctx):
            raise EvaluationError(f"'{node}' is undefined at this point")
        self.cache[node] = value
        return value

    def compute(self, node: sympy.Expr) -> Any:
        ctx = self.ctx
        if node.is_Symbol:
            return self.values[node.name]
        if node.is_Integer:
            return ctx.mpf(int(node))
        if node.is_Rational:
            return ctx.mpf(int(node.p)) / int(node.q)
        if node is sympy.pi:
            return ctx.pi
        if node is sympy.E:
            return ctx.e
        if node is sympy.EulerGamma:  # digamma at rationals: polygamma(0, 1/2) folds to it
            return ctx.euler
        if node.is_Add:
            return ctx.fsum(self.run(arg) for arg in node.args)
        if node.is_Mul:
            result = self.run(node.args[0])
            for arg in node.args[1:]:
                result = result * self.run(arg)
            return result
        if node.is_Pow:
            return self.power(node)
        if isinstance(node, sympy.Piecewise):
            return self.piecewise(node)
        name = type(node).__name__
        if ctx is not mpmath.mp and name not in INTERVAL_SAFE:
            raise Ambiguous  # no interval version: the caller falls back to points
        if name in MP_FUNCTIONS:
            return MP_FUNCTIONS[name](ctx, *[self.run(arg) for arg in node.args])
        raise EvaluationError(f"cannot evaluate '{name}' exactly")

    def power(self, node: sympy.Pow) -> Any:
        base, exponent = node.args
        b = self.run(base)
        if exponent.is_Integer:
            n = int(exponent)
            if n < 0 and decide(b == 0):
                raise ZeroDivisionError("division by zero")
            return b**n
        if exponent == sympy.Rational(1, 2):
            if decide(b < 0):
                raise ValueError("square root of a negative number")
            return self.ctx.sqrt(b)
        e = self.run(exponent)
        if decide(b < 0) or (decide(b == 0) and decide(e <= 0)):
            raise ValueError("power of a non-positive base")
        if decide(b == 0):
            return self.ctx.mpf(0)
        return self.ctx.exp(e * self.ctx.log(b))

    def piecewise(self, node: sympy.Piecewise) -> Any:
        for expr, cond in node.args:
            if cond is sympy.true or self.condition(cond):
                return self.run(expr)
        raise ValueError("no branch of a piecewise function applies")

    def condition(self, cond: sympy.Basic) -> bool:
        if isinstance(cond, sympy.Or | sympy.And):  # SymPy merges branches of equal value
            parts = (self.condition(arg) for arg in cond.args)
            return any(parts) if isinstance(cond, sympy.Or) else all(parts)
        left, right = self.run(cond.lhs), self.run(cond.rhs)
        ops = {
            sympy.StrictGreaterThan: lambda a, b: a > b,
            sympy.GreaterThan: lambda a, b: a >= b,
            sympy.StrictLessThan: lambda a, b: a < b,
            sympy.LessThan: lambda a, b: a <= b,
        }
        return decide(ops[type(cond)](left, right))


def decide(result: Any) -> bool:
    """A comparison's truth; interval comparisons that cannot tell give None."""
    if result is None:
        raise Ambiguous
    return bool(result)


def _is_nan(value: Any, ctx: Any) -> bool:
    try:
        return bool(ctx.isnan(value))
    except (AttributeError, TypeError):
        return False


def _domain(ok: bool | None, message: str) -> None:
    if not decide(ok):
        raise ValueError(message)


def _log(ctx: Any, x: Any) -> Any:
    _domain(x > 0, "log of a non-positive number")
    return ctx.log(x)


def _log1p(ctx: Any, x: Any) -> Any:
    _domain(x > -1, "log1p of a number <= -1")
    return ctx.log1p(x) if hasattr(ctx, "log1p") else ctx.log(1 + x)


def _expm1(ctx: Any, x: Any) -> Any:
    return ctx.expm1(x) if hasattr(ctx, "expm1") else ctx.exp(x) - 1


def _heaviside(ctx: Any, x: Any, h0: Any = None) -> Any:
    if decide(x > 0):
        return ctx.mpf(1)
    if decide(x < 0):
        return ctx.mpf(0)
    return ctx.mpf(1) / 2 if h0 is None else h0


def _sign(ctx: Any, x: Any) -> Any:
    return ctx.mpf(1) if decide(x > 0) else ctx.mpf(-1) if decide(x < 0) else ctx.mpf(0)


def _sigmoid(ctx: Any, x: Any) -> Any:
    return 1 / (1 + ctx.exp(-x))


def _log1pexp(ctx: Any, x: Any) -> Any:
    """log(1 + exp(x)) without overflow of exp for large x."""
    return x + _log1p(ctx, ctx.exp(-x)) if decide(x > 0) else _log1p(ctx, ctx.exp(x))


def _softplus(ctx: Any, x: Any, beta: Any = 1, threshold: Any = None) -> Any:
    from gradcheck_cli.exact.functions import SOFTPLUS_THRESHOLD

    threshold = SOFTPLUS_THRESHOLD if threshold is None else threshold
    return x if decide(beta * x > threshold) else _log1pexp(ctx, beta * x) / beta


def _tanh(ctx: Any, x: Any) -> Any:
    return ctx.tanh(x) if hasattr(ctx, "tanh") else 1 - 2 / (ctx.exp(2 * x) + 1)


def _elu(ctx: Any, x: Any, alpha: Any = 1) -> Any:
    return x if decide(x > 0) else alpha * _expm1(ctx, x)


def _selu(ctx: Any, x: Any) -> Any:
    from gradcheck_cli.exact.functions import SELU_ALPHA, SELU_SCALE

    scale, alpha = (ctx.mpf(int(c.p)) / int(c.q) for c in (SELU_SCALE, SELU_ALPHA))
    return scale * _elu(ctx, x, alpha)


def _gelu(ctx: Any, x: Any) -> Any:
    return x * (1 + ctx.erf(x / ctx.sqrt(2))) / 2


def _clamp(ctx: Any, x: Any, lo: Any = -1, hi: Any = 1) -> Any:
    return lo if decide(x < lo) else hi if decide(x > hi) else x


def _asin_domain(name: str, function: str) -> Callable[..., Any]:
    def compute(ctx: Any, x: Any) -> Any:
        _domain(-1 <= x <= 1, f"{name} of a number outside [-1, 1]")
        return getattr(ctx, function)(x)

    return compute


def _acosh(ctx: Any, x: Any) -> Any:
    _domain(x >= 1, "acosh of a number below 1")
    return ctx.acosh(x)


def _atanh(ctx: Any, x: Any) -> Any:
    _domain(-1 < x < 1, "atanh of a number outside (-1, 1)")
    return ctx.atanh(x)


def _atan2(ctx: Any, y: Any, x: Any) -> Any:
    _domain(x != 0 or y != 0, "atan2(0, 0)")
    return ctx.atan2(y, x)


def _cbrt(ctx: Any, x: Any) -> Any:
    _domain(x >= 0, "cbrt of a negative number (torch.pow(x, 1/3) is NaN there)")
    return ctx.cbrt(x) if decide(x > 0) else ctx.mpf(0)


def _lgamma(ctx: Any, x: Any) -> Any:
    return ctx.log(abs(ctx.gamma(x)))


def _bce(ctx: Any, z: Any, y: Any) -> Any:
    _domain(0 <= z <= 1, "binary cross-entropy of a z outside [0, 1]")
    log_z = ctx.log(z) if z > 0 else ctx.mpf(-100)
    log_1mz = ctx.log(1 - z) if z < 1 else ctx.mpf(-100)
    return -(y * max(log_z, -100) + (1 - y) * max(log_1mz, -100))


def _mish(ctx: Any, x: Any) -> Any:
    return x * _tanh(ctx, _log1pexp(ctx, x))


# Functions whose implementation below is a valid interval extension under mpmath.iv (built
# only from iv's own functions, arithmetic and ``decide``d comparisons).
# (mpmath.iv.erf exists but fails to converge: erf and gelu use points.)
INTERVAL_SAFE = frozenset(
    {
        "exp",
        "log",
        "log1p",
        "expm1",
        "sin",
        "cos",
        "tan",
        "tanh",
        "Abs",
        "sign",
        "Heaviside",
        "relu",
        "sigmoid",
        "softplus",
        "logsigmoid",
        "silu",
        "mish",
        "hypot",
        "elu",
        "selu",
    }
)

MP_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "exp": lambda ctx, x: ctx.exp(x),
    "log": _log,
    "log1p": _log1p,
    "expm1": _expm1,
    "cbrt": _cbrt,
    "sin": lambda ctx, x: ctx.sin(x),
    "cos": lambda ctx, x: ctx.cos(x),
    "tan": lambda ctx, x: ctx.tan(x),
    "asin": _asin_domain("asin", "asin"),
    "acos": _asin_domain("acos", "acos"),
    "atan": lambda ctx, x: ctx.atan(x),
    "atan2": _atan2,
    "sinh": lambda ctx, x: ctx.sinh(x),
    "cosh": lambda ctx, x: ctx.cosh(x),
    "tanh": _tanh,
    "asinh": lambda ctx, x: ctx.asinh(x),
    "acosh": _acosh,
    "atanh": _atanh,
    "erf": lambda ctx, x: ctx.erf(x),
    "erfc": lambda ctx, x: ctx.erfc(x),
    "lgamma": _lgamma,
    "polygamma": lambda ctx, n, x: ctx.psi(int(n), x),
    "Abs": lambda ctx, x: abs(x),
    # SymPy differentiates Abs of what it cannot prove real (acos(...)) through re/im; every
    # value here is real (the evaluator refuses anything outside a real domain)
    "re": lambda ctx, x: x,
    "im": lambda ctx, x: ctx.mpf(0),
    "sign": _sign,
    "Heaviside": _heaviside,
    "DiracDelta": lambda ctx, x, k=None: ctx.mpf(0),  # derivative of sign: torch's sign' = 0
    "Max": lambda ctx, *xs: max(xs),
    "Min": lambda ctx, *xs: min(xs),
    "hypot": lambda ctx, x, y: ctx.sqrt(x * x + y * y),
    "relu": lambda ctx, x: x if decide(x > 0) else ctx.mpf(0),
    "leaky_relu": lambda ctx, x, slope=None: (
        x if decide(x > 0) else (ctx.mpf(1) / 100 if slope is None else slope) * x
    ),
    "elu": _elu,
    "selu": _selu,
    "gelu": _gelu,
    "silu": lambda ctx, x: x * _sigmoid(ctx, x),
    "mish": _mish,
    "sigmoid": _sigmoid,
    "logsigmoid": lambda ctx, x: -_log1pexp(ctx, -x),
    "softplus": _softplus,
    "hardtanh": _clamp,
    "clamp": _clamp,
    "bce": _bce,
}


MAX_PRECISION = 4096
FLOAT32_MAX = 3.4028234663852886e38
WIDTH_BITS = 80  # an enclosure this narrow measures errors far below float64's ulp


@dataclass(frozen=True)
class Exact:
    """An exact value: ``value`` to far more than float64 precision.

    ``certified``: an mpmath.iv enclosure at ``prec`` bits rounds to one value of the working
    dtype, so ``value`` rounds correctly; otherwise (an interval straddled a branch point, or
    the precision cap was hit: ``capped``) it is a point evaluation stable at ``prec`` bits.
    """

    value: mpmath.mpf
    certified: bool
    prec: int
    capped: bool = False


def exact_reduced(
    expr: sympy.Expr, points: list[Mapping[str, float]], reduction: str, dtype: str
) -> Exact:
    """``expr`` summed (or averaged) over the sample points, enclosed tightly enough to round
    to one ``dtype`` value and to be 2^-WIDTH_BITS narrow, raising the precision up to
    MAX_PRECISION."""
    prec = 128
    while prec <= MAX_PRECISION:
        try:
            with iv_precision(prec), mpmath.workprec(prec):
                total = _reduce(
                    [
                        evaluate(expr, {k: mpmath.iv.mpf(v) for k, v in p.items()}, mpmath.iv)
                        for p in points
                    ],
                    reduction,
                )
                lo, hi = mpmath.mpf(total.a), mpmath.mpf(total.b)  # exact at this precision
        except (Ambiguous, EvaluationError, mpmath.libmp.NoConvergence):
            break  # no usable interval extension here: fall back to points
        if not (mpmath.isfinite(lo) and mpmath.isfinite(hi)):
            break
        narrow = hi - lo <= max(abs(lo), abs(hi)) * mpmath.ldexp(1, -WIDTH_BITS)
        if narrow and round_to(lo, dtype) == round_to(hi, dtype):
            with mpmath.workprec(prec):
                return Exact((lo + hi) / 2, True, prec)
        prec *= 2
    value = _reduce([exact(expr, p) for p in points], reduction)
    return Exact(
        value, False, MAX_PRECISION if prec > MAX_PRECISION else 128, capped=prec > MAX_PRECISION
    )


def _reduce(values: list[Any], reduction: str) -> Any:
    total = sum(values[1:], values[0])
    return total / len(values) if reduction == "mean" else total


@contextmanager
def iv_precision(prec: int) -> Iterator[None]:
    saved = mpmath.iv.prec
    mpmath.iv.prec = prec
    try:
        yield
    finally:
        mpmath.iv.prec = saved


def round_to(value: mpmath.mpf, dtype: str) -> float:
    """Round an exact value to the nearest value of ``dtype`` (returned as a Python float)."""
    if dtype == "float64":
        return float(value)
    with mpmath.workprec(24):
        rounded = float(+value)  # nearest with 24 significant bits: a float32 value if in range
    if abs(rounded) > FLOAT32_MAX:
        return math.copysign(math.inf, rounded)
    return rounded  # below float32's normal range this ignores subnormal spacing


def exact(expr: sympy.Expr, values: Mapping[str, float], start: int = 128) -> mpmath.mpf:
    """``expr`` at the exact binary ``values``, raising precision until it is stable.

    Two successive evaluations (precision p and 2p bits) must agree to 2^-(p/2) relative; the
    result is far more accurate than float64, so that comparisons measure autograd alone.
    """
    prec, previous = start, None
    while prec <= MAX_PRECISION:
        with mpmath.workprec(prec):
            value = evaluate(expr, {k: mpmath.mpf(v) for k, v in values.items()})
        if previous is not None and _agree(previous, value, prec // 2):
            return value
        previous, prec = value, prec * 2
    return previous


def _agree(a: mpmath.mpf, b: mpmath.mpf, bits: int) -> bool:
    if a == b:
        return True
    scale = max(abs(a), abs(b))
    return abs(a - b) <= scale * mpmath.ldexp(1, -bits)

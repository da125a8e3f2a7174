"""Catalog entries: torch's activations, with torch's conventions at their switch points.

Where torch departs from the mathematics on purpose, the departure is modelled so that it is
never reported as a failure: softplus is x itself where beta*x > threshold (value and
derivative); at a switch point the derivative is the branch torch's backward takes: relu'(0) = 0,
leaky_relu'(0) = slope, elu'(0) = alpha, hardtanh' = 0 at both ends, clamp' = 1 at both ends.
"""

from __future__ import annotations

from typing import Any

from gradcheck_cli.expr.catalog import numeric as n
from gradcheck_cli.expr.catalog.spec import EXACT, FunctionSpec, lowering

SOFTPLUS_THRESHOLD = 20
SELU_ALPHA = "1.6732632423543772848170429916717"
SELU_SCALE = "1.0507009873554804934193349852946"
_F = "nn.functional."


def _selu(ctx: Any, x: Any) -> Any:
    return n.exact(ctx, SELU_SCALE) * n.elu(ctx, x, n.exact(ctx, SELU_ALPHA))


def _selu_derivative(s: Any, x: Any) -> Any:
    scale, alpha = s.Rational(SELU_SCALE), s.Rational(SELU_ALPHA)
    return s.Piecewise((scale, x > 0), (scale * alpha * s.exp(x), True))


def _gelu_derivative(s: Any, x: Any) -> Any:
    phi = x * s.exp(-(x**2) / 2) / s.sqrt(2 * s.pi)
    return (1 + s.erf(x / s.sqrt(2))) / 2 + phi


def _mish_derivative(s: Any, x: Any) -> Any:
    t = s.tanh(s.log1p(s.exp(x)))
    return t + x * s.sigmoid(x) * (1 - t**2)


def _softplus(ctx: Any, x: Any, beta: Any, threshold: Any) -> Any:
    return x if n.decide(beta * x > threshold) else n.log1pexp(ctx, beta * x) / beta


def _zero(s: Any, *args: Any) -> Any:
    return s.S.Zero  # a constant argument: only its rounding would flow through here


def _flat(inclusive: bool) -> tuple[Any, ...]:
    """Derivatives of x clamped to [lo, hi]; ``inclusive``: the slope is 1 at lo and hi."""

    def below(x: Any, lo: Any) -> Any:
        return x < lo if inclusive else x <= lo

    def above(x: Any, hi: Any) -> Any:
        return x > hi if inclusive else x >= hi

    return (
        lambda s, x, lo, hi: s.Piecewise((0, below(x, lo)), (0, above(x, hi)), (1, True)),
        lambda s, x, lo, hi: s.Piecewise((1, below(x, lo)), (0, True)),
        lambda s, x, lo, hi: s.Piecewise((1, above(x, hi)), (0, True)),
    )


def _clamped(s: Any, x: Any, lo: Any, hi: Any) -> Any:
    return s.Min(s.Max(x, lo), hi)


ENTRIES = [
    FunctionSpec(
        "relu",
        "max(x, 0); torch's relu'(0) = 0",
        lambda ctx, x: x if n.decide(x > 0) else ctx.mpf(0),
        sympy="relu",
        derivatives=(lambda s, x: s.Heaviside(x, 0),),
        definition=lambda s, x: s.Max(x, 0),
        interval=True,
        switches=lambda x: [x],
        convention="relu'(0) = 0",
        cost=EXACT,
        aten=("relu.default", "threshold_backward.default"),
        **lowering("relu"),
    ),
    FunctionSpec(
        "leaky_relu",
        "x if x > 0 else slope*x (slope 0.01); torch's derivative at 0 is slope",
        lambda ctx, x, a: x if n.decide(x > 0) else a * x,
        sympy="leaky_relu",
        derivatives=(
            lambda s, x, a: s.Piecewise((1, x > 0), (a, True)),
            lambda s, x, a: s.Piecewise((0, x > 0), (x, True)),
        ),
        definition=lambda s, x, a: s.Piecewise((x, x > 0), (a * x, True)),
        arity=(1, 2),
        constants=("negative_slope",),
        defaults=(0.01,),
        interval=True,
        switches=lambda x, a: [x],
        convention="leaky_relu'(0) = negative_slope",
        aten=("leaky_relu.default", "leaky_relu_backward.default"),
        **lowering(_F + "leaky_relu"),
    ),
    FunctionSpec(
        "elu",
        "x if x > 0 else alpha*(exp(x) - 1) (alpha 1); derivative at 0 is alpha",
        n.elu,
        sympy="elu",
        derivatives=(
            lambda s, x, a: s.Piecewise((1, x > 0), (a * s.exp(x), True)),
            lambda s, x, a: s.Piecewise((0, x > 0), (s.exp(x) - 1, True)),
        ),
        definition=lambda s, x, a: s.Piecewise((x, x > 0), (a * (s.exp(x) - 1), True)),
        arity=(1, 2),
        constants=("alpha",),
        defaults=(1,),
        interval=True,
        switches=lambda x, a: [x],
        convention="elu'(0) = alpha",
        aten=("elu.default", "elu_backward.default"),
        **lowering(_F + "elu"),
    ),
    FunctionSpec(
        "selu",
        "scale * elu(x, alpha), torch's constants",
        _selu,
        sympy="selu",
        derivatives=(_selu_derivative,),
        definition=lambda s, x: s.Rational(SELU_SCALE) * s.elu(x, s.Rational(SELU_ALPHA)),
        interval=True,
        switches=lambda x: [x],
        convention="selu'(0) = scale*alpha",
        aten=("elu.default", "elu_backward.default"),
        **lowering(_F + "selu"),
    ),
    FunctionSpec(
        "gelu",
        "x/2 * (1 + erf(x/sqrt(2))) (exact form)",
        lambda ctx, x: x * (1 + n.erf(ctx, x / ctx.sqrt(2))) / 2,
        sympy="gelu",
        derivatives=(_gelu_derivative,),
        definition=lambda s, x: x * (1 + s.erf(x / s.sqrt(2))) / 2,
        interval=True,
        aten=("gelu.default", "gelu_backward.default"),
        **lowering(_F + "gelu"),
    ),
    FunctionSpec(
        "silu",
        "x * sigmoid(x)",
        lambda ctx, x: x * n.sigmoid(ctx, x),
        sympy="silu",
        derivatives=(lambda s, x: s.sigmoid(x) * (1 + x * (1 - s.sigmoid(x))),),
        definition=lambda s, x: x / (1 + s.exp(-x)),
        interval=True,
        aten=("silu.default", "silu_backward.default"),
        **lowering(_F + "silu"),
    ),
    FunctionSpec(
        "mish",
        "x * tanh(log(1 + exp(x)))",  # no threshold, as torch's mish kernel
        lambda ctx, x: x * n.tanh(ctx, n.log1pexp(ctx, x)),
        sympy="mish",
        derivatives=(_mish_derivative,),
        definition=lambda s, x: x * s.tanh(s.log(1 + s.exp(x))),
        interval=True,
        aten=("mish.default", "mish_backward.default"),
        **lowering(_F + "mish"),
    ),
    FunctionSpec(
        "sigmoid",
        "1/(1+exp(-x))",
        n.sigmoid,
        sympy="sigmoid",
        derivatives=(lambda s, x: s.sigmoid(x) * (1 - s.sigmoid(x)),),
        definition=lambda s, x: 1 / (1 + s.exp(-x)),
        interval=True,
        aten=("sigmoid.default", "sigmoid_backward.default"),
        **lowering("sigmoid"),
    ),
    FunctionSpec(
        "logsigmoid",
        "-log(1 + exp(-x))",
        lambda ctx, x: -n.log1pexp(ctx, -x),
        sympy="logsigmoid",
        derivatives=(lambda s, x: s.sigmoid(-x),),
        definition=lambda s, x: -s.log(1 + s.exp(-x)),
        interval=True,
        aten=("log_sigmoid_forward.default", "log_sigmoid_backward.default"),
        **lowering(_F + "logsigmoid"),
    ),
    FunctionSpec(
        "softplus",
        "log(1+exp(beta*x))/beta; x itself where beta*x > threshold (beta 1, threshold 20)",
        _softplus,
        sympy="softplus",
        derivatives=(
            lambda s, x, b, t: s.Piecewise((1, b * x > t), (s.sigmoid(b * x), True)),
            _zero,
            _zero,
        ),
        definition=lambda s, x, b, t: s.Piecewise(
            (x, b * x > t), (s.log(1 + s.exp(b * x)) / b, True)
        ),
        arity=(1, 3),
        constants=("beta", "threshold"),
        defaults=(1, SOFTPLUS_THRESHOLD),
        interval=True,
        switches=lambda x, b, t: [b * x - t],
        convention="softplus is x itself above the threshold",
        aten=("softplus.default", "softplus_backward.default"),
        **lowering(_F + "softplus"),
    ),
    FunctionSpec(
        "hardtanh",
        "x clamped to [min_val, max_val] (-1, 1); torch's derivative is 0 at both ends",
        n.clamp,
        sympy="hardtanh",
        derivatives=_flat(inclusive=False),
        definition=_clamped,
        arity=(1, 3),
        constants=("min_val", "max_val"),
        defaults=(-1, 1),
        constraints=lambda lo, hi: (
            (3, f"min_val {lo:g} is greater than max_val {hi:g} (torch refuses it)")
            if lo > hi
            else None
        ),
        interval=True,
        switches=lambda x, lo, hi: [x - lo, x - hi],
        convention="hardtanh' = 0 at both ends",
        aten=("hardtanh.default", "hardtanh_backward.default"),
        **lowering(_F + "hardtanh"),
    ),
    FunctionSpec(
        "clamp",
        "x clamped to [min, max]; torch's derivative is 1 at both ends",
        n.clamp,
        sympy="clamp",
        derivatives=_flat(inclusive=True),
        definition=_clamped,
        arity=(3, 3),
        constants=("min", "max"),
        interval=True,
        switches=lambda x, lo, hi: [x - lo, x - hi],
        convention="clamp' = 1 at both ends",
        aten=("ge.Scalar", "le.Scalar", "where.self", "clamp.default", "logical_and_.default"),
        **lowering("clamp"),
    ),
]

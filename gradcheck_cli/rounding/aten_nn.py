"""Handlers of the fused activation and loss kernels of ATen's CPU backend (``Activation.cpp``,
``GeluKernel.cpp``, ``Loss.cpp``, ``PointwiseOpsKernel.cpp``, ``BinaryOpsKernel.cpp``), each
expanded into the steps of its scalar loop in their order (the vectorized loop rounds the same
number of times on every path; a product of k factors has the same first-order bound in any
order). Constants a kernel holds in the dtype (``negval``, ``kBeta``, ``1/numel``) are leaves
carrying their rounding error. Branches are taken at the exact values.
"""

from __future__ import annotations

import math

from gradcheck_cli.expr.catalog.internal import BCE_EPSILON
from gradcheck_cli.rounding import steps as st
from gradcheck_cli.rounding.tape import M, Tape, signs


def _vals(tp: Tape, x: int) -> list:
    return tp.prims[x].val


def _n(tp: Tape, *xs: int) -> int:
    return max(len(_vals(tp, x)) for x in xs)


def _zeros(tp: Tape, n: int) -> int:
    return tp.const(0, n)


def _mul3(tp: Tape, a: int, b: int, c: int) -> int:
    return st.mul(tp, st.mul(tp, a, b), c)


# ---------------------------------------------------------------- activations
def softplus_backward(tp: Tape, g: int, x: int, beta=1, threshold=20) -> int:
    t = st.mul(tp, x, tp.const(beta))
    z = st.fn(tp, "exp", t)
    q = st.div(tp, st.mul(tp, g, z), st.add(tp, z, st.one(tp)))
    mask = [v > threshold for v in _vals(tp, t)]
    return st.select(tp, mask, tp.expand(g, len(_vals(tp, q))), q)


def leaky_relu(tp: Tape, x: int, slope=0.01) -> int:
    return st.select(tp, [v > 0 for v in _vals(tp, x)], x, st.mul(tp, x, tp.const(slope)))


def leaky_relu_backward(tp: Tape, g: int, x: int, slope, *_) -> int:
    g = tp.expand(g, _n(tp, g, x))
    return st.select(tp, [v > 0 for v in _vals(tp, x)], g, st.mul(tp, g, tp.const(slope)))


def _elu_coefs(tp: Tape, alpha, scale, input_scale) -> tuple[int, int, int]:
    negcoef = st.mul(tp, tp.const(alpha), tp.const(scale))  # alpha * scale in the dtype
    return negcoef, tp.const(scale), tp.const(input_scale)


def elu(tp: Tape, x: int, alpha=1, scale=1, input_scale=1) -> int:
    negcoef, poscoef, negipt = _elu_coefs(tp, alpha, scale, input_scale)
    e = st.sub(tp, st.fn(tp, "exp", st.mul(tp, x, negipt)), st.one(tp))  # covers expm1 too
    neg = st.mul(tp, e, negcoef)
    return st.select(tp, [v <= 0 for v in _vals(tp, x)], neg, st.mul(tp, x, poscoef))


def elu_backward(tp: Tape, g: int, alpha, scale, input_scale, is_result, x: int) -> int:
    negcoef, poscoef, negipt = _elu_coefs(tp, alpha, scale, input_scale)
    g = tp.expand(g, _n(tp, g, x))
    if is_result:  # x is elu's output
        neg = st.mul(tp, st.mul(tp, g, negipt), st.add(tp, x, negcoef))
    else:
        e = st.fn(tp, "exp", st.mul(tp, x, negipt))
        neg = st.mul(tp, _mul3(tp, g, negipt, negcoef), e)
    return st.select(tp, [v <= 0 for v in _vals(tp, x)], neg, st.mul(tp, g, poscoef))


def _cdf(tp: Tape, x: int) -> int:
    """0.5 * (1 + erf(x * M_SQRT1_2)), kAlpha held in the dtype."""
    k_alpha = st.scalar(tp, math.sqrt(0.5), M.sqrt(M.mpf(1) / 2))
    return st.add(tp, st.one(tp), st.fn(tp, "erf", st.mul(tp, x, k_alpha)))


def gelu(tp: Tape, x: int, approximate: str = "none") -> int:
    if approximate != "none":
        raise st_unsupported(f"gelu approximate={approximate}")
    return st.mul(tp, st.mul(tp, x, tp.const(0.5)), _cdf(tp, x))


def gelu_backward(tp: Tape, g: int, x: int, approximate: str = "none") -> int:
    if approximate != "none":
        raise st_unsupported(f"gelu_backward approximate={approximate}")
    beta = (2 / math.sqrt(math.pi)) * math.sqrt(0.5) * 0.5  # M_2_SQRTPI * M_SQRT1_2 * 0.5
    k_beta = st.scalar(tp, beta, 1 / M.sqrt(2 * M.pi))
    cdf = st.mul(tp, tp.const(0.5), _cdf(tp, x))
    pdf = st.mul(tp, k_beta, st.fn(tp, "exp", st.mul(tp, st.mul(tp, x, x), tp.const(-0.5))))
    g = tp.expand(g, _n(tp, g, x))
    return st.mul(tp, g, st.add(tp, cdf, st.mul(tp, x, pdf)))


def st_unsupported(what: str) -> Exception:
    from gradcheck_cli.errors import UnsupportedOp

    return UnsupportedOp(what)


def silu(tp: Tape, x: int) -> int:
    return st.div(tp, x, st.add(tp, st.one(tp), st.fn(tp, "exp", st.neg(tp, x))))


def silu_backward(tp: Tape, g: int, x: int) -> int:
    s = st.sigmoid(tp, x)
    inner = st.add(tp, st.one(tp), st.mul(tp, x, st.sub(tp, st.one(tp), s)))
    return _mul3(tp, tp.expand(g, _n(tp, g, x)), s, inner)


def _tanh_softplus(tp: Tape, x: int) -> int:
    return st.fn(tp, "tanh", st.fn(tp, "log1p", st.fn(tp, "exp", x)))


def mish(tp: Tape, x: int) -> int:
    return st.mul(tp, x, _tanh_softplus(tp, x))


def mish_backward(tp: Tape, g: int, x: int) -> int:
    s = st.sigmoid(tp, x)
    t = _tanh_softplus(tp, x)
    inner = _mul3(tp, x, s, st.sub(tp, st.one(tp), st.mul(tp, t, t)))
    return st.mul(tp, tp.expand(g, _n(tp, g, x)), st.add(tp, t, inner))


def log_sigmoid_forward(tp: Tape, x: int) -> tuple[int, int]:
    """(min(x, 0) - log1p(z), z) with the buffer z = exp(-|x|)."""
    xs = _vals(tp, x)
    ax = tp.op("scale", (x,), 0, 0, extra=signs(xs))
    z = st.fn(tp, "exp", st.neg(tp, ax))
    low = st.select(tp, [v < 0 for v in xs], x, _zeros(tp, len(xs)))
    return st.sub(tp, low, st.fn(tp, "log1p", z)), z


def log_sigmoid_backward(tp: Tape, g: int, x: int, z: int) -> int:
    """(max_deriv - sign * z/(1+z)) * g: 1 - q where x < 0, q elsewhere."""
    q = st.div(tp, z, st.add(tp, st.one(tp), z))
    neg = [v < 0 for v in _vals(tp, x)]
    d = st.select(tp, neg, st.sub(tp, st.one(tp), q), q)
    return st.mul(tp, d, tp.expand(g, _n(tp, g, x)))


def clamp(tp: Tape, x: int, low=None, high=None) -> int:
    """min(max(x, low), high): a selection; the bounds are numbers held in the dtype."""
    xs, out = _vals(tp, x), x
    if low is not None:
        out = st.select(tp, [v < low for v in xs], tp.const(low, len(xs)), out)
    if high is not None:
        out = st.select(tp, [v > high for v in xs], tp.const(high, len(xs)), out)
    return out


def hardtanh_backward(tp: Tape, g: int, x: int, low, high) -> int:
    xs = _vals(tp, x)
    inside = [not (v <= low or v >= high) for v in xs]
    return st.select(tp, inside, tp.expand(g, len(xs)), _zeros(tp, len(xs)))


# ---------------------------------------------------------------- losses
def mse_loss(tp: Tape, a: int, b: int, reduction: int = 1) -> int:
    d = st.sub(tp, a, b)
    return st.reduce(tp, st.mul(tp, d, d), reduction)


def mse_loss_backward(tp: Tape, g: int, a: int, b: int, reduction: int = 1) -> int:
    c = st.norm(tp, _n(tp, a, b), reduction, 2.0)  # 2/N computed in double, then the dtype
    return st.mul(tp, st.mul(tp, c, st.sub(tp, a, b)), g)


def huber_loss(tp: Tape, a: int, b: int, reduction: int = 1, delta: float = 1.0) -> int:
    d = st.sub(tp, a, b)
    z = tp.op("scale", (d,), 0, 0, extra=signs(_vals(tp, d)))
    quad = st.mul(tp, st.mul(tp, tp.const(0.5), z), z)
    half = st.mul(tp, tp.const(0.5), tp.const(delta))
    lin = st.mul(tp, tp.const(delta), st.sub(tp, z, half))
    return st.reduce(tp, st.select(tp, [v < delta for v in _vals(tp, z)], quad, lin), reduction)


def huber_loss_backward(tp: Tape, g, a, b, reduction: int, delta: float) -> int:
    n = _n(tp, g, a, b)
    x = st.sub(tp, a, b)
    nrm, g = st.norm(tp, n, reduction), tp.expand(g, n)
    inner = _mul3(tp, nrm, x, g)
    sign = [M.mpf(1 if v >= delta else -1) for v in _vals(tp, x)]
    outer = _mul3(tp, nrm, g, tp.op("scale", (tp.const(delta, n),), 0, 0, extra=sign))
    return st.select(tp, [abs(v) < delta for v in _vals(tp, x)], inner, outer)


def smooth_l1_loss(tp: Tape, a: int, b: int, reduction: int = 1, beta: float = 1.0) -> int:
    d = st.sub(tp, a, b)
    z = tp.op("scale", (d,), 0, 0, extra=signs(_vals(tp, d)))
    quad = st.div(tp, st.mul(tp, st.mul(tp, tp.const(0.5), z), z), tp.const(beta))
    lin = st.sub(tp, z, st.mul(tp, tp.const(0.5), tp.const(beta)))
    return st.reduce(tp, st.select(tp, [v < beta for v in _vals(tp, z)], quad, lin), reduction)


def smooth_l1_loss_backward(tp: Tape, g, a, b, reduction: int, beta: float) -> int:
    n = _n(tp, g, a, b)
    x = st.sub(tp, a, b)
    nrm, g = st.norm(tp, n, reduction), tp.expand(g, n)
    inner = _mul3(tp, nrm, st.div(tp, x, tp.const(beta)), g)
    sign = [M.mpf(1 if v >= beta else -1) for v in _vals(tp, x)]
    outer = st.mul(tp, tp.op("scale", (tp.expand(nrm, n),), 0, 0, extra=sign), g)
    return st.select(tp, [abs(v) < beta for v in _vals(tp, x)], inner, outer)


def soft_margin_loss(tp: Tape, a: int, y: int, reduction: int = 1) -> int:
    t = st.mul(tp, st.neg(tp, a), y)
    return st.reduce(tp, st.fn(tp, "log1p", st.fn(tp, "exp", t)), reduction)


def soft_margin_loss_backward(tp: Tape, g: int, a: int, y: int, reduction: int) -> int:
    n = _n(tp, g, a, y)
    z = st.fn(tp, "exp", st.mul(tp, st.neg(tp, y), a))
    nrm = st.norm(tp, n, reduction)
    q = st.mul(tp, st.mul(tp, y, z), st.neg(tp, nrm))
    return st.mul(tp, st.div(tp, q, st.add(tp, z, st.one(tp))), g)


def binary_cross_entropy(tp: Tape, z: int, y: int, weight=None, reduction: int = 1) -> int:
    def clamped_log(kind: str, x: int) -> int:
        v = st.fn(tp, kind, x)
        return st.select(tp, [w > -100 for w in _vals(tp, v)], v, tp.const(-100, _n(tp, v)))

    a = st.mul(tp, st.sub(tp, y, st.one(tp)), clamped_log("log1p", st.neg(tp, z)))
    b = st.mul(tp, y, clamped_log("log", z))
    return st.reduce(tp, st.sub(tp, a, b), reduction)


def binary_cross_entropy_backward(tp: Tape, g, z, y, weight=None, reduction: int = 1) -> int:
    n = _n(tp, g, z, y)
    p = st.mul(tp, st.sub(tp, st.one(tp), z), z)
    eps = st.scalar(tp, BCE_EPSILON)  # float32(1e-12) in every dtype, as torch holds it
    m = st.select(tp, [v > BCE_EPSILON for v in _vals(tp, p)], p, tp.expand(eps, n))
    out = st.div(tp, st.mul(tp, g, st.sub(tp, z, y)), m)
    return st.div(tp, out, tp.const(n), scalar=True) if reduction == 1 else out


def bce_with_logits(tp: Tape, x: int, y: int, weight=None, pos_weight=None, reduction=1) -> int:
    if weight is not None or pos_weight is not None:
        raise st_unsupported("binary_cross_entropy_with_logits with weights")
    ls, _ = log_sigmoid_forward(tp, x)
    loss = st.sub(tp, st.mul(tp, st.sub(tp, st.one(tp), y), x), ls)
    return st.reduce(tp, loss, reduction)


def _h(f):
    return lambda tp, node, *a, **k: f(tp, *(tp.ref(v) if hasattr(v, "id") else v for v in a), **k)


NN_HANDLERS = {
    f"aten.{name}.default": _h(f)
    for name, f in {
        "softplus_backward": softplus_backward,
        "leaky_relu": leaky_relu,
        "leaky_relu_backward": leaky_relu_backward,
        "elu": elu,
        "elu_backward": elu_backward,
        "gelu": gelu,
        "gelu_backward": gelu_backward,
        "silu": silu,
        "silu_backward": silu_backward,
        "mish": mish,
        "mish_backward": mish_backward,
        "log_sigmoid_forward": log_sigmoid_forward,
        "log_sigmoid_backward": log_sigmoid_backward,
        "hardtanh": lambda tp, x, low=-1, high=1: clamp(tp, x, low, high),
        "hardtanh_backward": hardtanh_backward,
        "clamp": clamp,
        "mse_loss": mse_loss,
        "mse_loss_backward": mse_loss_backward,
        "huber_loss": huber_loss,
        "huber_loss_backward": huber_loss_backward,
        "smooth_l1_loss": smooth_l1_loss,
        "smooth_l1_loss_backward": smooth_l1_loss_backward,
        "soft_margin_loss": soft_margin_loss,
        "soft_margin_loss_backward": soft_margin_loss_backward,
        "binary_cross_entropy": binary_cross_entropy,
        "binary_cross_entropy_backward": binary_cross_entropy_backward,
        "binary_cross_entropy_with_logits": bce_with_logits,
    }.items()
}

"""Catalog entries: trigonometric and hyperbolic functions and their inverses, erf, gamma."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradcheck_cli.expr.catalog import numeric as n
from gradcheck_cli.expr.catalog.spec import FunctionSpec, lowering


def _asin_domain(name: str) -> Callable[..., Any]:
    def compute(ctx: Any, x: Any) -> Any:
        n.domain(n.decide(-1 <= x) and x <= 1, f"{name} of a number outside [-1, 1]")
        return n.monotone(ctx, name, lambda c, v: getattr(c, name)(v), x, name == "asin")

    return compute


def _acosh(ctx: Any, x: Any) -> Any:
    n.domain(x >= 1, "acosh of a number below 1")
    return n.monotone(ctx, "acosh", lambda c, v: c.acosh(v), x)


def _atanh(ctx: Any, x: Any) -> Any:
    n.domain(n.decide(-1 < x) and x < 1, "atanh of a number outside (-1, 1)")
    return n.monotone(ctx, "atanh", lambda c, v: c.atanh(v), x)


def _atan2(ctx: Any, y: Any, x: Any) -> Any:
    n.domain(not (n.is_zero(x) and n.is_zero(y)), "atan2(0, 0)")
    if not (n.decide(x > 0) or n.is_zero(y) or n.decide(y != 0)):
        raise n.Ambiguous  # y about 0 left of the origin: the branch cut (pi or -pi)
    return ctx.atan2(y, x)


def _gamma_torch(x: Any) -> Any:
    import torch

    return torch.exp(torch.lgamma(x))


def _plain(name: str, doc: str, interval: bool = True, **more: Any) -> FunctionSpec:
    """SymPy's own ``name``, torch's ``name``; ``evaluate`` the numeric block of that name."""
    evaluate = more.pop("evaluate", getattr(n, name, None) or n.trig(name))
    path = more.pop("path", name)
    return FunctionSpec(
        name, doc, evaluate, sympy=name, interval=interval, **more, **lowering(path)
    )


_ASIN_ATEN = ("neg.default", "mul.Tensor", "add.Scalar", "rsqrt.default")
_ERF_ATEN = ("pow.Tensor_Scalar", "neg.default", "exp.default", "mul.Scalar", "mul.Tensor")

ENTRIES = [
    _plain("sin", "sine", True, aten=("sin.default", "cos.default", "mul.Tensor")),
    _plain("cos", "cosine", True, aten=("cos.default", "sin.default", "neg.default", "mul.Tensor")),
    _plain(
        "tan",
        "tangent",
        True,
        aten=("pow.Tensor_Scalar", "add.Scalar", "mul.Tensor", "tan.default"),
    ),
    _plain(
        "asin",
        "arcsine; -1 < x < 1 for a gradient",
        evaluate=_asin_domain("asin"),
        aten=(*_ASIN_ATEN, "asin.default"),
    ),
    _plain(
        "acos",
        "arccosine; -1 < x < 1 for a gradient",
        evaluate=_asin_domain("acos"),
        aten=(*_ASIN_ATEN, "acos.default"),
    ),
    _plain(
        "atan",
        "arctangent",
        aten=("mul.Tensor", "add.Scalar", "div.Tensor", "atan.default"),
    ),
    FunctionSpec(
        "atan2",
        "angle of the point (x, y) for atan2(y, x)",
        _atan2,
        sympy="atan2",
        arity=(2, 2),
        interval=True,
        aten=(
            "mul.Tensor",
            "add.Tensor",
            "reciprocal.default",
            "eq.Scalar",
            "atan2.default",
            "masked_fill.Scalar",
        ),
        **lowering("atan2", True),
    ),
    _plain(
        "sinh",
        "hyperbolic sine",
        aten=("mul.Tensor", "sinh.default", "cosh.default"),
    ),
    _plain(
        "cosh",
        "hyperbolic cosine",
        aten=("mul.Tensor", "cosh.default", "sinh.default"),
    ),
    _plain(
        "tanh",
        "hyperbolic tangent",
        True,
        evaluate=n.tanh,
        aten=("tanh.default", "tanh_backward.default"),
    ),
    _plain(
        "asinh",
        "inverse hyperbolic sine",
        aten=("pow.Tensor_Scalar", "add.Scalar", "rsqrt.default", "mul.Tensor", "asinh.default"),
    ),
    _plain(
        "acosh",
        "inverse hyperbolic cosine; x > 1 for a gradient",
        evaluate=_acosh,
        aten=("mul.Tensor", "sub.Scalar", "rsqrt.default", "acosh.default"),
    ),
    _plain(
        "atanh",
        "inverse hyperbolic tangent; -1 < x < 1",
        evaluate=_atanh,
        aten=(
            "pow.Tensor_Scalar",
            "mul.Scalar",
            "div.Tensor",
            "atanh.default",
            "empty_like.default",
            "fill_.Scalar",
            "sub_.Tensor",
        ),
    ),
    # mpmath.iv.erf exists but fails to converge: erf and erfc are monotone enclosures
    _plain(
        "erf",
        "2/sqrt(pi) * integral of exp(-t**2), 0..x",
        path="special.erf",
        aten=(*_ERF_ATEN, "erf.default"),
    ),
    _plain("erfc", "1 - erf(x)", path="special.erfc", aten=(*_ERF_ATEN, "erfc.default")),
    FunctionSpec(
        "gamma",
        "|Gamma(x)| as exp(lgamma(x)): torch has no gamma function",
        lambda ctx, x: abs(n.gamma(ctx, x)),
        compose=lambda s, x: s.exp(s.lgamma(x)),
        interval=True,
        torch_name="torch.exp(torch.lgamma(x))",
        torch=_gamma_torch,
        aten=("exp.default", "mul.Tensor", "lgamma.default", "digamma.default"),
    ),
    FunctionSpec(
        "lgamma",
        "log|Gamma(x)| (torch drops the sign)",
        n.lgamma,
        sympy="lgamma",
        interval=True,
        # the derivative of log|Gamma(x)| is digamma(x) on both signs of Gamma
        derivatives=(lambda s, x: s.polygamma(0, x),),
        definition=lambda s, x: s.log(s.Abs(s.gamma(x))),
        aten=("mul.Tensor", "lgamma.default", "digamma.default"),
        **lowering("lgamma"),
    ),
]

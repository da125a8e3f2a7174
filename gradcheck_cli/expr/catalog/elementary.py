"""Catalog entries: exponentials, logarithms, powers, abs, sign, min, max, hypot."""

from __future__ import annotations

from typing import Any

from gradcheck_cli.expr.catalog import numeric as n
from gradcheck_cli.expr.catalog.spec import EXACT, FunctionSpec, lowering


def _log_torch(x: Any, base: Any = None) -> Any:
    import torch

    if base is None:
        return torch.log(x)
    if isinstance(base, int | float) and base in (2, 10):
        return torch.log2(x) if base == 2 else torch.log10(x)
    return torch.log(x) / torch.log(torch.as_tensor(base, dtype=x.dtype))


def _log_eval(ctx: Any, x: Any, base: Any = None) -> Any:
    return n.log(ctx, x) if base is None else n.log(ctx, x) / n.log(ctx, base)


def _sqrt_eval(ctx: Any, x: Any) -> Any:  # as the power rule: ** 0.5 becomes sqrt
    n.domain(x >= 0, "square root of a negative number")
    return ctx.sqrt(x)


def _cbrt_torch(x: Any) -> Any:
    import torch

    return torch.pow(x, 1.0 / 3.0)


def _cbrt_eval(ctx: Any, x: Any) -> Any:
    n.domain(x >= 0, "cbrt of a negative number (torch.pow(x, 1/3) is NaN there)")
    return ctx.mpf(0) if n.is_zero(x) else n.cbrt_(ctx, x)


def _pow_eval(ctx: Any, x: Any, y: Any) -> Any:
    return n.power(ctx, x, y, n.integer(ctx, y))


def _ties(*args: Any) -> list[Any]:
    return [a - b for i, a in enumerate(args) for b in args[i + 1 :]]


_TIE = ": a tie splits the gradient 1/2 each"

ENTRIES = [
    FunctionSpec(
        "exp",
        "e**x",
        n.exp,
        sympy="exp",
        interval=True,
        aten=("exp.default", "mul.Tensor"),
        **lowering("exp"),
    ),
    FunctionSpec(
        "log",
        "natural log; log(x, b) is the log to base b",
        _log_eval,
        sympy="log",
        compose=lambda s, x, b=None: s.log(x) if b is None else s.log(x, b),
        arity=(1, 2),
        interval=True,
        torch_name="torch.log / log2 / log10",
        torch=_log_torch,
        aten=("log.default", "div.Tensor"),
    ),
    FunctionSpec(
        "log1p",
        "log(1 + x)",
        n.log1p,
        sympy="log1p",
        derivatives=(lambda s, x: 1 / (1 + x),),
        definition=lambda s, x: s.log(1 + x),
        interval=True,
        aten=("log1p.default", "add.Scalar", "div.Tensor"),
        **lowering("log1p"),
    ),
    FunctionSpec(
        "expm1",
        "exp(x) - 1",
        n.expm1,
        sympy="expm1",
        derivatives=(lambda s, x: s.exp(x),),
        definition=lambda s, x: s.exp(x) - 1,
        interval=True,
        aten=("expm1.default", "add.Scalar", "mul.Tensor"),
        **lowering("expm1"),
    ),
    FunctionSpec(
        "sqrt",
        "x**(1/2); undefined for x < 0, gradient at 0",
        _sqrt_eval,
        sympy="sqrt",
        interval=True,
        aten=("sqrt.default", "mul.Scalar", "div.Tensor"),
        **lowering("sqrt"),
    ),
    FunctionSpec(
        "cbrt",
        "x**(1/3); torch has no cbrt and pow gives NaN for x < 0: undefined there",
        _cbrt_eval,
        sympy="cbrt",
        interval=True,
        derivatives=(lambda s, x: s.Pow(x, s.Rational(-2, 3)) / 3,),
        definition=lambda s, x: x ** s.Rational(1, 3),
        torch_name="torch.pow(x, 1/3)",
        torch=_cbrt_torch,
        aten=("pow.Tensor_Scalar", "mul.Scalar", "mul.Tensor"),
    ),
    FunctionSpec(
        "pow",
        "x**y",
        _pow_eval,
        sympy="Pow",
        arity=(2, 2),
        interval=True,
        aten=("pow.Tensor_Scalar", "mul.Scalar", "mul.Tensor"),
        **lowering("pow"),
    ),
    FunctionSpec(
        "abs",
        "|x|; torch's abs'(0) = 0",
        lambda ctx, x: abs(x),
        sympy="Abs",
        # SymPy's own Abs goes through re/im when it cannot prove its argument real
        derivatives=(lambda s, x: s.sign(x),),
        definition=lambda s, x: s.Piecewise((x, x >= 0), (-x, True)),
        interval=True,
        switches=lambda x: [x],
        convention="abs'(0) = 0",
        cost=EXACT,
        aten=("abs.default", "sgn.default", "mul.Tensor"),
        **lowering("abs"),
    ),
    FunctionSpec(
        "sign",
        "-1, 0 or 1; torch's sign' = 0 everywhere",
        n.sign,
        sympy="sign",
        interval=True,
        switches=lambda x: [x],
        convention="sign' = 0 (the function jumps)",
        jumps=True,
        steps=True,
        cost=EXACT,
        aten=("sign.default", "zeros_like.default"),
        **lowering("sign"),
    ),
    FunctionSpec(
        "min",
        "smaller of two; a tie splits the gradient 1/2",
        lambda ctx, *xs: n.extreme(ctx, xs, largest=False),
        sympy="Min",
        arity=(2, 2),
        interval=True,
        switches=_ties,
        convention="min" + _TIE,
        aten=(
            "div.Scalar",
            "eq.Tensor",
            "where.self",
            "gt.Tensor",
            "minimum.default",
            "masked_fill_.Scalar",
        ),
        **lowering("minimum", True),
    ),
    FunctionSpec(
        "max",
        "larger of two; a tie splits the gradient 1/2",
        lambda ctx, *xs: n.extreme(ctx, xs, largest=True),
        sympy="Max",
        arity=(2, 2),
        interval=True,
        switches=_ties,
        convention="max" + _TIE,
        aten=(
            "div.Scalar",
            "eq.Tensor",
            "where.self",
            "lt.Tensor",
            "maximum.default",
            "masked_fill_.Scalar",
        ),
        **lowering("maximum", True),
    ),
    FunctionSpec(
        "hypot",
        "sqrt(x**2 + y**2)",
        lambda ctx, x, y: ctx.sqrt(x**2 + y**2),
        sympy="hypot",
        arity=(2, 2),
        derivatives=(lambda s, x, y: x / s.hypot(x, y), lambda s, x, y: y / s.hypot(x, y)),
        definition=lambda s, x, y: s.sqrt(x**2 + y**2),
        interval=True,
        aten=("mul.Tensor", "div.Tensor", "hypot.default"),
        **lowering("hypot", True),
    ),
]

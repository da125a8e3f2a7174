"""The catalog of losses: each loss once, its per-sample SymPy formula and its torch call.

The symbolic side reduces the per-sample formula over the samples (mean or sum); the torch
side calls torch's own loss function, so torch's implementation is what gets verified.
Adding a loss is adding one entry to ``LOSSES``. A loss that is not in the catalog may be an
expression of the grammar in ``z`` (the model) and ``y`` (the target): ``"(z-y)**4"``.

Options (``--delta``, ``--eps``, ...) are numbers or flags bound to a loss by ``loss_spec``; a
loss refuses the options it does not take. They are declared, and their values checked, in the
option table (``gradcheck_cli.options``). Imports stay light: SymPy and torch are imported by
the formulas and torch calls when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from gradcheck_cli.values import closest

OptionValue = float | bool


@dataclass(frozen=True)
class LossSpec:
    name: str
    needs_target: bool
    formula: Callable[..., Any]  # per-sample SymPy formula (z, y, **options)
    torch: Callable[..., Any]  # (z, y, reduction, **options) -> scalar tensor
    description: str
    defaults: Mapping[str, OptionValue] = field(default_factory=dict)
    target: str = ""  # "probability": drawn targets pass through sigmoid; "sign": become -1/+1


def _number(value: OptionValue) -> Any:
    import sympy

    return sympy.Rational(repr(float(value)))  # as typed: 1e-08 is 1/10**8


def _functional(name: str, **fixed: Any) -> Callable[..., Any]:
    def call(z: Any, y: Any, reduction: str, **options: Any) -> Any:
        import torch.nn.functional as F  # noqa: N812

        return getattr(F, name)(z, y, reduction=reduction, **fixed, **options)

    return call


def _mse(z: Any, y: Any) -> Any:
    from gradcheck_cli.exact.shortcuts import power

    return power(z - y, 2)


def _abs(x: Any) -> Any:
    from gradcheck_cli.exact.functions import Abs

    return Abs(x)


def _l1(z: Any, y: Any) -> Any:
    return _abs(z - y)


def _huber(z: Any, y: Any, delta: OptionValue) -> Any:
    import sympy

    d, delta = z - y, _number(delta)
    return sympy.Piecewise((d**2 / 2, _abs(d) < delta), (delta * (_abs(d) - delta / 2), True))


def _smooth_l1(z: Any, y: Any, beta: OptionValue) -> Any:
    import sympy

    d, beta = z - y, _number(beta)
    if beta == 0:  # torch: smooth_l1 with beta 0 is l1
        return _abs(d)
    return sympy.Piecewise((d**2 / (2 * beta), _abs(d) < beta), (_abs(d) - beta / 2, True))


def _bce(z: Any, y: Any) -> Any:
    from gradcheck_cli.exact.functions import bce

    return bce(z, y)


def _bce_torch(z: Any, y: Any, reduction: str) -> Any:
    import torch.nn.functional as F  # noqa: N812

    from gradcheck_cli.errors import EvaluationError

    # The check reads values: outside the recording, as the recording is replayed at other
    # points; there torch's kernel refuses a z outside [0, 1] and the run is recorded afresh,
    # which raises here.
    with _untraced():
        outside = bool(((z < 0) | (z > 1) | z.isnan()).any())
    if outside:
        raise EvaluationError(
            f"loss bce needs the model output z in [0, 1] (a probability), got "
            f"{[round(v, 6) for v in z.tolist()]}: wrap the model in sigmoid(...) or use "
            "--loss bce_logits"
        )
    return F.binary_cross_entropy(z, y, reduction=reduction)


def _bce_logits(z: Any, y: Any) -> Any:
    import sympy

    return sympy.log(1 + sympy.exp(z)) - y * z


def _soft_margin(z: Any, y: Any) -> Any:
    import sympy

    return sympy.log(1 + sympy.exp(-y * z))


def _poisson_nll(
    z: Any, y: Any, log_input: OptionValue, full: OptionValue, eps: OptionValue
) -> Any:
    import sympy

    loss = sympy.exp(z) - y * z if log_input else z - y * sympy.log(z + _number(eps))
    if full:  # Stirling term where the target is above 1, as torch
        stirling = y * sympy.log(y) - y + sympy.log(2 * sympy.pi * y) / 2
        loss += sympy.Piecewise((stirling, y > 1), (0, True))
    return loss


def _gaussian_nll(z: Any, y: Any, full: OptionValue, eps: OptionValue, var: OptionValue) -> Any:
    import sympy

    v = _number(max(float(var), float(eps)))  # torch clamps the variance at eps
    loss = (sympy.log(v) + (z - y) ** 2 / v) / 2
    return loss + sympy.log(2 * sympy.pi) / 2 if full else loss


def _gaussian_nll_torch(
    z: Any, y: Any, reduction: str, full: OptionValue, eps: OptionValue, var: OptionValue
) -> Any:
    import torch.nn.functional as F  # noqa: N812

    # var as a number: a tensor var makes torch check it with a Python-side read (torch.any),
    # which stops tracing; a number becomes var * ones_like(z), the same values.
    return F.gaussian_nll_loss(
        z, y, float(var), full=bool(full), eps=float(eps), reduction=reduction
    )


def _untraced() -> Any:
    """A context in which tensor operations are not recorded (``recording.record``)."""
    from gradcheck_cli.recording import unrecorded

    return unrecorded()


def _none_torch(z: Any, y: Any, reduction: str) -> Any:
    return z.mean() if reduction == "mean" else z.sum()


_L1 = "abs(z - y), torch.nn.functional.l1_loss; torch's derivative at z = y is 0"

LOSSES: dict[str, LossSpec] = {
    spec.name: spec
    for spec in [
        LossSpec(
            "mse", True, _mse, _functional("mse_loss"), "(z - y)**2, torch.nn.functional.mse_loss"
        ),
        LossSpec("l1", True, _l1, _functional("l1_loss"), _L1),
        LossSpec("mae", True, _l1, _functional("l1_loss"), "alias of l1: " + _L1),
        LossSpec(
            "huber",
            True,
            _huber,
            _functional("huber_loss"),
            "(z-y)**2/2 where |z-y| < delta, else delta*(|z-y| - delta/2)",
            {"delta": 1.0},
        ),
        LossSpec(
            "smooth_l1",
            True,
            _smooth_l1,
            _functional("smooth_l1_loss"),
            "(z-y)**2/(2*beta) where |z-y| < beta, else |z-y| - beta/2 (l1 if beta = 0)",
            {"beta": 1.0},
        ),
        LossSpec(
            "bce",
            True,
            _bce,
            _bce_torch,
            "-(y*log z + (1-y)*log(1-z)), logs clamped at -100 and torch's backward "
            "(z-y)/max(z(1-z), float32(1e-12)); z must be in [0, 1], targets drawn as "
            "sigmoid(randn)",
            target="probability",
        ),
        LossSpec(
            "bce_logits",
            True,
            _bce_logits,
            _functional("binary_cross_entropy_with_logits"),
            "log(1 + exp(z)) - y*z; targets drawn as sigmoid(randn)",
            target="probability",
        ),
        LossSpec(
            "soft_margin",
            True,
            _soft_margin,
            _functional("soft_margin_loss"),
            "log(1 + exp(-y*z)); targets drawn as the sign (-1 or 1) of randn",
            target="sign",
        ),
        LossSpec(
            "poisson_nll",
            True,
            _poisson_nll,
            _functional("poisson_nll_loss"),
            "exp(z) - y*z (log_input), else z - y*log(z + eps); full adds Stirling's term "
            "where y > 1",
            {"log_input": True, "full": False, "eps": 1e-8},
        ),
        LossSpec(
            "gaussian_nll",
            True,
            _gaussian_nll,
            _gaussian_nll_torch,
            "(log v + (z-y)**2/v)/2 with a constant variance v = max(var, eps) "
            "(--var, default 1); full adds log(2*pi)/2",
            {"full": False, "eps": 1e-6, "var": 1.0},
        ),
        LossSpec("none", False, lambda z, y: z, _none_torch, "the model output itself (no target)"),
    ]
}


def loss_spec(name: str, options: tuple[tuple[str, OptionValue], ...] = ()) -> LossSpec:
    """The loss ``name`` (or a custom loss expression) with ``options`` bound.

    The values of ``options`` are checked by ``Options`` (the option table); here only
    whether the loss takes them."""
    from gradcheck_cli.errors import UnsupportedError

    spec = LOSSES.get(name) or _custom(name)
    given = dict(options)
    for key in given:
        if key not in spec.defaults:
            takes = ", ".join(f"--{k.replace('_', '-')}" for k in spec.defaults) or "none"
            raise UnsupportedError(
                f"--{key.replace('_', '-')} does not apply to loss "
                f"'{spec.name}' (its options: {takes})"
            )
    bound_options = {**spec.defaults, **given}
    return replace(
        spec,
        formula=partial(spec.formula, **bound_options),
        torch=partial(spec.torch, **bound_options),
        defaults=bound_options,
    )


def _custom(text: str) -> LossSpec:
    """A loss written as an expression in z and y, e.g. ``(z-y)**4``."""
    from gradcheck_cli.errors import UnsupportedError
    from gradcheck_cli.expr.parse import parse

    if text.isidentifier() and text not in ("z", "y"):
        close = closest(text, LOSSES)
        known = ", ".join(LOSSES)
        raise UnsupportedError(
            f"unknown loss '{text}' (did you mean '{close}'?)"
            if close
            else f"unknown loss '{text}' (supported: {known}, or an expression "
            "in z and y such as '(z-y)**4')"
        )
    expr = parse(text)
    others = [s for s in expr.symbols if s not in ("z", "y")]
    if others or "z" not in expr.symbols:
        raise UnsupportedError(
            f"a custom loss is an expression in z (the model) and y (the "
            f"target); '{text}' uses {', '.join(expr.symbols) or 'neither'}"
        )

    def formula(z: Any, y: Any) -> Any:
        from gradcheck_cli.exact.symbolic import to_sympy

        return to_sympy(expr, {"z": z, "y": y} if y is not None else {"z": z})

    from gradcheck_cli.lowering import lower

    lowered = lower(expr)

    def call(z: Any, y: Any, reduction: str) -> Any:
        import torch

        per_sample = torch.broadcast_to(lowered({"z": z, "y": y, "__dtype__": z.dtype}), z.shape)
        return per_sample.mean() if reduction == "mean" else per_sample.sum()

    return LossSpec(text, "y" in expr.symbols, formula, call, "custom loss expression")


def draw_targets(spec: LossSpec, values: tuple[float, ...], dtype: str) -> tuple[float, ...]:
    """Map drawn targets into the loss's domain (``spec.target``), rounded to ``dtype``."""
    if not spec.target:
        return values
    import torch

    t = torch.tensor(values, dtype=getattr(torch, dtype))
    t = torch.sigmoid(t) if spec.target == "probability" else torch.where(t < 0, -1.0, 1.0)
    return tuple(t.tolist())

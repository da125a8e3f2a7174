"""The core check: text -> expression -> gradients -> comparison -> result.

``prepare`` does the work that depends only on the model and its options (parse, roles, SymPy
gradients, lowering); ``run`` evaluates a prepared problem at one seed. ``check`` does both.
Batch runs prepare each distinct model once and run it for many seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .errors import RoleError
from .losses import draw_targets, loss_spec
from .parse import Expr, parse
from .problem import Options, Roles, assign_roles, check_fixed
from .results import CheckResult, GradientResult


@dataclass(frozen=True)
class Prepared:
    """A model ready to run: its symbolic gradients and its compiled torch function."""

    expr: Expr
    options: Options
    roles: Roles
    loss_expr: Any  # SymPy: per-sample loss
    z_expr: Any  # SymPy: the model
    grads: tuple[Any, ...]  # SymPy: per-sample gradient of the loss, one per parameter
    forward: Callable[..., Any]
    loss: Any = None  # the bound LossSpec


def prepare(model: str, options: Options,
            lowerings: Mapping[str, Callable[..., Any]] | None = None) -> Prepared:
    spec = loss_spec(options.loss, options.loss_options)
    expr = parse(model)
    roles = assign_roles(expr.symbols, spec.needs_target, options.inputs, options.target,
                         options.params)
    check_fixed(options.at, expr.symbols, roles.target)
    from . import autograd, lowering, symbolic  # heavy: only once the input is known good

    z_expr = symbolic.to_sympy(expr)
    y = symbolic.symbol(roles.target) if roles.target else None
    loss_expr = spec.formula(z_expr, y)
    grads = symbolic.gradients(loss_expr, roles.params)
    forward = autograd.loss_function(lowering.lower(expr, lowerings), spec.torch, roles,
                                     options.reduction, options.samples)
    return Prepared(expr, options, roles, loss_expr, z_expr, grads, forward, spec)


def run(prepared: Prepared, seed: int | None = None) -> CheckResult:
    """Evaluate a prepared problem at ``seed`` (default: the options' seed)."""
    from . import analysis, autograd, kinks, sampling, symbolic

    options = prepared.options if seed is None else replace(prepared.options, seed=seed)
    roles = prepared.roles
    values = sampling.draw(roles, options.seed, options.samples, options.dtype, dict(options.at))
    if roles.target and roles.target not in dict(options.at):
        values[roles.target] = draw_targets(prepared.loss, values[roles.target], options.dtype)
    _check_finite(values, options.dtype)
    tensors = autograd.build_inputs(roles, values, options.dtype)
    got = autograd.run(prepared.forward, tensors, len(roles.params))
    points = [{name: v[min(i, len(v) - 1)] for name, v in values.items()}
              for i in range(options.samples)]
    z_exact = tuple(kinks.exact_or_nan(prepared.z_expr, p) for p in points)
    loss_exact = _reduce([kinks.exact_or_nan(prepared.loss_expr, p) for p in points], options)
    names = roles.inputs + ((roles.target,) if roles.target else ()) + roles.params
    gradients = []
    for name, grad, got_grad in zip(roles.params, prepared.grads, got.grads, strict=True):
        problem = kinks.undefined((prepared.loss_expr, grad), points)
        if problem:
            gradients.append(kinks.undefined_result(name, str(grad), got_grad, problem))
            continue
        exact = _reduce([symbolic.exact(grad, p) for p in points], options)
        tol = analysis.tolerance(grad, points, exact, options.reduction, options.dtype)
        cmp = analysis.compare(exact, got_grad, tol, options.dtype)
        gradients.append(kinks.review(GradientResult(
            param=name, formula=str(grad), exact=float(exact), autograd=got_grad,
            abs_error=cmp.abs_error, rel_error=cmp.rel_error, tolerance=cmp.tolerance,
            verdict=cmp.verdict, note=cmp.note), prepared.loss_expr, grad, points,
            options.reduction, options.dtype,
            lambda: kinks.nan_source(prepared.expr.tree, names, tensors, len(roles.params))))
    return CheckResult(
        model=prepared.expr.text, loss=options.loss, reduction=options.reduction,
        dtype=options.dtype, seed=options.seed, samples=options.samples,
        inputs=roles.inputs, target=roles.target, params=roles.params,
        values=tuple(values.items()), z_exact=tuple(float(v) for v in z_exact),
        z_autograd=got.z, loss_exact=float(loss_exact), loss_autograd=got.loss,
        gradients=tuple(gradients), strict=options.strict)


def check(model: str, *, lowerings: Mapping[str, Callable[..., Any]] | None = None,
          **options: Any) -> CheckResult:
    """Check every gradient of ``model`` under ``options`` (see ``Options``)."""
    if "at" in options and isinstance(options["at"], Mapping):
        options["at"] = tuple(options["at"].items())
    for key in ("inputs", "params"):
        if options.get(key) is not None:
            options[key] = tuple(options[key])
    return check_options(model, Options(**options), lowerings)


def check_options(model: str, options: Options,
                  lowerings: Mapping[str, Callable[..., Any]] | None = None) -> CheckResult:
    return run(prepare(model, options, lowerings))


def _reduce(per_sample: list[Any], options: Options) -> Any:
    total = sum(per_sample[1:], per_sample[0])
    return total / len(per_sample) if options.reduction == "mean" else total


def _check_finite(values: Mapping[str, tuple[float, ...]], dtype: str) -> None:
    for name, items in values.items():
        if not all(math.isfinite(v) for v in items):
            raise RoleError(f"value of '{name}' overflows {dtype}")

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

from gradcheck_cli.errors import EvaluationError, RoleError
from gradcheck_cli.expr.losses import draw_targets, loss_spec
from gradcheck_cli.expr.parse import Expr, parse
from gradcheck_cli.options import Options, decimals_typed
from gradcheck_cli.results import CheckResult, GradientResult
from gradcheck_cli.roles import Roles, assign_roles, check_expect, check_fixed


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
    constants: Any = ()  # per gradient: (symbolic.Constant, d gradient / d constant) pairs


def prepare(
    model: str, options: Options, lowerings: Mapping[str, Callable[..., Any]] | None = None
) -> Prepared:
    spec = loss_spec(options.loss, options.loss_options)
    expr = parse(model)
    roles = assign_roles(
        expr.symbols, spec.needs_target, options.inputs, options.target, options.params
    )
    check_fixed(options.at, expr.symbols, roles.target)
    check_expect(options.expect, roles.params)
    from gradcheck_cli import torch_side  # heavy: only once the input is known good
    from gradcheck_cli.exact import symbolic

    z_expr = symbolic.to_sympy(expr)
    y = symbolic.symbol(roles.target) if roles.target else None
    loss_expr = spec.formula(z_expr, y)
    grads = symbolic.gradients(loss_expr, roles.params)
    forward = torch_side.loss_function(
        torch_side.lower(expr, lowerings), spec.torch, roles, options.reduction, options.samples
    )
    return Prepared(
        expr,
        options,
        roles,
        loss_expr,
        z_expr,
        grads,
        forward,
        spec,
        _constant_sensitivities(expr, spec, y, roles.params),
    )


def _constant_sensitivities(expr: Expr, spec: Any, y: Any, params: tuple[str, ...]) -> Any:
    """For each gradient, d(gradient)/d(constant) of every constant torch holds inexactly."""
    from gradcheck_cli.exact import symbolic

    z_c, constants = symbolic.to_sympy_with_constants(expr)
    if not constants:
        return ()
    grads_c = symbolic.gradients(spec.formula(z_c, y), params)
    return tuple(
        tuple((c, symbolic.sympy.diff(g, symbolic.symbol(c.name))) for c in constants)
        for g in grads_c
    )


def run(prepared: Prepared, seed: int | None = None) -> CheckResult:
    """Evaluate a prepared problem at ``seed`` (default: the options' seed)."""
    from gradcheck_cli import torch_side
    from gradcheck_cli import verdict as verdict_mod
    from gradcheck_cli.exact import evaluate, kinks
    from gradcheck_cli.rounding import bounds as analysis

    options = prepared.options if seed is None else replace(prepared.options, seed=seed)
    roles = prepared.roles
    values = torch_side.draw(roles, options.seed, options.samples, options.dtype, dict(options.at))
    if roles.target and roles.target not in dict(options.at):
        values[roles.target] = draw_targets(prepared.loss, values[roles.target], options.dtype)
    _check_finite(values, options.dtype)
    tensors = torch_side.build_inputs(roles, values, options.dtype)
    got = torch_side.run(prepared.forward, tensors, len(roles.params))
    points = [
        {name: v[min(i, len(v) - 1)] for name, v in values.items()} for i in range(options.samples)
    ]
    z_exact = tuple(kinks.exact_or_nan(prepared.z_expr, p) for p in points)
    try:
        loss_exact = evaluate.exact_reduced(
            prepared.loss_expr, points, options.reduction, options.dtype
        ).value
    except EvaluationError:
        loss_exact = math.nan
    names = roles.inputs + ((roles.target,) if roles.target else ()) + roles.params
    bounds: analysis.Bounds | None = None
    gradients = []
    ladder: tuple[float, ...] | None = None
    for i, (name, grad) in enumerate(zip(roles.params, prepared.grads, strict=True)):
        got_grad = got.grads[i]
        problem = kinks.undefined((prepared.loss_expr, grad), points)
        if problem:
            gradients.append(kinks.undefined_result(name, str(grad), got_grad, problem))
            continue
        if bounds is None:
            bounds = analysis.rounding_bounds(
                prepared.forward,
                tensors,
                len(roles.params),
                prepared.grads,
                points,
                options.reduction,
                options.dtype,
            )
        exact = evaluate.exact_reduced(grad, points, options.reduction, options.dtype)
        bound = bounds.values[i]
        if prepared.constants:
            bound += analysis.constant_term(
                prepared.constants[i], points, options.reduction, options.dtype
            )
        verdict = verdict_mod.judge(exact.value, got_grad, bound, options.dtype)
        notes = [verdict.note, bounds.reason and f"bound from the SymPy gradient ({bounds.reason})"]
        if verdict.verdict == "fail" and got_grad is not None and not math.isnan(got_grad):
            if ladder is None:
                ladder = analysis.ladder(prepared.forward, tensors, len(roles.params))
            notes.append(verdict_mod.confirm(exact.value, got_grad, ladder[i], options.dtype))
            if bounds.method == "sympy" and verdict_mod.shrinks(
                exact.value, got_grad, ladder[i], options.dtype
            ):
                verdict = replace(verdict, verdict="pass")  # the fallback bound is not rigorous
                notes[-1] = (
                    "passes on the precision ladder: "
                    + notes[-1]
                    + " (the SymPy fallback bound cannot see cancelled terms)"
                )
        if not exact.certified:
            notes.append(
                "exact value not certified by interval arithmetic"
                + (" (precision cap hit)" if exact.capped else "")
            )
        hand_env, hand = _hand(name, grad, points, options, exact.value)
        result = GradientResult(
            param=name,
            formula=str(grad),
            exact=float(exact.value),
            autograd=got_grad,
            abs_error=verdict.abs_error,
            rel_error=verdict.rel_error,
            ulps=verdict.ulps,
            bits=verdict.bits,
            bound=verdict.bound,
            kappa=verdict.kappa,
            tolerance=verdict.tolerance,
            verdict=verdict.verdict,
            ill_conditioned=verdict.ill_conditioned,
            exact_certified=exact.certified,
            bound_method=bounds.method,
            note="; ".join(n for n in notes if n),
            contributions=bounds.contributions[i][:8] if bounds.contributions else (),
            envelope=hand_env,
            expect=hand,
        )
        gradients.append(
            kinks.review(
                result,
                prepared.loss_expr,
                grad,
                points,
                options.reduction,
                options.dtype,
                lambda: torch_side.nan_source(
                    prepared.expr.tree, names, tensors, len(roles.params)
                ),
            )
        )
    return CheckResult(
        model=prepared.expr.text,
        loss=options.loss,
        reduction=options.reduction,
        dtype=options.dtype,
        seed=options.seed,
        samples=options.samples,
        inputs=roles.inputs,
        target=roles.target,
        params=roles.params,
        values=tuple(values.items()),
        z_exact=tuple(float(v) for v in z_exact),
        z_autograd=got.z,
        loss_exact=float(loss_exact),
        loss_autograd=got.loss,
        gradients=tuple(gradients),
        strict=options.strict,
    )


def check(
    model: str, *, lowerings: Mapping[str, Callable[..., Any]] | None = None, **options: Any
) -> CheckResult:
    """Check every gradient of ``model`` under ``options`` (see ``Options``)."""
    if "at" in options and isinstance(options["at"], Mapping):
        options["at"] = tuple(options["at"].items())
    for key in ("inputs", "params"):
        if options.get(key) is not None:
            options[key] = tuple(options[key])
    return check_options(model, Options(**options), lowerings)


def check_options(
    model: str, options: Options, lowerings: Mapping[str, Callable[..., Any]] | None = None
) -> CheckResult:
    return run(prepare(model, options, lowerings))


def _hand(
    name: str, grad: Any, points: list[dict[str, float]], options: Options, center: Any
) -> tuple[Any, Any]:
    """The hand-calculation envelope of one gradient and the verdict on its --expect value."""
    texts = dict(options.expect)
    if options.decimals is None and name not in texts:
        return None, None
    from gradcheck_cli.rounding import hand as handcalc

    typed = decimals_typed(texts[name], name) if name in texts else None
    decimals = options.decimals if options.decimals is not None else typed
    env = handcalc.envelope(
        grad, points, options.reduction, decimals, typed if typed is not None else decimals, center
    )
    return env, (handcalc.classify(name, texts[name], env) if name in texts else None)


def _check_finite(values: Mapping[str, tuple[float, ...]], dtype: str) -> None:
    for name, items in values.items():
        if not all(math.isfinite(v) for v in items):
            raise RoleError(f"value of '{name}' overflows {dtype}")

"""The core check: text -> expression -> gradients -> comparison -> result.

``prepare`` does the work that depends only on the model and its options (parse, roles, SymPy
gradients, lowering); ``run`` evaluates a prepared problem at one seed. ``check`` does both.
Batch runs prepare each distinct model once and run it for many seeds.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from gradcheck_cli.errors import EvaluationError
from gradcheck_cli.expr.catalog import CONSTANTS
from gradcheck_cli.expr.parse import Expr, parse
from gradcheck_cli.losses import draw_targets, loss_spec
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
    autograd: Any = None  # torch_side.Autograd: the traced graph, cached across seeds


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
    constants = _constant_sensitivities(expr, spec, y, roles.params) if _inexact(expr) else ()
    autograd = torch_side.Autograd(forward, len(roles.params), cache=not lowerings)
    return Prepared(
        expr, options, roles, loss_expr, z_expr, grads, forward, spec, constants, autograd
    )


def _inexact(expr: Expr) -> bool:
    """Whether the model may hold a constant torch cannot represent exactly (0.1, pi, 1/3)."""
    return any(
        (isinstance(node, ast.Constant) and not isinstance(node.value, int))
        or (isinstance(node, ast.Name) and node.id in CONSTANTS)
        or isinstance(node, ast.Div | ast.Pow)
        for node in ast.walk(expr.tree)
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
    from gradcheck_cli import torch_side, verdict
    from gradcheck_cli.exact import kinks, typed

    options = prepared.options if seed is None else replace(prepared.options, seed=seed)
    targets = partial(draw_targets, prepared.loss, dtype=options.dtype)
    point = torch_side.sample(prepared.roles, options, targets)
    got, traced, reason = prepared.autograd.run(list(point.tensors))
    loss_exact, loss_problem = _exact(prepared.loss_expr, point.points, options)
    if problem := typed.undefined_where(prepared.expr, list(point.points)):  # as torch runs it
        loss_exact, loss_problem = None, f"{problem}: try another point (--at) or seed (--seed)"
    step = _Gradients(prepared, options, point, got, traced, reason)
    gradients = tuple(step.result(i, loss_problem) for i in range(len(prepared.roles.params)))
    status = verdict.overall((g.verdict for g in gradients), (g.expect for g in gradients))
    roles = prepared.roles
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
        values=point.values,
        z_exact=tuple(float(kinks.exact_or_nan(prepared.z_expr, p)) for p in point.points),
        z_autograd=got.z,
        loss_exact=math.nan if loss_exact is None else float(loss_exact.value),
        loss_autograd=got.loss,
        gradients=gradients,
        status=str(status),
        ok=verdict.success(status, options.strict),
        strict=options.strict,
    )


def _exact(expr: Any, points: tuple[dict[str, float], ...], options: Options) -> tuple[Any, str]:
    """The exact value reduced over the samples, or None and why it does not exist."""
    from gradcheck_cli.exact import evaluate

    try:
        value = evaluate.exact_reduced(expr, list(points), options.reduction, options.dtype)
    except EvaluationError as exc:
        return None, f"{exc.message}: try another point (--at) or seed (--seed)"
    if not mpmath_isfinite(value.value):
        return None, f"'{expr}' is infinite here: try another point (--at) or seed (--seed)"
    return value, ""


def mpmath_isfinite(value: Any) -> bool:
    import mpmath

    return bool(mpmath.isfinite(value))


class _Gradients:
    """The gradients of one run: facts gathered once (the bound over every parameter, the
    precision ladder), each gradient's facts handed to ``verdict.decide``."""

    def __init__(
        self,
        prepared: Prepared,
        options: Options,
        point: Any,
        got: Any,
        traced: Any,
        reason: str,
    ) -> None:
        self.prepared, self.options, self.point, self.got = prepared, options, point, got
        self.traced, self.reason = traced, reason
        self._bounds: Any = None
        self._ladder: tuple[float, ...] | None = None

    def bounds(self) -> Any:
        from gradcheck_cli.rounding import bounds

        if self._bounds is None:
            p, o = self.prepared, self.options
            self._bounds = bounds.rounding_bounds(
                self.traced,
                list(self.point.tensors),
                p.grads,
                list(self.point.points),
                o.reduction,
                o.dtype,
                self.reason,
            )
        return self._bounds

    def ladder(self, i: int) -> float | None:
        from gradcheck_cli.rounding import bounds

        if self._ladder is None:
            n = len(self.prepared.roles.params)
            self._ladder = bounds.ladder(self.prepared.forward, list(self.point.tensors), n)
        return self._ladder[i]

    def nan_source(self) -> str:
        from gradcheck_cli import torch_side

        roles = self.prepared.roles
        names = roles.inputs + ((roles.target,) if roles.target else ()) + roles.params
        return torch_side.nan_source(
            self.prepared.expr.tree, names, list(self.point.tensors), len(roles.params)
        )

    def result(self, i: int, loss_problem: str) -> GradientResult:
        from gradcheck_cli import verdict
        from gradcheck_cli.exact import kinks
        from gradcheck_cli.rounding import bounds as rounding

        p, o, points = self.prepared, self.options, list(self.point.points)
        name, grad, got = p.roles.params[i], p.grads[i], self.got.grads[i]
        exact, problem = (
            (None, loss_problem) if loss_problem else _exact(grad, self.point.points, o)
        )
        if exact is None:
            return _result(name, grad, got, verdict.undefined(problem), None, "none")
        bounds = self.bounds()
        bound = bounds.values[i]
        if p.constants:
            bound += rounding.constant_term(p.constants[i], points, o.reduction, o.dtype)
        notes = (
            bounds.reason and f"bound from the SymPy gradient ({bounds.reason})",
            ""
            if exact.certified
            else "exact value not certified by interval arithmetic"
            + (" (precision cap hit)" if exact.capped else ""),
        )
        facts = verdict.Facts(
            exact.value,
            got,
            bound,
            o.dtype,
            rigorous=bounds.method == "aten",
            notes=notes,
            ladder=lambda: self.ladder(i),
            kinks=lambda: kinks.kink_facts(p.loss_expr, grad, points, name, o.reduction, o.dtype),
            nan_source=self.nan_source,
        )
        envelope, hand = _hand(name, grad, points, o, exact.value)
        contributions = bounds.contributions[i][:8] if bounds.contributions else ()
        return _result(
            name,
            grad,
            got,
            verdict.decide(facts),
            exact,
            bounds.method,
            contributions,
            envelope,
            hand,
        )


def _result(
    name: str,
    grad: Any,
    got: float | None,
    decision: Any,
    exact: Any,
    method: str,
    contributions: Any = (),
    envelope: Any = None,
    hand: Any = None,
) -> GradientResult:
    return GradientResult(
        param=name,
        formula=str(grad),
        exact=math.nan if exact is None else float(exact.value),
        autograd=got,
        abs_error=decision.abs_error,
        rel_error=decision.rel_error,
        ulps=decision.ulps,
        bits=decision.bits,
        bound=decision.bound,
        kappa=decision.kappa,
        tolerance=decision.tolerance,
        verdict=decision.verdict,
        ill_conditioned=decision.ill_conditioned,
        exact_certified=exact is None or exact.certified,
        bound_method=method,
        note=decision.reason,
        contributions=contributions,
        envelope=envelope,
        expect=hand,
        left=decision.left,
        right=decision.right,
        convention=decision.convention,
    )


def check(
    model: str, *, lowerings: Mapping[str, Callable[..., Any]] | None = None, **options: Any
) -> CheckResult:
    """Check every gradient of ``model`` under ``options`` (see ``Options``; ``at`` may be a
    mapping, ``inputs``/``params`` any sequence of names)."""
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
    from gradcheck_cli.verdict import judge_hand

    typed = decimals_typed(texts[name], name) if name in texts else None
    decimals = options.decimals if options.decimals is not None else typed
    env = handcalc.envelope(
        grad, points, options.reduction, decimals, typed if typed is not None else decimals, center
    )
    return env, (judge_hand(name, texts[name], env) if name in texts else None)

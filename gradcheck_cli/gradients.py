"""The gradients of one run: each gradient's facts gathered once and handed to ``verdict``.

For every parameter: the exact value (``undefined`` where it does not exist), the rounding bound
of the graph autograd ran (shared by every parameter), the precision ladder's float64 rung (for
float32 and half-precision checks), the kinks at the point, the hand-calculation envelope
(``forward_hands``: those of the loss and the model output); ``verdict.decide`` turns them
into the verdict, and ``GradientResult`` carries it all to the reports.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gradcheck_cli.errors import EvaluationError
from gradcheck_cli.options import Options, hand_decimals
from gradcheck_cli.results import GradientResult
from gradcheck_cli.roles import forward_sample


def exact_or_undefined(
    expr: Callable[[], Any],
    points: tuple[dict[str, float], ...],
    options: Options,
    certified: Any = None,
) -> tuple[Any, str]:
    """The exact value reduced over the samples: ``certified`` if the compiled program found
    it (then ``expr()``, the SymPy expression, is not built), else that expression evaluated
    by mpmath; or None and why it does not exist."""
    from gradcheck_cli.exact import evaluate

    if certified is not None:
        return certified, ""  # finite: the program's balls are
    expr = expr()
    try:
        value = evaluate.exact_reduced(expr, list(points), options.reduction, options.dtype)
    except EvaluationError as exc:
        return None, f"{exc.message}: try another point (--at) or seed (--seed)"
    if not _isfinite(value.value):
        return None, f"'{expr}' is infinite here: try another point (--at) or seed (--seed)"
    return value, ""


def _isfinite(value: Any) -> bool:
    import mpmath

    return bool(mpmath.isfinite(value))


class Gradients:
    """The gradients of one run: facts gathered once (the bound over every parameter, the
    precision ladder), each gradient's facts handed to ``verdict.decide``."""

    def __init__(
        self,
        prepared: Any,  # pipeline.Prepared
        options: Options,
        point: Any,
        got: Any,
        traced: Any,
        reason: str,
        certified: tuple[Any, ...] = (),
    ) -> None:
        self.prepared, self.options, self.point, self.got = prepared, options, point, got
        self.traced, self.reason = traced, reason
        self.certified = certified  # per gradient: its Exact value from the program, or None
        self._rungs: dict[str, Any] = {}  # dtype -> (autograd's run, its bounds)
        self._differences: list[float] | None = None  # --fd: per parameter

    def rung(self, dtype: str) -> tuple[Any, Any]:
        """Autograd's values and the rounding bounds in ``dtype``: the run's own dtype, or the
        ladder's float64 (the same lowering on the inputs widened exactly)."""
        from gradcheck_cli import torch_side
        from gradcheck_cli.rounding import bounds

        if dtype not in self._rungs:
            p, o = self.prepared, self.options
            got, traced, reason = self.got, self.traced, self.reason
            tensors = list(self.point.tensors)
            if dtype != o.dtype:
                tensors = torch_side.widen(tensors, dtype)
                got, traced, reason = p.autograd.run(tensors)
            found = bounds.rounding_bounds(
                traced, tensors, lambda: p.grads, self.point.points, o.reduction, dtype, reason
            )
            self._rungs[dtype] = (got, found)
        return self._rungs[dtype]

    def bound(self, i: int, dtype: str) -> float:
        """Gradient ``i``'s bound in ``dtype``, with the constants torch holds inexactly."""
        from gradcheck_cli.rounding import bounds

        p, o = self.prepared, self.options
        bound = self.rung(dtype)[1].values[i]
        if p.constants:
            points = self.point.points
            bound += bounds.constant_term(p.constants[i], p.grads[i], points, o.reduction, dtype)
        return bound

    def ladder(self, i: int) -> Any:
        """The float64 rung of a float32, bfloat16 or float16 check (None for float64: the
        top of the ladder)."""
        from gradcheck_cli import verdict

        if self.options.dtype == "float64":
            return None
        got, found = self.rung("float64")
        rigorous = found.method == "aten"
        return verdict.Ladder("float64", got.grads[i], self.bound(i, "float64"), rigorous)

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

        p, o, points = self.prepared, self.options, self.point.points
        name, got = p.roles.params[i], self.got.grads[i]
        known = self.certified[i] if self.certified else None
        exact, problem = (
            (None, loss_problem)
            if loss_problem
            else exact_or_undefined(lambda: p.grads[i], points, o, known)
        )
        if exact is None:
            return _result(name, p, i, got, verdict.undefined(problem), None, "none")
        bounds = self.rung(o.dtype)[1]
        bound = self.bound(i, o.dtype)
        where = (o.reduction, o.dtype)
        graph = bounds.values[i]
        notes = (
            bounds.reason and f"bound from the SymPy gradient ({bounds.reason})",
            f"constants torch holds inexactly (pi, 0.1, ...) move this gradient by up to "
            f"{bound - graph:.3g}, more than rounding in the graph ({graph:.3g})"
            if bound - graph > graph
            else "",
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
            kinks=lambda: (
                kinks.KinkFacts()
                if p.smooth
                else kinks.kink_facts(p.loss_expr, lambda: p.grads[i], points, name, *where)
            ),
            branches=lambda: kinks.near_in_gradient(p.grads[i], points, name, o.dtype),
            nan_source=self.nan_source,
        )
        envelope, hand = _hand(name, lambda: p.grads[i], points, o, exact.value)
        fd = self.finite_difference(i, exact.value) if o.fd else None
        contributions = bounds.contributions[i][:8] if bounds.contributions else ()
        return _result(
            name,
            p,
            i,
            got,
            verdict.decide(facts),
            exact,
            bounds.method,
            contributions,
            envelope,
            hand,
            fd,
        )

    def finite_difference(self, i: int, exact: Any) -> Any:
        """``--fd``: gradcheck's central difference of gradient ``i`` and its conclusion
        against autograd's float64 gradient (the run's own, or the ladder's float64 rung)."""
        from gradcheck_cli import finite_difference as fd

        if self._differences is None:
            p = self.prepared
            self._differences = fd.central_differences(
                p.forward, list(self.point.tensors), len(p.roles.params)
            )
        return fd.column(self._differences[i], exact, self.rung("float64")[0].grads[i])


def _result(
    name: str,
    prepared: Any,
    i: int,
    got: float | None,
    decision: Any,
    exact: Any,
    method: str,
    contributions: Any = (),
    envelope: Any = None,
    hand: Any = None,
    fd: Any = None,
) -> GradientResult:
    return GradientResult(
        param=name,
        expression=prepared.sym.formula(i),
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
        ladder=decision.ladder,
        left=decision.left,
        right=decision.right,
        convention=decision.convention,
        finite_difference=fd,
    )


def _hand(
    name: str,
    grad: Callable[[], Any],
    points: list[dict[str, float]],
    options: Options,
    center: Any,
) -> tuple[Any, Any]:
    """The hand-calculation envelope of one gradient (``grad()``: its SymPy expression) and the
    verdict on its --expect value."""
    texts = dict(options.expect)
    if options.decimals is None and name not in texts:
        return None, None
    from gradcheck_cli.rounding import hand as handcalc
    from gradcheck_cli.verdict import judge_hand

    if name in texts:
        decimals, answer, source = hand_decimals(texts[name], name, options.decimals)
    else:
        decimals, answer, source = options.decimals, options.decimals, "--decimals"
    env = handcalc.envelope(grad(), points, options.reduction, decimals, answer, center, source)
    return env, (judge_hand(name, texts[name], env) if name in texts else None)


def forward_hands(prepared: Any, options: Options, points: Any, loss: Any) -> tuple[Any, ...]:
    """The verdicts on hand values of the forward pass (``--expect loss=`` / ``z=`` /
    ``z[i]=``), judged as a gradient's: the envelope of the loss over every sample, or of the
    model at sample i. A value whose exact counterpart is undefined is not judged (the check
    is undefined already)."""
    from gradcheck_cli.rounding import hand as handcalc
    from gradcheck_cli.verdict import judge_hand

    found = []
    for name, text in options.expect:
        forward = forward_sample(name, prepared.roles.params)
        if forward is None:
            continue
        if forward[0] == "loss":
            expr, at, exact = prepared.loss_expr, list(points), loss
        else:
            expr, at = prepared.z_expr, [points[forward[1]]]
            exact = exact_or_undefined(lambda e=expr: e, (at[0],), options)[0]
        if exact is None:
            continue
        decimals, answer, source = hand_decimals(text, name, options.decimals)
        reduction = options.reduction if forward[0] == "loss" else "sum"
        env = handcalc.envelope(expr, at, reduction, decimals, answer, exact.value, source)
        found.append(judge_hand(name, text, env))
    return tuple(found)


def impl_forward(
    prepared: Any, options: Options, points: Any, exact_z: Any, got_z: Any
) -> tuple[Any, ...]:
    """``--impl``: each sample's z from the user's function against the specification's exact
    value (``exact_z``, the run's own; NaN where undefined: the gradients' verdicts say so)."""
    from gradcheck_cli import verdict
    from gradcheck_cli.results import ForwardCheck
    from gradcheck_cli.rounding.bounds import sympy_bound

    checks = []
    for index, (point, exact, got) in enumerate(zip(points, exact_z, got_z, strict=True)):
        if not math.isfinite(float(exact)):
            continue
        bound = sympy_bound(prepared.z_expr, [point], "sum", options.dtype)
        note = "bound: the specification's rounding as written (SymPy sweep)"
        facts = verdict.Facts(exact, got, bound, options.dtype, rigorous=False, notes=(note,))
        d = verdict.decide(facts)
        checks.append(
            ForwardCheck(
                index, float(exact), got, d.abs_error, d.tolerance, str(d.verdict), d.reason
            )
        )
    return tuple(checks)

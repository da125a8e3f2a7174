"""The gradients of one run: each gradient's facts gathered once and handed to ``verdict``.

For every parameter: the exact value (``undefined`` where it does not exist), the rounding bound
of the graph autograd ran (shared by every parameter), the precision ladder's float64 rung (for
float32 and half-precision checks), the kinks at the point, the hand-calculation envelope
(``forward.forward_hands``: those of the loss and the model output); ``verdict.decide`` turns
them into the verdict, and ``GradientResult`` carries it all to the reports.

Without ``analysis`` (a batch whose report shows only the checks that fail), a gradient that
autograd got as its exact value rounded passes without its rounding bound, which is then not
computed (the bound, tolerance and kappa of its result are None); ``pipeline.run`` asks again
with the analysis for a check that does not pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from gradcheck_cli.errors import EvaluationError
from gradcheck_cli.options import Options, hand_decimals
from gradcheck_cli.results import GradientResult


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
        analysis: bool = True,
    ) -> None:
        self.prepared, self.options, self.point, self.got = prepared, options, point, got
        self.traced, self.reason = traced, reason
        self.certified = certified  # per gradient: its Exact value from the program, or None
        # False: a gradient that autograd got as its exact value rounded passes without its
        # bound, which is then not computed (only a report of a failed check shows it)
        self.analysis = analysis
        # dtype -> autograd there: its values, its recording, why there is none, its inputs
        self._runs: dict[str, Any] = {options.dtype: (got, traced, reason, list(point.tensors))}
        self._rungs: dict[str, Any] = {}  # dtype -> (autograd's run, its bounds)
        self._differences: list[float] | None = None  # --fd: per parameter

    def autograd(self, dtype: str) -> tuple[Any, Any, str, list[Any]]:
        """Autograd in ``dtype``: the run's own, or the ladder's float64 (the same lowering on
        the inputs widened exactly): its values, its recording, why there is none, its inputs."""
        if dtype not in self._runs:
            from gradcheck_cli import torch_side

            tensors = torch_side.widen(list(self.point.tensors), dtype)
            self._runs[dtype] = (*self.prepared.autograd.run(tensors), tensors)
        return self._runs[dtype]

    def rung(self, dtype: str) -> tuple[Any, Any]:
        """Autograd's values and the rounding bounds in ``dtype`` (``autograd``)."""
        if dtype not in self._rungs:
            from gradcheck_cli.rounding import bounds

            p, o = self.prepared, self.options
            got, traced, reason, tensors = self.autograd(dtype)
            found = bounds.rounding_bounds(
                traced, tensors, lambda: p.grads, self.point.points, o.reduction, dtype, reason
            )
            self._rungs[dtype] = (got, found)
        return self._rungs[dtype]

    def unbounded(self, got: float | None, exact: Any, dtype: str) -> bool:
        """True when a gradient's bound in ``dtype`` is left out: no analysis is asked for, none
        is computed yet, and ``got`` is the exact value rounded (a pass whatever the bound)."""
        from gradcheck_cli.dtypes import DTYPES
        from gradcheck_cli.exact.evaluate import round_to

        if self.analysis or dtype in self._rungs or got is None or not math.isfinite(got):
            return False
        return abs(exact) <= DTYPES[dtype].max and got == round_to(exact, dtype)

    def bound(self, i: int, dtype: str) -> float:
        """Gradient ``i``'s bound in ``dtype``, with the constants torch holds inexactly."""
        from gradcheck_cli.rounding import bounds

        p, o = self.prepared, self.options
        bound = self.rung(dtype)[1].values[i]
        if p.constants:
            points = self.point.points
            bound += bounds.constant_term(p.constants[i], p.grads[i], points, o.reduction, dtype)
        return bound

    def ladder(self, i: int, exact: Any) -> Any:
        """The float64 rung of a float32, bfloat16 or float16 check (None for float64: the
        top of the ladder); ``exact``: the gradient's exact value."""
        from gradcheck_cli import verdict

        if self.options.dtype == "float64":
            return None
        got = self.autograd("float64")[0].grads[i]
        if self.unbounded(got, exact, "float64"):
            return verdict.Ladder("float64", got, None, True)
        rigorous = self.rung("float64")[1].method == "aten"
        return verdict.Ladder("float64", got, self.bound(i, "float64"), rigorous)

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
        where = (o.reduction, o.dtype)
        certified = (
            ""
            if exact.certified
            else "exact value not certified by interval arithmetic"
            + (" (precision cap hit)" if exact.capped else "")
        )
        if self.unbounded(got, exact.value, o.dtype):
            bounds, bound, notes = None, None, (certified,)
        else:
            bounds, bound = self.rung(o.dtype)[1], self.bound(i, o.dtype)
            graph = bounds.values[i]
            notes = (
                bounds.reason and f"bound from the SymPy gradient ({bounds.reason})",
                f"constants torch holds inexactly (pi, 0.1, ...) move this gradient by up to "
                f"{bound - graph:.3g}, more than rounding in the graph ({graph:.3g})"
                if bound - graph > graph
                else "",
                certified,
            )
        facts = verdict.Facts(
            exact.value,
            got,
            bound,
            o.dtype,
            rigorous=bounds is None or bounds.method == "aten",
            notes=notes,
            ladder=lambda: self.ladder(i, exact.value),
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
        contributions = bounds.contributions[i][:8] if bounds and bounds.contributions else ()
        return _result(
            name,
            p,
            i,
            got,
            verdict.decide(facts),
            exact,
            "" if bounds is None else bounds.method,
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
        return fd.column(self._differences[i], exact, self.autograd("float64")[0].grads[i])


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

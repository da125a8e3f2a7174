"""Result objects: frozen dataclasses with ``to_dict()``.

The table and the JSON are both drawn from these objects, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from gradcheck_cli.outcomes import FiniteDifference, HandCheck, json_number
from gradcheck_cli.provenance import versions

_number = json_number


@lru_cache(maxsize=4096)
def printed(expression: Any) -> str:
    """A SymPy expression as the reports show it (printed once per gradient of a model)."""
    return str(expression)


@dataclass(frozen=True)
class GradientResult:
    param: str
    expression: Any = field(repr=False)  # the exact gradient: printed when read (SymPy or
    # exact.symbolic.Formula, which builds it then), text once pickled
    exact: float  # the exact value rounded to float64 (correctly rounded when certified)
    autograd: float | None
    abs_error: float
    rel_error: float | None
    ulps: float | None
    bits: float | None
    bound: float | None  # None with tolerance and kappa: not computed (``analysed``)
    kappa: float | None
    tolerance: float | None
    verdict: str  # pass, fail, kink (no derivative: torch's convention), undefined
    ill_conditioned: bool = False
    exact_certified: bool = True
    bound_method: str = "aten"
    note: str = ""
    contributions: tuple[tuple[str, str, float], ...] = ()  # (node, aten op, share of bound)
    envelope: Any = None  # handcalc.Envelope when --decimals or --expect asked for it
    expect: Any = None  # handcalc.HandCheck for an --expect value
    ladder: Any = None  # outcomes.LadderCheck: the float64 rung of a float32 check
    left: float | None = None  # one-sided derivatives at a kink
    right: float | None = None
    convention: str = ""  # torch's convention at a kink
    forward: Any = None  # GradientResult of forward mode (--mode forward or both), else None
    finite_difference: FiniteDifference | None = None  # --fd

    @property
    def analysed(self) -> bool:
        """False: a pass whose rounding bound (here or on the ladder) was not computed, as a
        batch that reports failed checks alone asks (``gradients.Gradients``)."""
        ladder = self.ladder is None or self.ladder.tolerance is not None
        return self.tolerance is not None and ladder

    @property
    def formula(self) -> str:
        if self.expression is None:  # a bug: the batch asked only for failed cases' formulas
            raise LookupError(f"the formula of d loss/d {self.param} was not sent by its worker")
        return printed(self.expression)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (batch workers send results) with the formula as text: unpickling a SymPy
        expression rebuilds it node by node, milliseconds per gradient in the parent."""
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        text = None if self.expression is None else self.formula
        return _gradient_result, (state | {"expression": text},)

    def to_dict(self) -> dict[str, Any]:
        return {
            "param": self.param,
            "formula": self.formula,
            "exact": _number(self.exact),
            "autograd": _number(self.autograd),
            "abs_error": _number(self.abs_error),
            "rel_error": _number(self.rel_error),
            "ulps": _number(self.ulps),
            "bits": _number(self.bits),
            "bound": _number(self.bound),
            "kappa": _number(self.kappa),
            "tolerance": _number(self.tolerance),
            "verdict": self.verdict,
            "ill_conditioned": self.ill_conditioned,
            "exact_certified": self.exact_certified,
            "bound_method": self.bound_method,
            "note": self.note,
            "contributions": [
                {"expression": n, "op": op, "amount": _number(a)} for n, op, a in self.contributions
            ],
            "envelope": self.envelope.to_dict() if self.envelope else None,
            "expect": self.expect.to_dict() if self.expect else None,
            "ladder": None
            if self.ladder is None
            else {
                "dtype": self.ladder.dtype,
                "autograd": _number(self.ladder.autograd),
                "abs_error": _number(self.ladder.abs_error),
                "tolerance": _number(self.ladder.tolerance),
                "passed": self.ladder.passed,
            },
            "left": _number(self.left),
            "right": _number(self.right),
            "convention": self.convention,
            "forward": None if self.forward is None else self.forward.summary(),
            "finite_difference": self.finite_difference.to_dict()
            if self.finite_difference
            else None,
        }

    def summary(self) -> dict[str, Any]:
        """The judged value without the analysis: a forward-mode value, a second derivative."""
        whole = self.to_dict()
        return {key: whole[key] for key in SUMMARY}


def _gradient_result(state: dict[str, Any]) -> GradientResult:
    return GradientResult(**state)


SUMMARY = ("formula", "exact", "autograd", "abs_error", "rel_error", "ulps", "bound")
SUMMARY += ("tolerance", "verdict", "exact_certified", "bound_method", "note")


@dataclass(frozen=True)
class HessianResult:
    """A second derivative d2 loss / d params[0] d params[1], judged as a gradient is."""

    params: tuple[str, str]
    entry: GradientResult

    @property
    def verdict(self) -> str:
        return self.entry.verdict

    def label(self) -> str:
        a, b = self.params
        return f"d2/d{a}2" if a == b else f"d2/d{a} d{b}"

    def to_dict(self) -> dict[str, Any]:
        return {"params": list(self.params), **self.entry.summary()}


@dataclass(frozen=True)
class ForwardCheck:
    """``--impl``: the user's model output at one sample against the specification's exact
    value, judged like a gradient (``verdict.decide``) against the rounding bound of the
    specification evaluated as written (a SymPy sweep: the user's code may round otherwise)."""

    sample: int
    exact: float
    autograd: float
    abs_error: float
    tolerance: float
    verdict: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample": self.sample,
            "exact": _number(self.exact),
            "autograd": _number(self.autograd),
            "abs_error": _number(self.abs_error),
            "tolerance": _number(self.tolerance),
            "verdict": self.verdict,
            "note": self.note,
        }


@dataclass(frozen=True)
class CheckResult:
    model: str
    loss: str
    reduction: str
    dtype: str
    seed: int
    samples: int
    inputs: tuple[str, ...]
    target: str | None
    params: tuple[str, ...]
    values: tuple[tuple[str, tuple[float, ...]], ...]
    z_exact: tuple[float, ...]
    z_autograd: tuple[float, ...]
    loss_exact: float
    loss_autograd: float
    gradients: tuple[GradientResult, ...]
    forward_expect: tuple[HandCheck, ...] = ()  # --expect values of the loss and of z
    status: str = "pass"  # the worst verdict (verdict.overall): pass, kink, undefined, fail
    ok: bool = True  # success, exit code 0: a pass, or a kink unless strict (verdict.success)
    strict: bool = False  # a kink counts as a failure
    impl_forward: tuple[ForwardCheck, ...] = ()  # --impl: its z against the specification
    mode: str = "reverse"  # the autograd mode checked: reverse, forward or both
    hessian: tuple[HessianResult, ...] = ()  # --order 2: each pair of parameters once

    def to_dict(self) -> dict[str, Any]:
        def scalar_or_list(items: tuple[float, ...]) -> Any:
            numbers = [_number(v) for v in items]
            return numbers[0] if len(numbers) == 1 else numbers

        return {
            "status": self.status,
            "model": self.model,
            "loss": self.loss,
            "reduction": self.reduction,
            "dtype": self.dtype,
            "seed": self.seed,
            "samples": self.samples,
            "roles": {
                "inputs": list(self.inputs),
                "target": self.target,
                "params": list(self.params),
            },
            "values": {name: scalar_or_list(v) for name, v in self.values},
            "z": {
                "exact": scalar_or_list(self.z_exact),
                "autograd": scalar_or_list(self.z_autograd),
            },
            "loss_value": {
                "exact": _number(self.loss_exact),
                "autograd": _number(self.loss_autograd),
            },
            "mode": self.mode,
            "gradients": [g.to_dict() for g in self.gradients],
            "hessian": [h.to_dict() for h in self.hessian],
            "forward_expect": [h.to_dict() for h in self.forward_expect],
            "impl_forward": [f.to_dict() for f in self.impl_forward],
            "versions": dict(versions()),
        }

    def hand_rows(self) -> list[tuple[str, float, Any, HandCheck | None]]:
        """(name, exact, envelope, hand value or None) of every hand calculation: the
        gradients', then the forward pass's (loss, z)."""
        rows = [(g.param, g.exact, g.envelope, g.expect) for g in self.gradients if g.envelope]
        return rows + [(h.param, h.envelope.center, h.envelope, h) for h in self.forward_expect]

    def further(self) -> list[tuple[str, GradientResult]]:
        """(label, result) of what is judged beside the gradients: forward mode's values
        (``--mode both``) and the second derivatives (``--order 2``)."""
        found = [(f"{g.param} (forward)", g.forward) for g in self.gradients if g.forward]
        found = found if self.mode == "both" else []
        return found + [(h.label(), h.entry) for h in self.hessian]

    def problems(self) -> list[str]:
        """What did not pass, by kind: ``disagree: w``, ``kink: w``, ``undefined (w, b): 'log(w)'
        is undefined at this point (...)``, ``hand value a mistake: loss``."""
        found = [
            f"--impl forward value differs from the specification at sample {f.sample}: "
            f"{f.autograd!r} vs exact {f.exact!r}"
            for f in self.impl_forward
            if f.verdict == "fail"
        ]
        judged = [(g.param, g) for g in self.gradients] + self.further()
        for kind in ("fail", "undefined", "kink"):
            bad = [g for _, g in judged if g.verdict == kind]
            names = ", ".join(name for name, g in judged if g.verdict == kind)
            if bad and kind == "undefined":
                why = dict.fromkeys(g.note.partition(": try another point")[0] for g in bad)
                found.append(f"undefined ({names}): {'; '.join(why)}")
            elif bad:
                found.append(f"{'disagree' if kind == 'fail' else kind}: {names}")
        mistakes = [
            h.param for _, _, _, h in self.hand_rows() if h and h.classification == "mistake"
        ]
        if mistakes:
            found.append(
                f"hand value{'s' if len(mistakes) > 1 else ''} a mistake: {', '.join(mistakes)}"
            )
        return found

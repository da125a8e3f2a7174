"""The only place a verdict is decided: facts in, one ``Verdict`` and its reason out.

Facts about one gradient (``Facts``): its exact value, autograd's value, the rounding bound and
whether that bound is rigorous (the traced aten graph) or only the SymPy fallback, the precision
ladder (for float32, bfloat16 and float16: the same computation run in float64, with its own
bound), and, asked for
only when the decision needs them, the kinks at the point and where a NaN came from.

The rules, in order:

1. ``undefined``: the exact loss or gradient does not exist at the point.
2. Measure: ``abs_error``, ``rel_error``, ``ulps`` (units of the last place of the exact value in
   the dtype), ``bits`` (log2(1 + floats between autograd and the correctly rounded exact
   value)), ``kappa`` = bound / (u * |exact|). Within tolerance when ``abs_error <= SAFETY *
   bound`` (plus the smallest subnormal) or when autograd returned the correctly rounded exact
   value (an exact value that underflows to 0 passes when autograd gives 0; such a pass needs
   no bound, and a batch that reports failed checks alone leaves it out: ``Facts.bound``
   None). A NaN or an infinity where the exact value is finite is a fail; a finite exact
   value beyond the dtype's range expects an infinity of the right sign. An infinite bound
   (an intermediate overflows the dtype) covers nothing: only the correctly rounded value
   passes.
3. Beyond tolerance, the precision ladder speaks (float32 or half precision recomputed in
   float64: rounding shrinks by 2^-29 or more, a real error does not); where the bound is
   only the SymPy fallback (which may cancel terms torch computes, as in a - a), an error that
   shrinks like rounding passes.
4. A kink exactly at the point (a switch whose one-sided derivatives differ, or a jump): no
   derivative exists, so any value between the one-sided derivatives is torch's legitimate
   convention (``kink``); a value outside them is a ``fail``.
5. Still failing: a switch within rounding error of the point is a ``kink`` (the dtype may take
   the other branch), a switch of the loss or of the gradient's own formula (bce's backward
   clamps z(1-z) at 1e-12: where z rounds to 1, float32 takes the other branch); a NaN names the
   sub-expression that produced it.
6. A float32 (or half-precision) pass whose float64 rung is off beyond the float64 graph's
   rigorous tolerance is a ``fail``: an error too small for the dtype to show (a backward
   wrong by a relative 1e-7 in float32).

``ill_conditioned`` flags a pass where kappa leaves fewer than half the dtype's bits correct.
A check's status is its worst verdict, and a hand value that is a mistake fails it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import mpmath

from gradcheck_cli.dtypes import DTYPES, floats_between, ulp
from gradcheck_cli.exact.evaluate import round_to
from gradcheck_cli.exact.kinks import KinkFacts
from gradcheck_cli.outcomes import HandCheck, LadderCheck, Verdict

SAFETY = 4  # first-order bound: covers O(u^2) terms and libm results a little worse than 1 ulp
SHRINK = 2.0**-20  # a float64 error this much smaller than float32's is rounding


@dataclass(frozen=True)
class Ladder:
    """The same gradient run one rung up (float32 -> float64): the same lowering, the user's
    functions included, on the same inputs widened exactly, with its own bound."""

    dtype: str
    autograd: float | None
    bound: float | None  # None: not computed, autograd is the exact value rounded (a pass)
    rigorous: bool  # the bound of the traced float64 graph (not the SymPy fallback)


@dataclass(frozen=True)
class Facts:
    exact: Any  # mpmath number
    autograd: float | None  # None: autograd gave no gradient (unused parameter)
    bound: float | None  # None: not computed, autograd is the exact value rounded (a pass)
    dtype: str
    rigorous: bool = True  # False: the bound is the SymPy fallback
    notes: tuple[str, ...] = ()  # facts to report with the verdict (bound method, certification)
    ladder: Callable[[], Ladder | None] = field(default=lambda: None, repr=False)
    kinks: Callable[[], KinkFacts] = field(default=KinkFacts, repr=False)
    branches: Callable[[], tuple[Any, ...]] = field(default=tuple, repr=False)  # gradient's own
    nan_source: Callable[[], str] = field(default=lambda: "", repr=False)


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str  # the note shown with the verdict ("" when a plain pass)
    abs_error: float
    rel_error: float | None
    ulps: float | None
    bits: float | None
    bound: float | None  # None with tolerance and kappa: the bound was not computed
    kappa: float | None
    tolerance: float | None
    ill_conditioned: bool = False
    left: float | None = None  # one-sided derivatives at a kink
    right: float | None = None
    convention: str = ""  # torch's convention at a kink
    ladder: LadderCheck | None = None


def undefined(reason: str) -> Decision:
    """Rule 1: the exact value does not exist at the point."""
    nan = math.nan
    return Decision(Verdict.UNDEFINED, reason, nan, None, None, None, nan, None, nan)


def decide(facts: Facts) -> Decision:
    """Rules 2 to 6 for one gradient."""
    decision = _measure(facts)
    rung = facts.ladder()
    check = _rung(facts.exact, rung)
    decision = replace(decision, ladder=check)
    notes = [decision.reason, *facts.notes]
    got = facts.autograd
    if decision.verdict is Verdict.FAIL and got is not None and math.isfinite(got):
        got64 = rung.autograd if rung else None
        notes.insert(2, confirm(facts.exact, got, got64, facts.dtype))
        if not facts.rigorous and shrinks(facts.exact, got, got64, facts.dtype):
            decision = _with(decision, Verdict.PASS)
            notes[2] = (
                f"passes on the precision ladder: {notes[2]} "
                "(the SymPy fallback bound cannot see cancelled terms)"
            )
    decision = _with(decision, decision.verdict, "; ".join(n for n in notes if n))
    return _kinks(decision, facts, rung)


def _rung(exact: Any, rung: Ladder | None) -> LadderCheck | None:
    """The float64 rung judged against its own tolerance (None where there is no rung)."""
    if rung is None:
        return None
    d = DTYPES[rung.dtype]
    tolerance = None if rung.bound is None else SAFETY * rung.bound + d.tiny
    got = 0.0 if rung.autograd is None else rung.autograd
    if not math.isfinite(got):  # right only as the overflow of an exact value beyond range
        right = math.isinf(got) and got * exact > 0 and abs(exact) > d.max
        return LadderCheck(rung.dtype, rung.autograd, 0.0 if right else math.inf, tolerance, right)
    error = abs(mpmath.mpf(got) - exact)
    passed = got == round_to(exact, rung.dtype) or (tolerance is not None and error <= tolerance)
    return LadderCheck(rung.dtype, rung.autograd, float(error), tolerance, bool(passed))


def _kinks(decision: Decision, facts: Facts, rung: Ladder | None) -> Decision:
    """Rules 4 to 6."""
    kinks = facts.kinks()
    left, right = kinks.left, kinks.right
    differ = (
        left is None or right is None or not math.isclose(left, right, rel_tol=1e-20, abs_tol=1e-25)
    )
    if kinks.at and (differ or any(k.jump for k in kinks.at)):
        k = kinks.at[0]
        passed = decision.verdict is Verdict.PASS
        reason = (
            f"kink at '{k.where}': left derivative {left}, right {right}; torch's "
            f"convention: {k.convention}"
        )
        inside = passed or _between(facts.autograd, left, right, decision.tolerance)
        verdict = Verdict.KINK if inside else Verdict.FAIL
        return _with(decision, verdict, reason, left=left, right=right, convention=k.convention)
    near = kinks.near or (facts.branches() if decision.verdict is Verdict.FAIL else ())
    if near and decision.verdict is Verdict.FAIL:
        k = near[0]
        reason = (
            f"'{k.where}' is within rounding error of its switch: {facts.dtype} may take "
            f"the other branch ({k.convention})"
        )
        return _with(decision, Verdict.KINK, reason, convention=k.convention)
    if decision.verdict is Verdict.PASS and not near:
        return _below_resolution(decision, rung, facts.dtype)
    if facts.autograd is not None and math.isnan(facts.autograd):
        return _with(decision, Verdict.FAIL, f"autograd returned NaN: {facts.nan_source()}")
    return decision


def _below_resolution(decision: Decision, rung: Ladder | None, dtype: str) -> Decision:
    """Rule 6: a pass whose float64 rung is wrong beyond its rigorous bound is an error too
    small for the check's dtype to show."""
    check = decision.ladder
    if check is None or check.passed or rung is None or not rung.rigorous:
        return decision
    reason = (
        f"wrong below {dtype}'s resolution: the same computation in {check.dtype} is off by "
        f"{check.abs_error:.3g}, beyond its tolerance {check.tolerance:.3g}"
    )
    note = "; ".join(n for n in (reason, decision.reason) if n)
    return _with(decision, Verdict.FAIL, note)


def _with(
    decision: Decision, verdict: Verdict, reason: str | None = None, **extra: Any
) -> Decision:
    return replace(
        decision, verdict=verdict, reason=decision.reason if reason is None else reason, **extra
    )


def _between(got: float | None, left: float | None, right: float | None, slack: float) -> bool:
    if got is None or left is None or right is None or math.isnan(got):
        return False
    return min(left, right) - slack <= got <= max(left, right) + slack


def _measure(facts: Facts) -> Decision:
    """Rule 2: the error against the exact value, and whether rounding explains it."""
    exact, bound, dtype = facts.exact, facts.bound, facts.dtype
    d = DTYPES[dtype]
    tolerance = None if bound is None else SAFETY * bound + d.tiny
    kappa = (
        None
        if exact == 0 or bound is None
        else float(mpmath.mpf(bound) / (d.unit_roundoff * abs(exact)))
    )
    unused = "autograd gave no gradient (parameter unused): taken as 0"
    note = unused if facts.autograd is None else ""
    got = 0.0 if facts.autograd is None else facts.autograd
    if math.isnan(got):
        reason = "autograd returned NaN where the exact gradient is finite"
        return Decision(Verdict.FAIL, reason, math.nan, None, None, None, bound, kappa, tolerance)
    beyond = abs(exact) > d.max
    if math.isinf(got) or beyond:
        if math.isinf(got) and beyond and math.copysign(1, got) == mpmath.sign(exact):
            reason = f"overflow: the exact value is beyond {dtype}'s range"
            return Decision(Verdict.PASS, reason, 0.0, 0.0, 0.0, 0.0, bound, kappa, tolerance)
        what = "returned an infinity" if math.isinf(got) else "is finite"
        reason = f"autograd {what}; exact value {mpmath.nstr(exact, 8)}"
        inf = math.inf
        return Decision(Verdict.FAIL, reason, inf, inf, None, None, bound, kappa, tolerance)
    error = abs(mpmath.mpf(got) - exact)
    rounded = round_to(exact, dtype)
    ulps = float(error / ulp(rounded, dtype))
    bits = math.log2(1 + floats_between(got, rounded, dtype))
    rel = None if exact == 0 else float(error / abs(exact))
    if got == rounded:  # the correctly rounded value is the best any float computation can do
        passed = True
    elif bound is None:
        raise ValueError("a gradient not rounded from its exact value needs its bound")
    elif math.isinf(bound):
        note = "; ".join(
            n
            for n in (
                note,
                f"an intermediate overflows {dtype}, so no rounding bound covers the difference",
            )
            if n
        )
        return Decision(Verdict.FAIL, note, float(error), rel, ulps, bits, bound, kappa, tolerance)
    else:
        passed = error <= tolerance
    ill = passed and kappa is not None and kappa > 2.0 ** (d.bits / 2)
    verdict = Verdict.PASS if passed else Verdict.FAIL
    return Decision(verdict, note, float(error), rel, ulps, bits, bound, kappa, tolerance, ill)


def shrinks(exact: Any, got: float, got64: float | None, dtype: str) -> bool:
    """True when the float64 recomputation removes the error as rounding would."""
    if dtype == "float64" or got64 is None or not math.isfinite(got64) or not math.isfinite(got):
        return False
    err32, err64 = abs(mpmath.mpf(got) - exact), abs(mpmath.mpf(got64) - exact)
    return err32 > 0 and err64 <= err32 * SHRINK


def confirm(exact: Any, got: float, got64: float | None, dtype: str) -> str:
    """The precision ladder's word on a failure: rounding shrinks in float64, an error does not."""
    if dtype == "float64" or got64 is None:
        return "no higher precision to confirm with (float64 is the top of the ladder)"
    if not (math.isfinite(got) and math.isfinite(got64)):
        return ""
    err32, err64 = abs(mpmath.mpf(got) - exact), abs(mpmath.mpf(got64) - exact)
    if err32 == 0:
        return ""
    if err64 <= err32 * SHRINK:
        shrink = "exactly" if err64 == 0 else f"by 2^{math.log2(float(err64 / err32)):.0f}"
        return f"float64 error shrinks {shrink}: {dtype} arithmetic, not the backward's formula"
    return (
        f"confirmed by float64: its error {float(err64):.3g} does not shrink "
        f"({dtype} {float(err32):.3g}): a real error"
    )


def judge_hand(param: str, text: str, envelope: Any) -> HandCheck:
    """A hand-computed value against its envelope (``rounding.hand.Envelope``)."""
    distance = abs(mpmath.mpf(text) - mpmath.mpf(envelope.center))
    radii = float(distance / envelope.radius) if envelope.radius else float("inf")
    if distance <= envelope.radius:
        kind = "rounding"
    elif distance <= envelope.lenient_radius:
        kind = "rounding (intermediates)"
    else:
        kind = "mistake"
    return HandCheck(param, float(text), text, kind, float(distance), radii, envelope)


def overall(verdicts: Iterable[str], hands: Iterable[HandCheck | None] = ()) -> Verdict:
    """A check's status: its worst verdict (fail, undefined, kink, pass); a hand value that is a
    mistake makes it fail."""
    found = set(verdicts)
    if any(h is not None and h.classification == "mistake" for h in hands):
        found.add(Verdict.FAIL)
    order = (Verdict.FAIL, Verdict.UNDEFINED, Verdict.KINK)
    return next((v for v in order if v in found), Verdict.PASS)


def success(status: str, strict: bool) -> bool:
    """Exit code 0: a pass, or a kink unless ``strict``."""
    return status == Verdict.PASS or (status == Verdict.KINK and not strict)

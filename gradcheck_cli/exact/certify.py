"""Certified values from a compiled program (``exact/program.py``) at a run's points.

``certify`` evaluates the program at every point in Arb balls and raises the precision as
``evaluate.exact_reduced`` does (128 bits, doubling up to MAX_PRECISION) until each enclosure,
reduced over its points, rounds to one value of the dtype and is 2^-80 narrow, so a value found
here is certified. An output without a value somewhere (undefined, a branch a ball straddles,
beyond the caps) or beyond every dtype's range is left to the mpmath path, which evaluates it
as before and says why.

One pass streams the points: a job over every point adds each point's ball to its sum as it
comes (left to right, as ``sum`` would), a job over given points is judged once its last point
is evaluated, and no point's balls outlive it. Only the jobs still too wide, at only the points
and steps they need, are evaluated again at twice the precision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
from flint import arb
from mpmath import libmp

from gradcheck_cli.exact.ball import precision
from gradcheck_cli.exact.evaluate import (
    ABSOLUTE_BITS,
    BEYOND_BITS,
    MAX_PRECISION,
    WIDTH_BITS,
    Exact,
    round_to,
)
from gradcheck_cli.exact.program import FAILURES, Program

__all__ = ["WIDER", "Job", "certify", "evaluator", "judge", "run"]


@dataclass(frozen=True)
class Job:
    """An output to certify: over ``points`` (indices; None: all), reduced (``sum``/``mean``),
    to round to one value of ``dtype``; ``dtype`` None: only whether it has a value."""

    output: int
    reduction: str = "sum"
    dtype: str | None = "float64"
    points: tuple[int, ...] | None = None


def certify(program: Program, points: Sequence[Mapping[str, float]], jobs: Sequence[Job]) -> list:
    """Per job: its ``Exact`` value (certified), True for a job that only asks whether the
    output has a value and has one, or None where the mpmath path must say (no value here,
    beyond every dtype's range, or not narrow enough at MAX_PRECISION)."""
    results: list[Any] = [None] * len(jobs)
    pending = list(range(len(jobs)))
    prec = 128
    while pending and prec <= MAX_PRECISION:
        judged = _Pass(program, points, [jobs[j] for j in pending], prec).results
        for j, result in zip(pending, judged, strict=True):
            results[j] = result
        pending, prec = [j for j in pending if results[j] is WIDER], prec * 2
    return [None if r is WIDER else r for r in results]


WIDER = object()  # not narrow enough yet: again at twice the precision
_OPEN = object()  # not judged yet in this pass


def run(program: Program, points: Sequence[Mapping[str, float]], prec: int) -> list[list[Any]]:
    """Per point, the ``arb`` of each output at ``prec`` bits (None: no value here)."""
    slots = [o for o in program.outputs if o is not None]
    with precision(prec) as ctx:
        evaluate = evaluator(ctx, program, slots)
        return [
            [None if o is None else values[o] for o in program.outputs]
            for values in map(evaluate, points)
        ]


def evaluator(ctx: Any, program: Program, slots: Sequence[int]) -> Callable[[Any], list]:
    """point -> the values of the program's slots at ``ctx``'s precision (None: no value),
    each of ``slots`` computed (and what it needs; other slots stay None)."""
    needed = _needed(program, slots)
    base: list[Any] = [None] * program.size
    for step in program.constants:
        base[step[0]] = _bound(ctx, step)(base)
    inputs = [(slot, name) for slot, name in program.inputs if slot in needed]
    steps = [(s[0], _bound(ctx, s)) for s in program.steps if s[0] in needed]

    def evaluate(point: Mapping[str, float]) -> list[Any]:
        values = base.copy()
        for slot, name in inputs:
            values[slot] = arb(point[name])
        for slot, compute in steps:
            values[slot] = compute(values)
        return values

    return evaluate


def _needed(program: Program, slots: Sequence[int]) -> set[int]:
    needed = set(slots)
    for slot, _, args, _ in reversed(program.steps):
        if slot in needed:
            needed.update(args)
    return needed


def _bound(ctx: Any, step: Any) -> Callable[[list], Any]:
    """values -> the step's value (None: none), its function and argument slots bound once.
    A step without a value (an argument without one unless lazy, a failure, a result that
    is not finite) is None."""
    _, fn, args, lazy = step
    if not lazy and len(args) == 1:
        (a,) = args

        def compute(values: list) -> Any:
            x = values[a]
            if x is None:
                return None
            try:
                value = fn(ctx, x)
            except FAILURES:
                return None
            return value if value.is_finite() else None

    elif not lazy and len(args) == 2:
        a, b = args

        def compute(values: list) -> Any:
            x, y = values[a], values[b]
            if x is None or y is None:
                return None
            try:
                value = fn(ctx, x, y)
            except FAILURES:
                return None
            return value if value.is_finite() else None

    else:

        def compute(values: list) -> Any:
            given = [values[i] for i in args]
            if not lazy and any(v is None for v in given):
                return None
            try:
                value = fn(ctx, *given)
            except FAILURES:
                return None
            return value if value.is_finite() else None

    return compute


class _Pass:
    """One pass over the points at ``prec`` bits: ``results``, per job its value, None,
    True (a value everywhere) or WIDER."""

    def __init__(self, program: Program, points: Sequence[Any], jobs: Sequence[Job], prec: int):
        self.jobs, self.prec, self.count = jobs, prec, len(points)
        self.results: list[Any] = [_OPEN] * len(jobs)
        self.slots = [program.outputs[job.output] for job in jobs]
        self.sums: dict[int, Any] = {}  # job over every point -> its sum so far (None: no term)
        self.due: dict[int, list[int]] = {}  # point -> the jobs over given points needing it
        self.kept: dict[int, dict[int, Any]] = {}  # such a job -> its balls so far
        self.need: dict[int, int] = {}  # such a job -> how many points it needs
        for j, job in enumerate(jobs):
            if self.slots[j] is None:
                self.results[j] = None  # not compiled: the mpmath path
            elif not job.points:
                self.sums[j] = None
            else:
                self.kept[j], self.need[j] = {}, len(set(job.points))
                for k in set(job.points):
                    self.due.setdefault(k, []).append(j)
        order = range(len(points)) if self.sums else sorted(self.due)
        slots = [s for j, s in enumerate(self.slots) if self.results[j] is _OPEN]
        with precision(prec) as ctx:
            evaluate = evaluator(ctx, program, slots)
            for k in order:
                self.visit(k, evaluate(points[k]))
            for j in self.sums:
                self.results[j] = self.reduced(j, self.sums[j], self.count)

    def visit(self, k: int, values: list[Any]) -> None:
        sums, slots = self.sums, self.slots
        for j, total in sums.items():
            ball = values[slots[j]]
            if ball is None or total is _NONE:
                sums[j] = _NONE
            else:
                sums[j] = ball if total is None else total + ball
        for j in self.due.get(k, ()):
            kept = self.kept[j]
            kept[k] = values[slots[j]]
            if len(kept) == self.need[j]:  # the job's last point
                self.results[j] = self.given(j, [kept[i] for i in self.jobs[j].points])
                del self.kept[j]

    def given(self, j: int, balls: list[Any]) -> Any:
        if any(b is None for b in balls):
            return None
        if self.jobs[j].dtype is None:
            return True
        total = balls[0]
        for b in balls[1:]:
            total = total + b
        return self.reduced(j, total, len(balls))

    def reduced(self, j: int, total: Any, count: int) -> Any:
        job = self.jobs[j]
        if total is _NONE:
            return None
        if job.dtype is None:
            return True
        return judge(total / count if job.reduction == "mean" else total, job.dtype, self.prec)


_NONE = object()  # a sum with a term without a value


def judge(ball: arb, dtype: str, prec: int) -> Any:
    """A reduced enclosure judged as ``evaluate.exact_reduced`` judges one: None beyond every
    dtype's range (the mpmath path gives its marker), WIDER unless ``evaluate.narrow``,
    else the certified midpoint at ``prec`` bits. In mpmath's own low-level functions, with
    its working precision and rounding, so that each comparison and value is mpmath's."""
    lo, hi = ball.lower()._mpf_, ball.upper()._mpf_
    if libmp.mpf_gt(lo, _BEYOND) or libmp.mpf_lt(hi, _NEG_BEYOND):
        return None
    if not _narrow(lo, hi, dtype):
        return WIDER
    middle = libmp.mpf_div(libmp.mpf_add(lo, hi, prec, _NEAREST), _TWO, prec, _NEAREST)
    return Exact(mpmath.mp.make_mpf(middle), True, prec)


def _narrow(lo: tuple, hi: tuple, dtype: str) -> bool:
    """``evaluate.narrow(lo, hi, dtype)`` on mpmath's raw numbers, step by step."""
    p = mpmath.mp.prec
    width = libmp.mpf_sub(hi, lo, p, _NEAREST)
    low, high = libmp.mpf_abs(lo, p, _NEAREST), libmp.mpf_abs(hi, p, _NEAREST)
    larger = high if libmp.mpf_gt(high, low) else low  # max(abs(lo), abs(hi))
    narrow = libmp.mpf_le(width, libmp.mpf_mul(larger, _WIDTH, p, _NEAREST))
    if not (narrow or libmp.mpf_le(width, _ABSOLUTE)):
        return False
    if dtype == "float64":  # round_to: float(), mpmath's nearest double
        return libmp.to_float(lo, rnd=_NEAREST) == libmp.to_float(hi, rnd=_NEAREST)
    make = mpmath.mp.make_mpf
    return round_to(make(lo), dtype) == round_to(make(hi), dtype)


_NEAREST = libmp.round_nearest  # mpmath.mp's rounding
_TWO = libmp.from_int(2)
_BEYOND = mpmath.ldexp(1, BEYOND_BITS)._mpf_
_NEG_BEYOND = libmp.mpf_neg(_BEYOND)
_WIDTH = mpmath.ldexp(1, -WIDTH_BITS)._mpf_
_ABSOLUTE = mpmath.ldexp(1, -ABSOLUTE_BITS)._mpf_

"""Certified values from a compiled program (``exact/program.py``) at a run's points.

``run`` evaluates the program at every point in Arb balls; ``certify`` raises the precision as
``evaluate.exact_reduced`` does (128 bits, doubling up to MAX_PRECISION) until each enclosure,
reduced over its points, rounds to one value of the dtype and is 2^-80 narrow, so a value found
here is certified. An output without a value somewhere (undefined, a branch a ball straddles,
beyond the caps) or beyond every dtype's range is left to the mpmath path, which evaluates it
as before and says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
from flint import arb

from gradcheck_cli.exact.ball import Ball, precision
from gradcheck_cli.exact.evaluate import BEYOND_BITS, MAX_PRECISION, Exact, narrow
from gradcheck_cli.exact.program import FAILURES, Program

__all__ = ["Job", "certify", "run"]


def run(program: Program, points: Sequence[Mapping[str, float]], prec: int) -> list[list[Any]]:
    """Per point, the ball of each output at ``prec`` bits (None: no value here)."""
    with precision(prec) as ctx:
        base: list[Any] = [None] * program.size
        for step in program.constants:
            base[step[0]] = _apply(ctx, step, base)
        found = []
        for point in points:
            values = base.copy()
            for slot, name in program.inputs:
                values[slot] = Ball(arb(point[name]))
            for step in program.steps:
                values[step[0]] = _apply(ctx, step, values)
            found.append([None if o is None else values[o] for o in program.outputs])
    return found


def _apply(ctx: Any, step: Any, values: list[Any]) -> Any:
    _, fn, args, lazy = step
    given = [values[i] for i in args]
    if not lazy and None in given:
        return None
    try:
        value = fn(ctx, *given)
    except FAILURES:
        return None
    return value if type(value) is Ball and value.finite() else None


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
        found = run(program, points, prec)
        with precision(prec):
            for j in pending:
                results[j] = _judge(jobs[j], found, len(points), prec)
        pending, prec = [j for j in pending if results[j] is _WIDER], prec * 2
    return [None if r is _WIDER else r for r in results]


_WIDER = object()  # not narrow enough yet: again at twice the precision


def _judge(job: Job, found: list[list[Any]], count: int, prec: int) -> Any:
    balls = [found[k][job.output] for k in job.points or range(count)]
    if None in balls:
        return None
    if job.dtype is None:
        return True
    total = sum(balls[1:], balls[0])
    lo, hi = (total / len(balls) if job.reduction == "mean" else total).ends()
    beyond = mpmath.ldexp(1, BEYOND_BITS)
    if lo > beyond or hi < -beyond:
        return None  # the mpmath path gives the marker of a value beyond every dtype
    if not narrow(lo, hi, job.dtype):
        return _WIDER
    with mpmath.workprec(prec):
        return Exact((lo + hi) / 2, True, prec)

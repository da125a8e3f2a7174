"""Certified values from a compiled program (``exact/program.py``) at a run's points.

``certify`` evaluates the program at every point in Arb balls and raises the precision as
``evaluate.exact_reduced`` does (128 bits, doubling up to MAX_PRECISION) until each enclosure,
reduced over its points, rounds to one value of the dtype and is 2^-80 narrow, so a value found
here is certified. An output without a value somewhere (undefined, a branch a ball straddles,
beyond the caps) or beyond every dtype's range is left to the mpmath path, which evaluates it
as before and says why.

A pass streams the points: a job over every point adds each point's ball to its sum as it
comes (left to right, as ``sum`` would), a job over given points is judged at its last point;
no point's balls outlive it. Only what is still too wide, at only the points and steps it
needs, is evaluated again at twice the precision.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import repeat
from operator import add, attrgetter, ge, le, lt, mul, sub
from typing import Any

import mpmath
from flint import arb
from mpmath import libmp

from gradcheck_cli.exact.ball import precision
from gradcheck_cli.exact.columns import CHUNK, columns
from gradcheck_cli.exact.evaluate import (
    ABSOLUTE_BITS,
    BEYOND_BITS,
    MAX_PRECISION,
    WIDTH_BITS,
    Exact,
    round_to,
)
from gradcheck_cli.exact.program import Program

__all__ = ["WIDER", "Each", "Job", "certify", "judge", "judge_all"]


@dataclass(frozen=True)
class Job:
    """An output to certify: over ``points`` (indices; None: all), reduced (``sum``/``mean``),
    to round to one value of ``dtype``; ``dtype`` None: only whether it has a value.
    ``each``: at every point on its own (``points`` unused), one result per point (``Each``),
    each as ``Job(output, reduction, dtype, (k,))``'s."""

    output: int
    reduction: str = "sum"
    dtype: str | None = "float64"
    points: tuple[int, ...] | None = None
    each: bool = False


def certify(
    program: Program, points: Sequence[Mapping[str, float]], jobs: Sequence[Job], prec: int = 128
) -> list:
    """Per job: its ``Exact`` value (certified), True for a job that only asks whether the
    output has a value and has one, or None where the mpmath path must say (no value here,
    beyond every dtype's range, or not narrow enough at MAX_PRECISION); an ``each`` job's,
    those per point (``Each``). ``prec``: the bits of the first pass."""
    results: list[Any] = [None] * len(jobs)
    todo: dict[int, Any] = {j: range(len(points)) for j in range(len(jobs))}  # open points
    while todo and prec <= MAX_PRECISION:
        judged, wider = _Pass(program, points, jobs, todo, prec).results, {}
        for j, result in judged.items():
            if jobs[j].each and results[j] is not None:  # a later pass: the open points
                results[j].other.update(zip(todo[j], result, strict=True))
            else:
                results[j] = result
            if jobs[j].each and (open_ := [i for i, r in result.other.items() if r is WIDER]):
                wider[j] = [todo[j][i] for i in open_]
            elif result is WIDER:
                wider[j] = None
        todo, prec = wider, prec * 2
    for j, open_ in todo.items():  # not narrow enough at MAX_PRECISION: the mpmath path
        if jobs[j].each:
            results[j].other.update(dict.fromkeys(open_))
        else:
            results[j] = None
    return results


WIDER = object()  # not narrow enough yet: again at twice the precision


class Each(Sequence):
    """An ``each`` job's results, one per point: a value certified at the first pass kept as
    its digits, an ``Exact`` once read (100000 points are not 100000 objects meanwhile)."""

    def __init__(self, prec: int) -> None:
        self.prec, self.width = prec, (prec + 7) // 8  # bytes of a mantissa
        self.signs, self.exps, self.mans = bytearray(), array("q"), bytearray()
        self.other: dict[int, Any] = {}  # point -> any other result (None, True, WIDER, later)

    def append(self, result: Any) -> None:
        """A result: an mpmath raw number (a certified value at ``prec``) or any other."""
        if type(result) is tuple and abs(result[2]) < 2**62 and result[3] <= 8 * self.width:
            sign, man, exp, _ = result
        else:
            sign, man, exp, self.other[len(self.signs)] = 0, 0, 0, result
        self.signs.append(sign)
        self.exps.append(exp)
        self.mans += man.to_bytes(self.width, "little")

    def __len__(self) -> int:
        return len(self.signs)

    def __getitem__(self, k: Any) -> Any:
        k = range(len(self.signs))[k]
        if k in self.other:
            other = self.other[k]
            return other if type(other) is not tuple else _exact(other, self.prec)
        man = int.from_bytes(self.mans[k * self.width : (k + 1) * self.width], "little")
        return _exact((self.signs[k], man, self.exps[k], man.bit_length()), self.prec)


def _exact(raw: tuple, prec: int) -> Exact:
    return Exact(mpmath.mp.make_mpf(raw), True, prec)


class _Pass:
    """One pass over the points at ``prec`` bits of the jobs in ``todo`` (job -> its open
    points: every point at first, then an ``each`` job's still too wide). ``results``: per job
    its value, None, True (a value everywhere) or WIDER; an ``each`` job's, an ``Each`` of
    those, one per open point in order."""

    def __init__(self, program: Program, points: Sequence[Any], jobs: Sequence[Job], todo, prec):
        self.jobs, self.prec = jobs, prec
        self.results: dict[int, Any] = {}
        self.slots = {j: program.outputs[jobs[j].output] for j in todo}
        self.sums: dict[int, Any] = {}  # job over every point -> its sum so far (None: no term)
        self.each: list[tuple[int, Any]] = []  # per point job -> its open points
        self.due: dict[int, list[int]] = {}  # point -> the jobs over given points needing it
        self.kept: dict[int, dict[int, Any]] = {}  # such a job -> its balls so far
        for j in todo:
            self.add(j, todo[j])
        wanted = set(self.due).union(*(open_ for _, open_ in self.each if len(open_) < len(points)))
        every = self.sums or any(len(open_) == len(points) for _, open_ in self.each)
        order = range(len(points)) if every else sorted(wanted)
        slots = [s for s in self.slots.values() if s is not None]
        with precision(prec) as ctx:
            evaluate = columns(ctx, program, slots)
            for start in range(0, len(order), CHUNK):
                chunk = order[start : start + CHUNK]
                self.visit(chunk, *evaluate([points[k] for k in chunk]))
            for j, total in self.sums.items():
                self.results[j] = self.reduced(j, total, len(points))

    def add(self, j: int, open_: Any) -> None:
        job, compiled = self.jobs[j], self.slots[j] is not None
        if job.each:
            self.results[j] = Each(self.prec)
            if compiled:
                self.each.append((j, open_ if type(open_) is range else set(open_)))
            else:  # not compiled: the mpmath path
                for _ in open_:
                    self.results[j].append(None)
        elif not compiled:
            self.results[j] = None
        elif not job.points:
            self.sums[j] = None
        else:
            self.kept[j] = {}
            for k in set(job.points):
                self.due.setdefault(k, []).append(j)

    def visit(self, chunk: Sequence[int], values: list[Any], full: list[bool]) -> None:
        """The columns at the points ``chunk``: added to the sums (left to right, in C),
        judged at each point, kept for the jobs over given points."""
        sums, slots = self.sums, self.slots
        for j, total in sums.items():
            column = values[slots[j]]
            if total is _NONE or not full[slots[j]]:
                sums[j] = _NONE
            else:
                sums[j] = reduce(add, column, total) if total is not None else reduce(add, column)
        for j, open_ in self.each:
            job, column = self.jobs[j], values[slots[j]]
            if full[slots[j]] and job.dtype and job.reduction == "sum":
                judged = judge_all(column, job.dtype, self.prec)
            else:
                judged = [None if b is None else self.reduced(j, b, 1, True) for b in column]
            for k, result in zip(chunk, judged, strict=True):
                if k in open_:
                    self.results[j].append(result)
        for i, k in enumerate(chunk):
            for j in self.due.get(k, ()):
                kept = self.kept[j]
                kept[k] = values[slots[j]][i]
                if len(kept) == len(set(self.jobs[j].points)):  # the job's last point
                    self.results[j] = self.given(j, [kept[p] for p in self.jobs[j].points])
                    del self.kept[j]

    def given(self, j: int, balls: list[Any]) -> Any:
        if any(b is None for b in balls):
            return None
        return self.reduced(j, reduce(add, balls[1:], balls[0]), len(balls))  # left to right

    def reduced(self, j: int, total: Any, count: int, raw: bool = False) -> Any:
        job = self.jobs[j]
        if total is _NONE:
            return None
        if job.dtype is None:
            return True
        total = total / count if job.reduction == "mean" else total
        return judge(total, job.dtype, self.prec, raw)


_NONE = object()  # a sum with a term without a value


def judge(ball: arb, dtype: str, prec: int, raw: bool = False) -> Any:
    """A reduced enclosure judged as ``evaluate.exact_reduced`` judges one: None beyond every
    dtype's range (the mpmath path gives its marker), WIDER unless ``evaluate.narrow``, else
    the certified midpoint at ``prec`` bits (``raw``: mpmath's raw number). The ends are exact,
    so comparing them in Arb is exact; the rest is mpmath's own low-level functions, with its
    working precision and rounding, so that each decision and value is mpmath's."""
    lo, hi = ball.lower(), ball.upper()
    if lo > _BEYOND or hi < -_BEYOND:
        return None
    low, high = lo._mpf_, hi._mpf_
    width = hi - lo  # encloses the exact width: certainly below 2^-81 of both ends ...
    relative = width * _HALF_WIDTH < abs(lo) and width * _HALF_WIDTH < abs(hi)
    if not (relative or _narrow(low, high)):  # ... is narrow however mpmath rounds
        return WIDER
    if not _same(low, high, dtype):
        return WIDER
    middle = libmp.mpf_div(libmp.mpf_add(low, high, prec, _NEAREST), _TWO, prec, _NEAREST)
    if raw:
        return middle
    double = arb(libmp.to_float(middle, rnd=_NEAREST))  # the only double the ball may hold
    tie = lo != hi and (lo <= 0 <= hi or lo <= double <= hi)
    return Exact(mpmath.mp.make_mpf(middle), True, prec, tie=tie)


def judge_all(balls: list[arb], dtype: str, prec: int) -> list[Any]:
    """``judge(ball, dtype, prec, raw=True)`` of each ball, the usual case (every ball
    certainly 2^-80 narrow, within 2^1100, a float64 value) in C loops."""
    lows, highs = list(map(arb.lower, balls)), list(map(arb.upper, balls))
    widths = list(map(mul, map(sub, highs, lows), repeat(_HALF_WIDTH)))
    usual = all(map(lt, widths, map(abs, lows))) and all(map(lt, widths, map(abs, highs)))
    usual = usual and all(map(le, lows, repeat(_BEYOND))) and all(map(ge, highs, repeat(-_BEYOND)))
    if not (usual and dtype == "float64"):
        return [judge(ball, dtype, prec, raw=True) for ball in balls]
    lows, highs = list(map(attrgetter("_mpf_"), lows)), list(map(attrgetter("_mpf_"), highs))
    low, high = (map(libmp.to_float, x, repeat(False), repeat(_NEAREST)) for x in (lows, highs))
    sums = map(libmp.mpf_add, lows, highs, repeat(prec), repeat(_NEAREST))
    return [
        libmp.mpf_div(total, _TWO, prec, _NEAREST) if a == b else WIDER  # round_to: float()
        for total, a, b in zip(sums, low, high, strict=True)
    ]


def _narrow(lo: tuple, hi: tuple) -> bool:
    """The width test of ``evaluate.narrow(lo, hi, dtype)`` on mpmath's raw numbers."""
    p = mpmath.mp.prec
    width = libmp.mpf_sub(hi, lo, p, _NEAREST)
    low, high = libmp.mpf_abs(lo, p, _NEAREST), libmp.mpf_abs(hi, p, _NEAREST)
    larger = high if libmp.mpf_gt(high, low) else low  # max(abs(lo), abs(hi))
    narrow = libmp.mpf_le(width, libmp.mpf_mul(larger, _WIDTH, p, _NEAREST))
    return narrow or libmp.mpf_le(width, _ABSOLUTE)


def _same(lo: tuple, hi: tuple, dtype: str) -> bool:
    """``round_to(lo, dtype) == round_to(hi, dtype)``."""
    if dtype == "float64":  # round_to: float(), mpmath's nearest double
        return libmp.to_float(lo, rnd=_NEAREST) == libmp.to_float(hi, rnd=_NEAREST)
    make = mpmath.mp.make_mpf
    return round_to(make(lo), dtype) == round_to(make(hi), dtype)


_NEAREST = libmp.round_nearest  # mpmath.mp's rounding
_TWO = libmp.from_int(2)
_BEYOND = arb(2) ** BEYOND_BITS  # exact at any precision
_HALF_WIDTH = arb(2) ** (WIDTH_BITS + 1)
_WIDTH = mpmath.ldexp(1, -WIDTH_BITS)._mpf_
_ABSOLUTE = mpmath.ldexp(1, -ABSOLUTE_BITS)._mpf_

"""A run's exact values: the prepared program certified at the run's points.

The program is the tree's (``exact/adjoint.py``) or, where the tree has none, SymPy's. The
tree's must find every value SymPy's would, as exactly; where it does not, SymPy's decides the
run (``certified``'s ``sympy_program``, compiled only then).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gradcheck_cli.exact.certify import Job, certify

__all__ = ["Certified", "certified"]


@dataclass(frozen=True)
class Certified:
    """What the compiled program certified at a run's points (None: the mpmath path says)."""

    loss: Any
    z: Sequence[Any]  # per point (certify.Each)
    grads: tuple[Any, ...]
    defined: bool  # the model as typed has a value at every point


def certified(
    program: Any,
    sympy_program: Callable[[], Any] | None,
    points: Any,
    count: int,
    reduction: str,
    dtype: str,
) -> Certified:
    """``program``'s loss, model and ``count`` gradients at ``points`` (its outputs: loss,
    model, gradients, the tree as typed); ``sympy_program``: None where ``program`` is
    SymPy's, else how to get SymPy's."""
    typed = len(program.outputs) - 1
    reduced = [Job(i, reduction, dtype) for i in (0, *range(2, 2 + count))]
    jobs = [*reduced, Job(1, each=True), Job(typed, dtype=None)]  # z at each point on its own
    found = certify(program, points, jobs)
    if sympy_program is not None and not _settled(program, points, jobs, found):
        found = certify(sympy_program(), points, jobs)  # decided as SymPy's
    return Certified(found[0], found[-2], tuple(found[1 : 1 + count]), bool(found[-1]))


def _settled(program: Any, points: Any, jobs: list[Job], found: list[Any]) -> bool:
    """Whether the tree's program found every value the SymPy one would, as exactly: each
    job has its value, and none may be 0 or a double exactly (a value SymPy may prove so,
    where the tree's enclosure at 2048 bits still holds that number: tanh(w*x+178) is 1
    within 2^-513)."""
    *reduced, each, typed = found
    if typed is not True or None in each.other.values() or None in reduced:
        return False
    tied = [job for job, f in zip(jobs, reduced, strict=False) if f.tie]
    again = certify(program, points, tied, prec=2048) if tied else []
    return all(f is not None and not f.tie for f in again)

"""The compiled program (``exact/program.py``) evaluated at a chunk of points at once.

A column is one step's values at the chunk's points (None: no value at that point). A step
of plain arithmetic (``program.COLUMNWISE``: sums, products, negation, +, -, *) over columns
that have every value is one C loop, each element computed exactly as it would be alone;
every other step, and any step over a column with a hole, goes point by point. The rules are
the program's: a step has no value where an argument lacks one (unless it is lazy), where it
fails, or where its result is not finite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from operator import is_not
from typing import Any

from flint import arb

from gradcheck_cli.exact.program import FAILURES, Program
from gradcheck_cli.exact.steps import COLUMNWISE

__all__ = ["CHUNK", "Columns", "columns"]

CHUNK = 512  # points per chunk: columns stay small, each C loop long enough

Columns = tuple[list[Any], list[bool]]  # per slot its column (None: not computed), and full


def columns(ctx: Any, program: Program, slots: Sequence[int]) -> Callable[[Sequence], Columns]:
    """chunk of points -> per slot its column at ``ctx``'s precision and whether it has a
    value at every point; ``slots`` computed (and what they need; other columns None)."""
    needed = _needed(program, slots)
    base: list[Any] = [None] * program.size
    for slot, fn, args, lazy in program.constants:
        base[slot] = (_at if lazy else _one)(ctx, fn, [base[a] for a in args])
    inputs = [(slot, name) for slot, name in program.inputs if slot in needed]
    steps = [(*s, COLUMNWISE.get(s[1])) for s in program.steps if s[0] in needed]
    constants = [s[0] for s in program.constants if s[0] in needed]

    def evaluate(chunk: Sequence[Mapping[str, float]]) -> Columns:
        values: list[Any] = [None] * program.size
        full = [False] * program.size
        for slot in constants:
            values[slot], full[slot] = [base[slot]] * len(chunk), base[slot] is not None
        for slot, name in inputs:
            values[slot], full[slot] = [arb(point[name]) for point in chunk], True
        for slot, fn, args, lazy, columnwise in steps:
            given, whole = list(map(values.__getitem__, args)), all(map(full.__getitem__, args))
            if columnwise is not None and whole:
                values[slot], full[slot] = _finite(columnwise(*given))
            else:  # point by point; a hole in an argument is looked for where there may be one
                at = _at if lazy or whole else _one
                column = [at(ctx, fn, one) for one in zip(*given, strict=True)]
                values[slot], full[slot] = column, all(map(is_not, column, repeat(None)))
        return values, full

    return evaluate


def _needed(program: Program, slots: Sequence[int]) -> set[int]:
    needed = set(slots)
    for slot, _, args, _ in reversed(program.steps):
        if slot in needed:
            needed.update(args)
    return needed


def _finite(column: list[Any]) -> tuple[list[Any], bool]:
    if all(map(arb.is_finite, column)):
        return column, True
    return [v if v.is_finite() else None for v in column], False


def _one(ctx: Any, fn: Any, given: Sequence[Any]) -> Any:
    """The step at one point (None: no value there)."""
    return None if any(v is None for v in given) else _at(ctx, fn, given)


def _at(ctx: Any, fn: Any, given: Sequence[Any]) -> Any:
    """The step at one point whose arguments it takes as they are (None: no value there)."""
    try:
        value = fn(ctx, *given)
    except FAILURES:
        return None
    return value if value.is_finite() else None

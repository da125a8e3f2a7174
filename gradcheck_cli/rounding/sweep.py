"""The exact adjoint sweep of ``rounding.trace``: for every component of every gradient (a
seed), E1 = sum_i sum_lanes |a_i| * err_i and its part per owner, all seeds in one pass
backwards over the tape.

Each seed keeps its own adjoints, summed in the order a sweep of that seed alone sums them
(consumers from the last step back), so each seed's E1 and parts are those of its own sweep;
what the seeds share is computed once per step: the partial derivatives of each lane, and
which lanes are NaN or beyond the dtype's range. A seed whose sweep fails (a NaN it depends
on, a step not differentiable where it matters) keeps its error, and the first failing
seed's error is raised: the error a sweep seed by seed would have raised first.

The arithmetic is mpmath's own on the raw values (``rounding.raw``: the functions ``M``'s
numbers call, at its precision and rounding), without a number object per operation. A tape
of one lane per step (one sample) is swept by ``rounding.sweep1``, the same sums without lists.
"""

from __future__ import annotations

from typing import Any

from mpmath.libmp import finf, fnan, fone, fzero, mpf_add, mpf_sum

from gradcheck_cli.rounding import sweep1
from gradcheck_cli.rounding.raw import (
    NOT_FINITE,
    SIMPLE,
    beyond,
    local_term,
    numbers,
    plus,
    raw,
    special,
    times,
)
from gradcheck_cli.rounding.tape import M, OutOfDomain, Tape, partials, pick

_PREC, _RND = M.prec, "n"  # what M's arithmetic rounds to (round to nearest: its default)


def _inert(tape: Tape) -> list[bool]:
    """Per step: an exact leaf of finite values within range, whose adjoint can only add
    ``|a| * 0`` to E1: 0 unless an adjoint is infinite or NaN."""
    fmax = tape.fmax._mpf_
    return [p.kind == "leaf" and _inert_leaf(p, fmax) for p in tape.prims]


def _inert_leaf(p: Any, fmax: tuple) -> bool:
    """Every error 0 and every value finite and at most ``fmax`` in magnitude."""
    for e in p.err:
        if e._mpf_ != fzero:
            return False
    for v in p.val:
        r = v._mpf_
        if r in NOT_FINITE or beyond(r, fmax):
            return False
    return True


class _Step:
    """What every seed's sweep reads of one step, computed once for all of them (the
    partial derivatives of a lane when a seed first needs them)."""

    def __init__(self, tape: Tape, i: int, inert: list[bool], fmax: tuple) -> None:
        p = self.p = tape.prims[i]
        self.tape, self.inert_steps, self.xs = tape, inert, None  # xs: on the first targets
        err = self.err = [e._mpf_ for e in p.err]
        self.rounded = [j for j, e in enumerate(err) if e != fzero]
        self.exact = (
            [] if len(self.rounded) == len(err) else [j for j, e in enumerate(err) if e == fzero]
        )
        self.nan, self.over = [], []  # lanes whose value is NaN, or beyond the dtype's range
        for j, v in enumerate(p.val):
            r = v._mpf_
            if r == fnan:
                self.nan.append(j)
            elif beyond(r, fmax):
                self.over.append(j)
        self.parts: dict[int, Any] = {}

    def local(self, a: list) -> tuple:
        """sum |a| * err over the lanes (+inf where the float computation overflows on a
        path that matters); a NaN the adjoint depends on is out of the domain."""
        if self.nan and any(a[j] != fzero for j in self.nan):
            p = self.p
            raise OutOfDomain(f"{p.owner[0]} ({p.owner[1]}): {p.kind} has no finite real value")
        if self.over and any(a[j] != fzero for j in self.over):
            return finf
        rounded, err = self.rounded, self.err
        if len(rounded) == 1 and not self.exact:  # one lane, rounded
            term = local_term(a[0], err[0])
            return term if not special(term) else mpf_sum([term], _PREC, _RND)
        terms = [local_term(a[j], err[j]) for j in rounded]
        if self.exact and any(special(a[j]) for j in self.exact):
            terms.append(fnan)  # |inf| * 0 or NaN * 0 (a lane of error 0 adds 0 otherwise)
        if len(terms) == 1 and not special(terms[0]):
            return terms[0]  # a sum of one term of M's precision: that term
        return mpf_sum(terms, _PREC, _RND)

    def targets(self, j: int) -> list[tuple]:
        """Where lane j's adjoint goes: per argument (step, its lane, its size, the partial
        derivative, whether a finite product there adds nothing: an inert argument)."""
        found = self.parts.get(j)
        if found is None:
            p = self.p
            if self.xs is None:
                self.xs = [self.tape.prims[g].val for g in p.args]
                self.sizes = [len(x) for x in self.xs]
                self.inert = [self.inert_steps[g] for g in p.args]
            try:
                parts = SIMPLE.get(p.kind)
                if parts is None:
                    xs = [pick(x, j) for x in self.xs]
                    extra = pick(p.extra, j) if p.extra else None
                    parts = map(raw, partials(p.kind, xs, p.val[j], extra))
                elif p.kind == "mul":  # (b, a)
                    parts = (pick(self.xs[1], j)._mpf_, pick(self.xs[0], j)._mpf_)
                found = [
                    (g, 0 if n == 1 else j, n, d, inert and not special(d))
                    for g, n, d, inert in zip(p.args, self.sizes, parts, self.inert, strict=True)
                ]
            except ZeroDivisionError as exc:
                found = exc
            self.parts[j] = found
        if isinstance(found, ZeroDivisionError):
            raise OutOfDomain(
                f"{self.p.owner[0]}: {self.p.kind} not differentiable here"
            ) from found
        return found


LANES = 4096  # the lanes of adjoints (seeds times samples) one group of seeds sweeps at a step


def sweep(tape: Tape, seeds: list[tuple[int, int]]) -> list[tuple[Any, dict]]:
    """Per seed (step, component): E1 and its part per owner ``{(node, op): E1 part}``
    (a float). Seeds are swept together in groups of at most ``LANES`` lanes (at the widest
    step): with many samples, a group of one seed, whose adjoints alone fill memory."""
    width = max((len(p.val) for p in tape.prims), default=1)
    group = max(1, LANES // width)
    inert = _inert(tape)
    run = sweep1.sweep if width == 1 and all(j == 0 for _, j in seeds) else _sweep
    return [
        s for at in range(0, len(seeds), group) for s in run(tape, seeds[at : at + group], inert)
    ]


def _sweep(tape: Tape, seeds: list[tuple[int, int]], inert: list[bool]) -> list[tuple[Any, dict]]:
    if not seeds:
        return []
    adj: list[dict[int, list] | None] = [None] * (max(out for out, _ in seeds) + 1)
    for k, (out, j) in enumerate(seeds):
        lanes = [fzero] * len(tape.prims[out].val)
        lanes[j] = fone
        _lanes(adj, out)[k] = lanes
    owners: list[dict[tuple[str, str], Any]] = [{} for _ in seeds]
    failed: dict[int, Exception] = {}
    fmax = tape.fmax._mpf_
    for i in range(len(adj) - 1, -1, -1):
        here, adj[i] = adj[i], None
        if not here:
            continue
        step = _Step(tape, i, inert, fmax)
        owner = step.p.owner
        for k, a in here.items():
            if k in failed:
                continue
            try:
                local = step.local(a)
                if local != fzero:  # 0 + local is local (a value of M's precision)
                    part = owners[k].get(owner)
                    owners[k][owner] = local if part is None else mpf_add(part, local, _PREC, _RND)
                _backprop(step, k, a, adj)
            except Exception as exc:  # kept for the seed, raised below in the seeds' order
                failed[k] = exc
    if failed:
        raise failed[min(failed)]
    return [numbers(o) for o in owners]


def _lanes(adj: list, g: int) -> dict[int, list]:
    if adj[g] is None:
        adj[g] = {}
    return adj[g]


def _backprop(step: _Step, k: int, a: list, adj: list) -> None:
    p = step.p
    if p.kind == "leaf":
        return
    if p.kind == "sum":
        _acc(adj, p.args[0], k, [a[0]] * len(step.tape.prims[p.args[0]].val))
        return
    if p.kind == "expand":
        _acc(adj, p.args[0], k, [mpf_sum(a, _PREC, _RND)])
        return
    for j, aj in enumerate(a):
        if aj == fzero:
            continue
        finite = not special(aj)
        for g, i, n, d, inert in step.targets(j):
            if inert and finite:
                continue  # a finite product: it would add |a| * 0 = 0 to E1, and go no further
            seeds = adj[g]
            if seeds is None:
                seeds = adj[g] = {}
            lanes = seeds.get(k)
            if lanes is None:
                lanes = seeds[k] = [fzero] * n
            lanes[i] = plus(lanes[i], times(aj, d))


def _acc(adj: list, g: int, k: int, vals: list) -> None:
    lanes = _lanes(adj, g).get(k)
    if lanes is None:
        lanes = [fzero] * len(vals)
    adj[g][k] = [plus(s, v) for s, v in zip(lanes, vals, strict=True)]

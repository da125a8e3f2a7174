"""The exact adjoint sweep of ``rounding.trace``: for every component of every gradient (a
seed), E1 = sum_i sum_lanes |a_i| * err_i and its part per owner, all seeds in one pass
backwards over the tape.

Each seed keeps its own adjoints, summed in the order a sweep of that seed alone sums them
(consumers from the last step back), so each seed's E1 and parts are those of its own sweep;
what the seeds share is computed once per step: the partial derivatives of each lane, and
which lanes are NaN or beyond the dtype's range. A seed whose sweep fails (a NaN it depends
on, a step not differentiable where it matters) keeps its error, and the first failing
seed's error is raised: the error a sweep seed by seed would have raised first.
"""

from __future__ import annotations

from typing import Any

from gradcheck_cli.rounding.tape import M, OutOfDomain, Tape, partials, pick


class _Step:
    """What every seed's sweep reads of one step: computed once, on first use."""

    def __init__(self, tape: Tape, i: int) -> None:
        p = self.p = tape.prims[i]
        self.xs = [tape.prims[g].val for g in p.args]
        self.sizes = [len(x) for x in self.xs]
        self.nan = [j for j, v in enumerate(p.val) if M.isnan(v)]
        self.over = [j for j, v in enumerate(p.val) if abs(v) > tape.fmax]
        self.parts: dict[int, Any] = {}

    def local(self, a: list) -> Any:
        """sum |a| * err over the lanes (+inf where the float computation overflows on a
        path that matters); a NaN the adjoint depends on is out of the domain."""
        p = self.p
        if any(a[j] != 0 for j in self.nan):
            raise OutOfDomain(f"{p.owner[0]} ({p.owner[1]}): {p.kind} has no finite real value")
        local = M.fsum(abs(x) * e for x, e in zip(a, p.err, strict=True))
        return M.inf if any(a[j] for j in self.over) else local

    def partials(self, j: int) -> tuple:
        parts = self.parts.get(j)
        if parts is None:
            p = self.p
            try:
                parts = partials(
                    p.kind,
                    [pick(x, j) for x in self.xs],
                    p.val[j],
                    pick(p.extra, j) if p.extra else None,
                )
            except ZeroDivisionError as exc:
                parts = exc
            self.parts[j] = parts
        if isinstance(parts, ZeroDivisionError):
            raise OutOfDomain(
                f"{self.p.owner[0]}: {self.p.kind} not differentiable here"
            ) from parts
        return parts


def sweep(tape: Tape, seeds: list[tuple[int, int]]) -> list[tuple[Any, dict]]:
    """Per seed (step, component): E1 and its part per owner ``{(node, op): E1 part}``."""
    if not seeds:
        return []
    adj: list[dict[int, list] | None] = [None] * (max(out for out, _ in seeds) + 1)
    for k, (out, j) in enumerate(seeds):
        lanes = [M.zero] * len(tape.prims[out].val)
        lanes[j] = M.one
        _lanes(adj, out)[k] = lanes
    owners: list[dict[tuple[str, str], Any]] = [{} for _ in seeds]
    failed: dict[int, Exception] = {}
    for i in range(len(adj) - 1, -1, -1):
        here, adj[i] = adj[i], None
        if not here:
            continue
        step = _Step(tape, i)
        for k, a in here.items():
            if k in failed:
                continue
            try:
                local = step.local(a)
                if local:
                    owners[k][step.p.owner] = owners[k].get(step.p.owner, M.zero) + local
                _backprop(step, k, a, adj)
            except Exception as exc:  # noqa: BLE001 (kept for the seed, raised below in order)
                failed[k] = exc
    if failed:
        raise failed[min(failed)]
    return [(M.fsum(o.values()), o) for o in owners]


def _lanes(adj: list, g: int) -> dict[int, list]:
    if adj[g] is None:
        adj[g] = {}
    return adj[g]


def _backprop(step: _Step, k: int, a: list, adj: list) -> None:
    p = step.p
    if p.kind == "leaf":
        return
    if p.kind == "sum":
        _acc(adj, p.args[0], k, [a[0]] * step.sizes[0])
        return
    if p.kind == "expand":
        _acc(adj, p.args[0], k, [M.fsum(a)])
        return
    for j, aj in enumerate(a):
        if aj == 0:
            continue
        for g, n, d in zip(p.args, step.sizes, step.partials(j), strict=True):
            lanes = _lanes(adj, g).get(k)
            if lanes is None:
                lanes = adj[g][k] = [M.zero] * n
            lanes[0 if n == 1 else j] += aj * d


def _acc(adj: list, g: int, k: int, vals: list) -> None:
    lanes = _lanes(adj, g).get(k)
    if lanes is None:
        lanes = [M.zero] * len(vals)
    adj[g][k] = [s + v for s, v in zip(lanes, vals, strict=True)]

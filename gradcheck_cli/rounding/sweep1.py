"""``rounding.sweep`` on a tape whose every step has one lane (one sample, the common case):
the same sums in the same order and the same errors, each seed's adjoint at a step one raw
number instead of a list of lanes, and each step read once for all seeds."""

from __future__ import annotations

from typing import Any

from mpmath.libmp import finf, fnan, fone, fzero, mpf_add

from gradcheck_cli.rounding import raw as r
from gradcheck_cli.rounding.tape import OutOfDomain, Tape, partials


def sweep(tape: Tape, seeds: list[tuple[int, int]], inert: list[bool]) -> list[tuple[Any, dict]]:
    """Per seed (step, 0): E1 and its part per owner, as ``sweep.sweep`` gives them."""
    adj: list[dict[int, tuple] | None] = [None] * (max(out for out, _ in seeds) + 1)
    for k, (out, _) in enumerate(seeds):
        adj[out] = adj[out] or {}
        adj[out][k] = fone
    owners: list[dict[tuple[str, str], Any]] = [{} for _ in seeds]
    failed: dict[int, Exception] = {}
    fmax = tape.fmax._mpf_
    for i in range(len(adj) - 1, -1, -1):
        here, adj[i] = adj[i], None
        if not here:
            continue
        p = tape.prims[i]
        err, v, kind = p.err[0]._mpf_, p.val[0]._mpf_, p.kind
        nan = v == fnan
        over = not nan and r.beyond(v, fmax)
        plain = err != fzero and not nan and not over  # local: |a| * err
        fan = None  # where an adjoint goes: (step, partial, inert), on the first that goes
        for k, a in here.items():
            if k in failed:
                continue
            try:
                local = r.local_term(a, err) if plain else _local(p, err, nan, over, a)
                if plain and r.special(local):
                    local = r.total([local])
                if local != fzero:  # 0 + local is local (a value of M's precision)
                    part = owners[k].get(p.owner)
                    owners[k][p.owner] = (
                        local if part is None else mpf_add(part, local, r.PREC, r.RND)
                    )
                if kind == "leaf":
                    continue
                if kind in ("sum", "expand"):  # one term, or a sum of one lane
                    _add(adj, p.args[0], k, a if kind == "sum" else r.total([a]))
                    continue
                if a == fzero:
                    continue
                fan = fan or _targets(p, tape.prims, inert)
                finite = not r.special(a)
                for g, d, inert_arg in fan:
                    if inert_arg and finite:
                        continue  # a finite product: it would add |a| * 0 = 0 to E1, no further
                    _add(adj, g, k, r.times(a, d))
            except Exception as exc:  # kept for the seed, raised below in the seeds' order
                failed[k] = exc
    if failed:
        raise failed[min(failed)]
    return [r.numbers(o) for o in owners]


def _local(p: Any, err: tuple, nan: bool, over: bool, a: tuple) -> tuple:
    """|a| * err (+inf where the float computation overflows on a path that matters); a NaN
    the adjoint depends on is out of the domain."""
    if nan and a != fzero:
        raise OutOfDomain(f"{p.owner[0]} ({p.owner[1]}): {p.kind} has no finite real value")
    if over and a != fzero:
        return finf
    if err != fzero:
        term = r.local_term(a, err)
        return term if not r.special(term) else r.total([term])
    return r.total([fnan] if r.special(a) else [])  # |inf| * 0 or NaN * 0; else 0


def _targets(p: Any, prims: list, inert: list[bool]) -> list[tuple]:
    """Per argument (step, the partial derivative, whether a finite product there adds
    nothing: an inert argument); OutOfDomain where the step has no derivative."""
    try:
        parts = r.SIMPLE.get(p.kind)
        if parts is None:
            xs = [prims[g].val[0] for g in p.args]
            extra = p.extra[0] if p.extra else None
            parts = map(r.raw, partials(p.kind, xs, p.val[0], extra))
        elif p.kind == "mul":  # (b, a)
            parts = (prims[p.args[1]].val[0]._mpf_, prims[p.args[0]].val[0]._mpf_)
        return [(g, d, inert[g] and not r.special(d)) for g, d in zip(p.args, parts, strict=True)]
    except ZeroDivisionError as exc:
        raise OutOfDomain(f"{p.owner[0]}: {p.kind} not differentiable here") from exc


def _add(adj: list, g: int, k: int, v: tuple) -> None:
    seeds = adj[g]
    if seeds is None:
        seeds = adj[g] = {}
    seeds[k] = r.plus(seeds.get(k, fzero), v)

"""The adjoint sweep of ``rounding.trace`` on a ``VecTape``: E1 = sum |a_i| * err_i from
enclosures of every adjoint, partial derivative and local error, a whole tensor at a time.

Each component's E1 is enclosed in ``[low, high]``; ``high`` is reported (an upper bound of
the exact first-order sum), and an enclosure wider than ``vector.WIDTH`` raises ``Undecided``
so that the exact tape decides instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradcheck_cli.rounding import intervals as iv
from gradcheck_cli.rounding.intervals import ARB_KINDS, Iv, Undecided
from gradcheck_cli.rounding.vector import WIDTH, VecTape, VPrim, power

ONE, MINUS = "one", "minus"  # partials that need no multiplication


def partials(tape: VecTape, p: VPrim) -> tuple:
    """The partial derivatives of a step in each argument, computed once per step."""
    if p.parts is None:
        p.parts = _partials(p, [tape.prims[a].val.iv for a in p.args], p.val.iv)
    return p.parts


def _partials(p: VPrim, xs: list[Iv], v: Iv) -> tuple:
    kind, ex = p.kind, p.extra
    table = {
        "add": lambda: (ONE, ONE),
        "sub": lambda: (ONE, MINUS),
        "neg": lambda: (MINUS,),
        "id": lambda: (ONE,),
        "mul": lambda: (xs[1], xs[0]),
        "div": lambda: (iv.div(iv.point([1.0]), xs[1]), iv.neg(iv.div(v, xs[1]))),
        "scale": lambda: (Iv(ex, ex),),
        "select": lambda: (Iv(*(ex != 0,) * 2), Iv(*(ex == 0,) * 2)),
        "sqrt": lambda: (iv.div(iv.point([0.5]), v),),
    }
    if kind in table:
        parts = table[kind]()
        return tuple(q if isinstance(q, str) else _float(q) for q in parts)
    if kind == "powk":
        k = power(ex)
        return (iv.arb_lanes(lambda x: k * x ** (k - 1), xs[0]),)
    if kind in ARB_KINDS:
        f = ARB_KINDS[kind][1]
        return tuple(iv.arb_lanes(lambda *a, i=i: f(*a)[i], *xs, v) for i in range(len(p.args)))
    raise Undecided(f"no partials of {kind}")


def _float(q: Iv) -> Iv:
    return Iv(q.lo.astype(np.float64, copy=False), q.hi.astype(np.float64, copy=False))


def _times(a: Iv, d: Any) -> Iv:
    if d is ONE:
        return a
    if d is MINUS:
        return iv.neg(a)
    return iv.mul(a, d)


def _acc(adj: list, g: int, x: Iv) -> None:
    adj[g] = x if adj[g] is None else iv.add(adj[g], x)


def _backprop(tape: VecTape, p: VPrim, a: Iv, adj: list) -> None:
    if p.kind == "leaf":
        return
    if p.kind == "sum":
        n = len(tape.prims[p.args[0]].val)
        _acc(adj, p.args[0], Iv(np.broadcast_to(a.lo, n), np.broadcast_to(a.hi, n)))
        return
    if p.kind == "expand":
        _acc(adj, p.args[0], iv.total(a))
        return
    for g, d in zip(p.args, partials(tape, p), strict=True):
        x = _times(a, d)
        n = len(tape.prims[g].val)
        if len(x) != n:
            x = iv.total(x) if n == 1 else Iv(np.broadcast_to(x.lo, n), np.broadcast_to(x.hi, n))
        _acc(adj, g, x)


def _local(tape: VecTape, p: VPrim, a: Iv) -> tuple[float, float]:
    """The enclosure of sum |a| * err over the lanes of one step."""
    nonzero = (a.lo != 0) | (a.hi != 0)
    v = p.val.iv
    if (v.mag()[nonzero] > tape.fmax).any():
        if (v.mig()[nonzero] > tape.fmax).any():
            return np.inf, np.inf  # the float computation overflows on a path that matters
        raise Undecided("overflow the interval cannot decide")
    e = p.err.iv
    if p.errs is not None and p.kind == "leaf" and not e.hi.any():
        return 0.0, 0.0
    hi = iv.upper_sum(iv.up(a.mag() * e.hi))
    return hi, float(np.sum(a.mig() * e.lo))


def sweep(tape: VecTape, out: int, j: int) -> tuple[float, dict]:
    """E1 of component j of prim ``out`` (an upper bound) and its part per owner."""
    adj: list = [None] * (out + 1)
    n = len(tape.prims[out].val)
    seed = np.zeros(n)
    seed[j] = 1.0
    adj[out] = Iv(seed, seed)
    per_owner: dict[tuple[str, str], list[float]] = {}
    for i in range(out, -1, -1):
        a = adj[i]
        if a is None:
            continue
        p = tape.prims[i]
        hi, lo = _local(tape, p, a)
        if hi:
            both = per_owner.setdefault(p.owner, [0.0, 0.0])
            both[0], both[1] = float(np.nextafter(both[0] + hi, np.inf)), both[1] + lo
        _backprop(tape, p, a, adj)
        adj[i] = None
    high = iv.upper_sum(np.array([h for h, _ in per_owner.values()]))
    low = sum(lo for _, lo in per_owner.values())
    if high - low > WIDTH * high:
        raise Undecided("the enclosure of E1 is too wide")
    return high, {k: v[0] for k, v in per_owner.items()}

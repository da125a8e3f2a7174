"""Tests for gradcheck_cli.rounding.sweep: every seed swept at once gives, bit for bit, what a
plain sweep of that seed alone gives (the reference below: mpmath numbers, one seed at a
time, every lane and step visited), on random tapes; and the error raised is the first
failing seed's."""

import random

import pytest
import torch

from gradcheck_cli.rounding import steps as st
from gradcheck_cli.rounding import sweep as sweep_module
from gradcheck_cli.rounding import sweep1
from gradcheck_cli.rounding.sweep import sweep
from gradcheck_cli.rounding.tape import M, OutOfDomain, Tape, partials, pick


def reference(tape: Tape, out: int, j: int):
    """E1 of component j of step ``out`` and its part per owner: the adjoints of one seed
    swept back through every step, in M's own arithmetic."""
    adj: list = [None] * (out + 1)
    adj[out] = [M.zero] * len(tape.prims[out].val)
    adj[out][j] = M.one
    parts: dict = {}
    for i in range(out, -1, -1):
        if adj[i] is None:
            continue
        p, a = tape.prims[i], adj[i]
        if any(x != 0 and M.isnan(v) for x, v in zip(a, p.val, strict=True)):
            raise OutOfDomain(f"{p.owner[0]} ({p.owner[1]}): {p.kind} has no finite real value")
        local = M.fsum(abs(x) * e for x, e in zip(a, p.err, strict=True))
        if any(x and abs(v) > tape.fmax for x, v in zip(a, p.val, strict=True)):
            local = M.inf
        if local:
            parts[p.owner] = parts.get(p.owner, M.zero) + local
        back(tape, p, a, adj)
    return M.fsum(parts.values()), parts


def back(tape: Tape, p, a: list, adj: list) -> None:
    def add(g: int, lane: int, v) -> None:
        if adj[g] is None:
            adj[g] = [M.zero] * len(tape.prims[g].val)
        adj[g][lane] += v

    if p.kind == "sum":
        for lane in range(len(tape.prims[p.args[0]].val)):
            add(p.args[0], lane, a[0])
    elif p.kind == "expand":
        add(p.args[0], 0, M.fsum(a))
    elif p.kind != "leaf":
        xs = [tape.prims[g].val for g in p.args]
        for j, aj in enumerate(a):
            if aj == 0:
                continue
            extra = pick(p.extra, j) if p.extra else None
            try:
                ds = partials(p.kind, [pick(x, j) for x in xs], p.val[j], extra)
            except ZeroDivisionError as exc:
                raise OutOfDomain(f"{p.owner[0]}: {p.kind} not differentiable here") from exc
            for g, x, d in zip(p.args, xs, ds, strict=True):
                add(g, 0 if len(x) == 1 else j, aj * d)


def outcome(run):
    try:
        return run()
    except OutOfDomain as err:
        return ("OutOfDomain", str(err))


def random_tape(seed: int, dtype: torch.dtype, one_lane: bool = False) -> tuple[Tape, list[int]]:
    """Steps of every kind the sweep treats apart (leaves exact and inexact, sums, expands,
    selections, one- and three-lane steps, libm calls), on random values: some overflow,
    some are NaN (log of a negative, a division by 0), some not differentiable (sqrt at 0).
    ``one_lane``: every step of one lane (no expand)."""
    rng = random.Random(seed)
    tp = Tape(dtype)
    n = 1 if one_lane else rng.choice([1, 3])
    pool = [tp.leaf([M.mpf(rng.uniform(-3, 3)) for _ in range(n)]) for _ in range(3)]
    pool += [tp.leaf([M.mpf(rng.uniform(-3, 3))]), tp.const(0.1), tp.const(0.5)]
    pool += [tp.leaf([M.mpf(rng.choice([1e30, 1e200]))]), tp.leaf([M.zero])]
    for k in range(14):
        tp.owner = (f"n{k}", rng.choice(["aten.a", "aten.b"]))
        a, b = rng.choice(pool), rng.choice(pool)
        step = rng.choice(["add", "sub", "mul", "div", "fn", "select", "sum", "expand", "scale"])
        if step in ("add", "sub", "mul", "div"):
            pool.append(getattr(st, step)(tp, a, b))
        elif step == "fn" and max(abs(v) for v in tp.prims[a].val) < 100:  # mpmath's own range
            pool.append(st.fn(tp, rng.choice(["tanh", "exp", "log", "sin", "sqrt"]), a))
        elif step == "select":
            size = max(len(tp.prims[a].val), len(tp.prims[b].val))
            pool.append(st.select(tp, [rng.random() < 0.5 for _ in range(size)], a, b))
        elif step == "sum":
            pool.append(tp.reduce_sum(a))
        elif step == "expand" and len(tp.prims[a].val) == 1 and not one_lane:
            pool.append(tp.expand(a, 3))
        elif step == "scale":
            pool.append(tp.op("scale", (a,), 0, 0, extra=[M.mpf(-2)] * len(tp.prims[a].val)))
    return tp, rng.sample(pool[8:], 3)


def seeds_of(tape: Tape, outs: list[int]) -> list[tuple[int, int]]:
    return [(o, j) for o in outs for j in range(len(tape.prims[o].val))]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("seed", range(40))
def test_one_sweep_of_all_seeds_is_each_seeds_own_sweep(seed, dtype):
    try:
        tape, outs = random_tape(seed, dtype)
    except Exception as exc:  # a random step torch or the tape refuses (broadcast): redraw
        pytest.skip(f"not a tape: {exc}")
    seeds = seeds_of(tape, outs)
    want = outcome(lambda: [reference(tape, o, j) for o, j in seeds])
    assert_same(outcome(lambda: sweep(tape, seeds)), want)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", range(40))
def test_a_tape_of_one_lane_is_swept_without_lanes_to_the_same_numbers(seed, dtype, monkeypatch):
    tape, outs = random_tape(seed, dtype, one_lane=True)
    seeds = seeds_of(tape, outs)
    want = outcome(lambda: [reference(tape, o, j) for o, j in seeds])
    used, one_lane = [], sweep1.sweep
    monkeypatch.setattr(sweep1, "sweep", lambda *a: used.append(a) or one_lane(*a))
    assert_same(outcome(lambda: sweep(tape, seeds)), want)
    assert used  # the one-lane sweep was the one taken


def assert_same(got, want) -> None:
    if isinstance(want, tuple):
        assert got == want  # the same error, of the same step
        return
    for (e1, parts), (e1_ref, parts_ref) in zip(got, want, strict=True):
        assert e1 == e1_ref or (M.isnan(e1) and M.isnan(e1_ref))  # exact: the same roundings
        assert list(parts) == list(parts_ref)  # the same owners, in the same order
        assert [repr(v) for v in parts.values()] == [repr(float(v)) for v in parts_ref.values()]


def nan_tape() -> tuple[Tape, int, int, int]:
    """Two steps that depend on a NaN (log of -1), at a low and a high step, and a clean one."""
    tp = Tape(torch.float32)
    x, y = tp.leaf([M.mpf(-1)]), tp.leaf([M.mpf(2)])
    tp.owner = ("low", "aten.log")
    low = st.mul(tp, st.fn(tp, "log", x), y)
    tp.owner = ("clean", "aten.mul")
    clean = st.mul(tp, y, y)
    tp.owner = ("high", "aten.log")
    high = st.mul(tp, st.fn(tp, "log", st.neg(tp, y)), y)
    return tp, low, clean, high


def test_the_first_failing_seed_names_its_own_step_though_a_later_one_fails_first():
    tp, low, clean, high = nan_tape()
    # swept backwards, the step of `high` is met first; the seed of `low` comes first
    with pytest.raises(OutOfDomain, match="^low "):
        sweep(tp, [(clean, 0), (low, 0), (high, 0)])
    with pytest.raises(OutOfDomain, match="^high "):
        sweep(tp, [(clean, 0), (high, 0), (low, 0)])


def test_a_seed_that_never_meets_the_nan_is_swept_alone_cleanly():
    tp, low, clean, high = nan_tape()
    [(e1, parts)] = sweep(tp, [(clean, 0)])
    assert e1 == reference(tp, clean, 0)[0] and list(parts) == [("clean", "aten.mul")]


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_seeds_swept_in_groups_give_the_same_numbers(seed, monkeypatch):
    tape, outs = random_tape(seed, torch.float32)
    seeds = seeds_of(tape, outs)
    together = outcome(lambda: sweep(tape, seeds))
    monkeypatch.setattr(sweep_module, "LANES", 1)  # one seed per group
    alone = outcome(lambda: sweep(tape, seeds))
    assert repr(alone) == repr(together)

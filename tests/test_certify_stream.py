"""The streaming certifier against the direct way: every point's balls kept, then each job
judged from them with ``evaluate.narrow`` and mpmath numbers.

The reference here is the plain definition: run every step of the program at every point (a
step without a value when an argument lacks one, it fails, or its result is not finite), keep
all outputs, sum each job's balls left to right, and judge the sum with mpmath's own numbers
(``Ball.ends``, ``evaluate.narrow``, the midpoint at the pass's precision). ``certify`` must
give exactly the same results (the same Exact values, bit for bit) on random programs, random
points (some outside a domain, some at a branch switch) and random jobs.
"""

from __future__ import annotations

import random

import mpmath
import pytest
from flint import arb

from gradcheck_cli.errors import GradcheckError
from gradcheck_cli.exact import symbolic
from gradcheck_cli.exact.ball import Ball, precision
from gradcheck_cli.exact.certify import WIDER as CERTIFY_WIDER
from gradcheck_cli.exact.certify import Each, Job, certify, judge, judge_all
from gradcheck_cli.exact.columns import CHUNK
from gradcheck_cli.exact.evaluate import BEYOND_BITS, MAX_PRECISION, Exact, narrow
from gradcheck_cli.exact.program import FAILURES, compile_program
from gradcheck_cli.expr.parse import parse

WIDER = "wider"


def reference_run(program, points, prec):
    """Per point, every output's ball (None: no value)."""
    with precision(prec) as ctx:
        base = [None] * program.size
        for step in program.constants:
            base[step[0]] = apply(ctx, step, base)
        found = []
        for point in points:
            values = base.copy()
            for slot, name in program.inputs:
                values[slot] = arb(point[name])
            for step in program.steps:
                values[step[0]] = apply(ctx, step, values)
            found.append([None if o is None else values[o] for o in program.outputs])
    return found


def apply(ctx, step, values):
    _, fn, args, lazy = step
    given = [values[i] for i in args]
    if not lazy and any(v is None for v in given):
        return None
    try:
        value = fn(ctx, *given)
    except FAILURES:
        return None
    return value if value.is_finite() else None


def reference_judge(job, found, count, prec):
    balls = [found[k][job.output] for k in job.points or range(count)]
    if any(b is None for b in balls):
        return None
    if job.dtype is None:
        return True
    with precision(prec):
        total = sum(map(Ball, balls[1:]), Ball(balls[0]))
        lo, hi = (total / len(balls) if job.reduction == "mean" else total).ends()
    beyond = mpmath.ldexp(1, BEYOND_BITS)
    if lo > beyond or hi < -beyond:
        return None
    if not narrow(lo, hi, job.dtype):
        return WIDER
    with mpmath.workprec(prec):
        return Exact((lo + hi) / 2, True, prec)


def reference(program, points, jobs):
    """``certify``'s results the direct way: a job at each point is one job per point."""
    one = [
        Job(j.output, j.reduction, j.dtype, (k,))
        for j in jobs
        if j.each
        for k in range(len(points))
    ]
    found = iter(direct(program, points, [j for j in jobs if not j.each] + one))
    whole = [next(found) for j in jobs if not j.each]
    return [tuple(next(found) for _ in points) if j.each else whole.pop(0) for j in jobs]


def direct(program, points, jobs):
    results, pending, prec = [None] * len(jobs), list(range(len(jobs))), 128
    while pending and prec <= MAX_PRECISION:
        found = reference_run(program, points, prec)
        for j in pending:
            results[j] = reference_judge(jobs[j], found, len(points), prec)
        pending, prec = [j for j in pending if results[j] is WIDER], prec * 2
    return [None if r is WIDER else r for r in results]


def listed(results):
    """``each`` jobs' results (``Each``) as tuples."""
    return [tuple(r) if type(r) is Each else r for r in results]


LEAVES = ["x", "w", "b", "0.1", "3", "pi"]
UNARY = ["tanh", "exp", "log", "sqrt", "relu", "abs", "sigmoid", "atan", "softplus", "-"]
BINARY = ["+", "-", "*", "/", "**2 +", "max"]


def random_model(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(LEAVES)
    if rng.random() < 0.5:
        f, a = rng.choice(UNARY), random_model(rng, depth - 1)
        return f"-({a})" if f == "-" else f"{f}({a})"
    op, a, b = rng.choice(BINARY), random_model(rng, depth - 1), random_model(rng, depth - 1)
    return f"max({a}, {b})" if op == "max" else f"({a}) {op} ({b})"


def random_points(rng: random.Random, count: int) -> list[dict[str, float]]:
    pick = [0.0, 1.0, -1.0, 1e-30, -2.5, 1e30, 700.0]  # switches, cancellations, blow-ups
    return [
        {n: rng.choice(pick) if rng.random() < 0.2 else rng.gauss(0, 2) for n in "xwb"}
        for _ in range(count)
    ]


def random_jobs(rng: random.Random, outputs: int, count: int) -> list[Job]:
    jobs = []
    for output in range(outputs):
        dtype = rng.choice(["float64", "float32", "bfloat16", None])
        jobs.append(Job(output, rng.choice(["sum", "mean"]), dtype))
        given = tuple(rng.choice(range(count)) for _ in range(rng.randint(1, 4)))
        jobs.append(Job(output, rng.choice(["sum", "mean"]), dtype, given))  # any order, repeats
        jobs += [Job(output, points=(k,)) for k in range(count)]
        jobs.append(Job(output, rng.choice(["sum", "mean"]), dtype, each=True))
    return jobs


def random_program(rng: random.Random):
    """The model, its two gradients of a squared error and the model as typed, compiled (a
    model undefined everywhere, 'sqrt(0.1 - pi)', is drawn again)."""
    while True:
        expr = parse(random_model(rng, 4))
        try:
            z = symbolic.to_sympy(expr)
        except GradcheckError:
            continue
        grads = symbolic.gradients((z - symbolic.symbol("x")) ** 2, ("w", "b"))
        return expr, compile_program([z, *grads], expr.tree)


@pytest.mark.parametrize("seed", range(40))
def test_streaming_gives_the_direct_results(seed):
    rng = random.Random(seed)
    expr, program = random_program(rng)
    points = random_points(rng, 7)
    jobs = random_jobs(rng, len(program.outputs), len(points))
    assert listed(certify(program, points, jobs)) == reference(program, points, jobs), expr.text


def test_random_programs_exercise_every_outcome():
    """The random cases above reach each kind of result: values, None and True."""
    seen = set()
    for seed in range(40):
        rng = random.Random(seed)
        _, program = random_program(rng)
        points = random_points(rng, 7)
        for result in certify(program, points, random_jobs(rng, 4, len(points))):
            seen.add(type(result).__name__)
    assert seen == {"Exact", "NoneType", "bool", "Each"}


def edge_balls() -> list[arb]:
    """Balls at the edges of the judgement: ends either side of a rounding boundary of the
    dtype, widths either side of 2^-80 relative and 2^-1200 absolute, beyond 2^1100."""
    balls = []
    with precision(4096):
        two = arb(2)
        middles = [arb(1), arb(3) / 7, arb(-5) / 3, two**1100, two**1100 + two**1050]
        middles += [1 + two**-53, 1 + two**-24, 1 + two**-8, 1 + two**-11]  # halfway: 64, 32, 16
        for mid in middles + [-m for m in middles]:
            for bits in (40, 79, 80, 81, 120, 200, 1199, 1200, 1201, 1300):
                radius = two**-bits
                balls += [arb(mid, radius * abs(mid)), arb(mid, radius), arb(mid + radius, radius)]
        balls += [arb(0), arb(0, two**-1250), arb(0, two**-1150), two**1100 + 1]
    return balls


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
@pytest.mark.parametrize("prec", [128, 256, 2048])
def test_judge_decides_as_narrow_and_mpmath(dtype, prec):
    job = Job(0, dtype=dtype, points=(0,))
    for ball in edge_balls():
        want = reference_judge(job, [[ball]], 1, prec)
        with precision(prec):
            got = judge(ball, dtype, prec)
        assert (WIDER if got is CERTIFY_WIDER else got) == want, (ball, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_judging_a_column_at_once_is_judging_each_ball(dtype):
    """``judge_all``: the usual balls (narrow, in range; some straddling a rounding boundary
    of float64, some of float32) at once, and any column with an unusual ball, as ``judge``."""
    with precision(4096):
        two = arb(2)
        middles = (1 + two**-53, 1 + two**-24, arb(1) / 3, -(two**-900))
        usual = [arb(m, abs(m) * two**-200) for m in middles]
    for balls in (usual, usual + edge_balls()):
        with precision(128):
            want = [judge(ball, dtype, 128, raw=True) for ball in balls]
            assert judge_all(balls, dtype, 128) == want
    assert CERTIFY_WIDER in want and any(type(w) is tuple for w in want)


def test_only_the_points_still_too_wide_are_evaluated_again():
    """(w + x) - w at w = 1e30, x = 1e-30 cancels 200 bits: those points need 256 bits and
    are certified there, the others (w = 1, x = 0.1 k) at 128 bits, as the direct way does."""
    expr = parse("(w + x) - w")
    program = compile_program([], expr.tree)  # as typed: SymPy would simplify it to x
    points = [{"w": 1e30, "x": 1e-30 * k} if k % 3 else {"w": 1.0, "x": 0.1 * k} for k in range(7)]
    jobs = [Job(0, each=True), Job(0, "mean"), Job(0, each=True, dtype=None)]
    found = listed(certify(program, points, jobs))
    assert found == reference(program, points, jobs)
    assert [z.prec for z in found[0]] == [128 if k % 3 == 0 else 256 for k in range(7)]
    assert [float(z.value) for z in found[0]] == [p["x"] for p in points]
    assert found[1].prec == 256 and found[2] == (True,) * 7


def test_each_reads_back_every_result_it_was_given():
    """Values kept as digits (zero, negative, any exponent up to 2^62 in size, 256 bits) or
    as they are (None, True, an exponent beyond 2^62, more bits) read back as the same."""
    values = [mpmath.mpf(0), mpmath.mpf(-3) / 7, mpmath.ldexp(mpmath.mpf(5), -2000)]
    raws = [v._mpf_ for v in values] + [(1, 3, 2**62, 2), (0, 1, -(2**63), 1)]
    raws += [(0, 2**256 - 1, -256, 256), (1, 2**257 - 1, 7, 257)]
    each = Each(256)
    for result in [*raws, None, True]:
        each.append(result)
    want = [Exact(mpmath.mp.make_mpf(r), True, 256) for r in raws] + [None, True]
    assert list(each) == want and len(each) == 9 and each[-1] is True
    with pytest.raises(IndexError):
        each[9]


@pytest.mark.parametrize("seed", range(3))
def test_chunks_of_points_give_the_direct_results(seed):
    """Over several chunks (``columns.CHUNK`` points each): sums carried from one chunk to
    the next, jobs over points in different chunks, holes in some chunks only."""
    rng = random.Random(seed)
    _, program = random_program(rng)
    points = random_points(rng, 2 * CHUNK + 77)
    jobs = [Job(o, r, "float32") for o in range(len(program.outputs)) for r in ("sum", "mean")]
    jobs += [Job(0, points=(5, 2 * CHUNK + 3, CHUNK - 1)), Job(1, each=True), Job(0, dtype=None)]
    assert listed(certify(program, points, jobs)) == reference(program, points, jobs)


def test_a_hole_in_one_chunk_only():
    """sqrt(x)*w undefined at one point of the second chunk: no sum, that point's value
    None, every other point's and a job over points elsewhere as the direct way gives."""
    expr = parse("sqrt(x)*w + b")
    z = symbolic.to_sympy(expr)
    program = compile_program([z, *symbolic.gradients(z, ("w", "b"))], expr.tree)
    rng = random.Random(7)
    points = [{"x": abs(rng.gauss(0, 2)), "w": 0.5, "b": -1.25} for _ in range(2 * CHUNK)]
    points[CHUNK + 10]["x"] = -1.0
    jobs = [Job(0, "mean"), Job(1), Job(0, points=(3, 2 * CHUNK - 1)), Job(0, each=True)]
    jobs += [Job(3, dtype=None), Job(2, "mean", "float32")]
    found = listed(certify(program, points, jobs))
    assert found == reference(program, points, jobs)
    assert found[0] is None and found[1] is None and found[4] is None and found[5] is not None
    assert found[2] is not None and found[3][CHUNK + 10] is None
    assert sum(v is None for v in found[3]) == 1

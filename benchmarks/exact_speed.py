"""The exact side: the mpmath path against the compiled Arb program, in the same run.

    python benchmarks/exact_speed.py [--repeat N] [--samples N]

For each model (and its mse loss) the same exact work is timed both ways at the same points:
the loss, the model at every point, every gradient (each certified to round to one float32
value) and the check that the model as typed is defined. ``mpmath`` is the path every value
took before (``exact_reduced``, ``exact_or_nan``, ``undefined_where``: a tree walker in
``mpmath.iv``); ``arb`` compiles everything once (``compile_program``, timed separately, paid
once per prepared model) and certifies it in one pass per precision (``certify``). Then the
growth of a whole ``check`` (prepare and run) over balanced sums of 10 to 100 terms, with the
exponent of a least-squares fit of log time on log terms. Medians of interleaved runs; no
thresholds (speed is measured, not asserted).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from functools import partial

from gradcheck_cli import torch_side
from gradcheck_cli.exact import evaluate, kinks, typed
from gradcheck_cli.exact.certify import Job, certify
from gradcheck_cli.exact.program import compile_program
from gradcheck_cli.losses import draw_targets
from gradcheck_cli.options import Options
from gradcheck_cli.pipeline import check, prepare

MLP = " + ".join(f"tanh(w{i}*x+b{i})*v{i}" for i in range(3)) + " + c"  # 10 parameters
MODELS = ["w*x+b", "tanh(w1*x+b1)*v1 + tanh(w2*x+b2)*v2 + c", MLP, "softplus(w*x)*exp(b)"]


def balanced(terms: list[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return f"({balanced(terms[:half])} + {balanced(terms[half:])})"


def sum_model(k: int) -> str:
    return balanced([f"tanh(w{i}*x)" for i in range(k)])


def mpmath_path(p, points) -> None:
    for e in (p.loss_expr, *p.grads):
        evaluate.exact_reduced(e, points, "mean", "float32")
    for point in points:
        kinks.exact_or_nan(p.z_expr, point)
    typed.undefined_where(p.expr, points)


def arb_path(p, program, points) -> None:
    count, last = len(p.grads), len(program.outputs) - 1
    jobs = [Job(i, "mean", "float32") for i in (0, *range(2, 2 + count))]
    jobs += [Job(1, each=True), Job(last, dtype=None)]  # as pipeline._certified asks
    certify(program, points, jobs)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(fns: list, repeat: int) -> list[float]:
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            times[i].append(timed(fn))
    return [statistics.median(t) for t in times]


def per_sample(repeat: int, samples: int) -> None:
    print(f"exact side per sample ({samples} samples, mse loss, float32), medians of {repeat}")
    print(f"{'model':48} {'mpmath us':>10} {'arb us':>9} {'ratio':>7} {'compile ms':>11}")
    for model in MODELS:
        options = Options(seed=1, samples=samples)
        p = prepare(model, options)
        draws = partial(draw_targets, p.loss, dtype="float32")
        points = list(torch_side.sample(p.roles, options, draws).points)
        build = partial(compile_program, [p.loss_expr, p.z_expr, *p.grads], p.expr.tree)
        old, new, compiling = interleaved(
            [partial(mpmath_path, p, points), partial(arb_path, p, build(), points), build],
            repeat,
        )
        shown = model if len(model) <= 48 else model[:45] + "..."
        print(
            f"{shown:48} {old / samples * 1e6:10.0f} {new / samples * 1e6:9.1f} "
            f"{old / new:6.1f}x {compiling * 1e3:11.2f}"
        )


def growth(repeat: int) -> None:
    sizes = [10, 20, 30, 50, 100]
    print(f"\nwhole check, balanced sums of k terms tanh(w_i*x), medians of {repeat}")
    print(f"{'terms':>6} {'check s':>9}")
    times = []
    for k in sizes:
        model = sum_model(k)
        times.append(statistics.median(timed(partial(check, model, seed=1)) for _ in range(repeat)))
        print(f"{k:6} {times[-1]:9.3f}")
    xs, ys = [math.log(k) for k in sizes], [math.log(t) for t in times]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    print(f"growth exponent (time ~ terms^e): e = {slope:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    check("w*x+b", seed=0)  # warm-up: imports and first-call caches
    per_sample(args.repeat, args.samples)
    growth(max(1, args.repeat // 2))


if __name__ == "__main__":
    main()

"""A random run of many checks: unexpected exceptions, slow checks, verdicts, bound methods.

    python benchmarks/random_checks.py [--checks N] [--seed S]

Seeded random models: nested calls of the whole function table (60% with arguments mapped into
the function's domain as in ``tests/domains.SAFE``, the rest raw, so undefined points and
one-line errors occur too), + - * / between them, leaves w, b, c, x, w*x, numbers, pi; every loss
(a bce model wrapped in sigmoid), float32 or float64, 1-3 samples, mean or sum. Prints counts of
statuses and of gradient verdicts, bound methods and certification, every check over 30 s,
every exception that is not a ``GradcheckError`` (a bug), and every ``fail`` (to be checked:
a real torch failure, or a false fail of gradcheck).
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from domains import SAFE  # noqa: E402

from gradcheck_cli.errors import GradcheckError
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.pipeline import check

LOSSES = [
    "mse",
    "l1",
    "huber",
    "smooth_l1",
    "bce",
    "bce_logits",
    "soft_margin",
    "poisson_nll",
    "gaussian_nll",
    "none",
    "(z-y)**4",
    "log(1+(z-y)**2)",
]
LEAVES = ["w", "b", "x", "w*x", "0.5", "2", "pi", "0.1", "c"]


def expression(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(LEAVES)
    if rng.random() < 0.55:
        name = rng.choice(sorted(FUNCTIONS))
        a, b = expression(rng, depth - 1), expression(rng, depth - 1)
        if rng.random() < 0.6 and name in SAFE:
            return SAFE[name].format(a=a, b=b)
        spec = FUNCTIONS[name]
        rest = ["0.5" if spec.constants else b] * (spec.min_args - 1)
        return f"{name}({', '.join([a, *rest])})"
    return f"({expression(rng, depth - 1)}) {rng.choice('+-*/')} ({expression(rng, depth - 1)})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    counts: collections.Counter[str] = collections.Counter()
    slow, bugs, fails = [], [], []
    start = time.time()
    for index in range(args.checks):
        model = expression(rng, rng.randint(1, 4))
        if not {"w", "b", "c"} & set(model.replace("(", " ").replace(")", " ").split()):
            model = f"w*({model})"
        loss = rng.choice(LOSSES)
        model = f"sigmoid({model})" if loss == "bce" else model
        options = dict(
            loss=loss,
            seed=rng.randint(0, 10_000),
            dtype=rng.choice(["float32", "float64"]),
            samples=rng.randint(1, 3),
            reduction=rng.choice(["mean", "sum"]),
        )
        began = time.time()
        try:
            result = check(model, **options)
        except GradcheckError:
            counts["status error"] += 1
        except Exception as exc:  # noqa: BLE001 - a bug: listed below
            bugs.append((model, options, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        else:
            counts[f"status {result.status}"] += 1
            for g in result.gradients:
                counts[f"verdict {g.verdict}"] += 1
                counts[f"bound {g.bound_method}"] += 1
                counts[f"certified {g.exact_certified}"] += 1
                if g.verdict == "fail":
                    fails.append((model, options, g.param, g.exact, g.autograd, g.note))
        if time.time() - began > 30:
            slow.append((model, options, time.time() - began))
            print(f"over 30 s: {slow[-1]}", flush=True)
        if (index + 1) % 500 == 0:
            print(f"{index + 1} checks, {time.time() - start:.0f} s", flush=True)
    print(f"{args.checks} checks (seed {args.seed}) in {time.time() - start:.0f} s")
    for key, count in sorted(counts.items()):
        print(f"  {key:24} {count}")
    print(f"over 30 s: {len(slow)}", *slow, sep="\n  ")
    print(f"exceptions other than GradcheckError: {len(bugs)}")
    for model, options, what, text in bugs:
        print(f"  {model} {options}: {what}\n{text}")
    print(f"fails: {len(fails)}", *fails, sep="\n  ")


if __name__ == "__main__":
    main()

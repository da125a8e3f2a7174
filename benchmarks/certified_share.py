"""How often is the exact value of a gradient certified by interval arithmetic?

    python benchmarks/certified_share.py [--checks N] [--seed S] [--by-function]

Seeded random checks over the whole function table (every function of the catalog, each applied
to an argument inside its domain, as in ``tests/test_property.py``), every loss, both dtypes,
1 to 3 samples. Prints the share of gradients whose exact value is certified (``exact_certified``)
among those with an exact value (``undefined`` gradients have none), and, with
``--by-function``, the share per function called. Checks that end in an error or take longer
than 20 s are counted and listed apart.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from domains import LEAVES, SAFE  # noqa: E402

from gradcheck_cli.errors import GradcheckError
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.losses import LOSSES
from gradcheck_cli.pipeline import check

LOSS_TARGETS = {"bce": "sigmoid({z})", "poisson_nll": "exp({z})"}  # models inside their domain


def expression(rng: random.Random, depth: int) -> tuple[str, str]:
    """A random model and the one function it is built around (every model has a 'w')."""
    name = rng.choice(sorted(FUNCTIONS))

    def sub(d: int) -> str:
        if d == 0 or rng.random() < 0.3:
            return rng.choice(LEAVES)
        kind = rng.random()
        if kind < 0.5:
            return SAFE.get(f := rng.choice(sorted(FUNCTIONS)), f + "({a})").format(
                a=sub(d - 1), b=sub(d - 1)
            )
        return f"({sub(d - 1)}) {rng.choice('+-*')} ({sub(d - 1)})"

    a = f"w*({sub(depth - 1)}) + b"
    return SAFE.get(name, name + "({a})").format(a=a, b=sub(depth - 1)), name


class Timeout(Exception):
    pass


def _alarm(*_: object) -> None:
    raise Timeout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--by-function", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    signal.signal(signal.SIGALRM, _alarm)
    counts: Counter[str] = Counter()
    per: dict[str, Counter[str]] = {}
    problems: list[str] = []
    start = time.perf_counter()
    for _ in range(args.checks):
        model, name = expression(rng, rng.randint(1, 3))
        loss = rng.choice(sorted(LOSSES))
        if loss in LOSS_TARGETS:
            model = LOSS_TARGETS[loss].format(z=model)
        options = {
            "loss": loss,
            "dtype": rng.choice(["float32", "float64"]),
            "samples": rng.randint(1, 3),
            "seed": rng.randint(0, 10**6),
        }
        signal.alarm(20)
        try:
            result = check(model, **options)
        except (GradcheckError, Timeout) as exc:
            problems.append(f"{model!r} {options}: {type(exc).__name__}: {exc}")
            continue
        finally:
            signal.alarm(0)
        for g in result.gradients:
            if g.verdict == "undefined":
                counts["undefined"] += 1
                continue
            key = "certified" if g.exact_certified else "not certified"
            counts[key] += 1
            per.setdefault(name, Counter())[key] += 1
    total = counts["certified"] + counts["not certified"]
    print(
        f"{args.checks} checks, {total} gradients with an exact value "
        f"({counts['undefined']} undefined), {time.perf_counter() - start:.0f} s"
    )
    print(f"certified: {counts['certified']}/{total} = {counts['certified'] / max(total, 1):.1%}")
    if args.by_function:
        for name, c in sorted(per.items(), key=lambda kv: kv[1]["certified"] / sum(kv[1].values())):
            n = sum(c.values())
            print(f"  {name:12} {c['certified']:4}/{n:<4} {c['certified'] / n:.0%}")
    for line in problems:
        print("problem:", line)


if __name__ == "__main__":
    main()

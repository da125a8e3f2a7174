"""How many gradients get the rigorous traced bound (``bound_method == "aten"``)?

    python benchmarks/bound_coverage.py [--checks N] [--seed S] [--verbose]

Draws ``N`` random checks (seeded, so the figure is repeatable) from the whole function table
and every loss: a model ``v*f(arg) + c`` for a function ``f`` of the catalog (its argument
mapped into the function's domain where it has one), a loss of ``LOSSES`` (with its option
settings, poisson_nll with both ``log_input`` settings and ``full``) or a custom loss
expression, float32 or float64, 1-3 samples, mean or sum. Prints the share of gradients whose
bound came from the traced aten graph, over the gradients that got a bound at all, and the
reasons of the others (``--verbose``: every check that fell back).
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from domains import DOMAIN  # noqa: E402

from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.pipeline import check

ARG = "w*x + b"
SECOND = {  # the other argument of a two-argument function
    "pow": ("exp(w*x + b)", "2.5"),
    "log": (DOMAIN["log"], "10"),
    "min": (ARG, "a*x"),
    "max": (ARG, "a*x"),
    "hypot": (ARG, "a*x"),
    "atan2": (ARG, "a*x + 1"),
    "leaky_relu": (ARG, "0.2"),
    "elu": (ARG, "0.5"),
    "softplus": (ARG, "2, 5"),
    "hardtanh": (ARG, "-0.5, 0.5"),
    "clamp": (ARG, "-0.5, 0.5"),
}
LOSSES = [
    ("mse", ()),
    ("l1", ()),
    ("mae", ()),
    ("huber", ()),
    ("huber", (("delta", 0.5),)),
    ("smooth_l1", ()),
    ("smooth_l1", (("beta", 0.5),)),
    ("bce", ()),
    ("bce_logits", ()),
    ("soft_margin", ()),
    ("poisson_nll", ()),
    ("poisson_nll", (("full", True),)),
    ("poisson_nll", (("log_input", False),)),
    ("poisson_nll", (("log_input", False), ("full", True))),
    ("gaussian_nll", ()),
    ("gaussian_nll", (("full", True),)),
    ("none", ()),
    ("(z-y)**4", ()),
    ("log(1 + (z-y)**2)", ()),
    ("abs(z-y)**3", ()),
]


def model_for(name: str, loss: str, log_input: bool) -> str:
    first, *rest = SECOND.get(name, (DOMAIN.get(name, ARG),))
    call = f"{name}({', '.join([first, *rest])})"
    if loss == "bce":
        return f"sigmoid(v*{call} + c)"  # z must be a probability
    if loss == "poisson_nll" and not log_input:
        return f"exp(v*{call} + c)"  # z must be a positive rate
    return f"v*{call} + c"


def draw(rng: random.Random) -> tuple[str, dict]:
    name = rng.choice(sorted(FUNCTIONS))
    loss, options = rng.choice(LOSSES)
    log_input = dict(options).get("log_input", True)
    return model_for(name, loss, log_input), {
        "loss": loss,
        "loss_options": options,
        "dtype": rng.choice(["float32", "float64"]),
        "samples": rng.randint(1, 3),
        "reduction": rng.choice(["mean", "sum"]),
        "seed": rng.randrange(1000),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    methods: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    for _ in range(args.checks):
        model, options = draw(rng)
        try:
            result = check(model, **options)
        except Exception as exc:  # noqa: BLE001 (a refused check counts as no gradient)
            methods["error"] += 1
            reasons[f"error: {type(exc).__name__}: {str(exc)[:80]}"] += 1
            continue
        for g in result.gradients:
            methods[g.bound_method] += 1
            if g.bound_method == "sympy":
                why = g.note.split("(", 1)[-1][:90] if "SymPy" in g.note else g.note[:90]
                reasons[why] += 1
                if args.verbose:
                    print(f"sympy: {model!r} {options}: {why}")
    bounded = methods["aten"] + methods["sympy"]
    share = methods["aten"] / bounded if bounded else 0.0
    print(f"checks {args.checks} (seed {args.seed}); gradients by bound method: {dict(methods)}")
    print(f"aten share: {methods['aten']}/{bounded} = {100 * share:.1f}%")
    for why, count in reasons.most_common(15):
        print(f"{count:5d}  {why}")


if __name__ == "__main__":
    main()

"""How much does a check cost? Ratios against baselines measured in the same run.

    python benchmarks/bench_check.py [--repeat N]

Baseline: one plain torch forward + backward of the same model (what a training step pays).
Measured: a full ``check`` (parse, SymPy gradients, lowering, tracing, autograd, exact
evaluation, aten-level bound), a ``run`` of an already prepared model (what a seed sweep pays
per seed: the traced graph is cached, so it is not re-traced), the tracing alone (paid once per
prepared model), and the exact bound of the traced graph alone. Prints medians and ratios; no
thresholds (speed is not a test).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from gradcheck_cli import torch_side
from gradcheck_cli.options import Options
from gradcheck_cli.pipeline import check, prepare, run
from gradcheck_cli.rounding import trace

MODELS = ["w*x+b", "w*x**2+b", "tanh(w1*x+b1)*v1 + tanh(w2*x+b2)*v2 + c", "softplus(w*x)*exp(b)"]


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plain_torch(prepared) -> None:
    values = torch_side.draw(prepared.roles, 1, 1, "float32")
    tensors = torch_side.build_inputs(prepared.roles, values, "float32")
    torch_side.run(prepared.forward, tensors, len(prepared.roles.params))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    check("w*x+b", seed=0)  # warm-up: imports and first-call caches
    print(
        f"{'model':45} {'torch':>9} {'check':>9} {'run':>9} {'trace':>9} {'bound':>9} "
        f"{'check/torch':>12} {'run/torch':>10} {'run/check':>10}"
    )
    for model in MODELS:
        prepared = prepare(model, Options(seed=1))
        base = median_time(lambda p=prepared: plain_torch(p), repeat)
        full = median_time(lambda m=model: check(m, seed=1), repeat)
        per_seed = median_time(lambda p=prepared: run(p, 2), repeat)
        values = torch_side.draw(prepared.roles, 1, 1, "float32")
        tensors = torch_side.build_inputs(prepared.roles, values, "float32")
        wrt = list(range(len(tensors) - len(prepared.roles.params), len(tensors)))
        tracing = median_time(
            lambda p=prepared, t=tensors, w=wrt: torch_side.trace(p.forward, t, w), repeat
        )
        traced = torch_side.trace(prepared.forward, tensors, wrt)
        bound = median_time(lambda t=tensors, g=traced: trace.bound(g, t, torch.float32), repeat)
        print(
            f"{model:45} {base * 1e3:8.2f}ms {full * 1e3:8.1f}ms {per_seed * 1e3:8.1f}ms "
            f"{tracing * 1e3:8.1f}ms {bound * 1e3:8.1f}ms {full / base:12.0f} "
            f"{per_seed / base:10.0f} {per_seed / full:10.2f}"
        )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")


if __name__ == "__main__":
    main()

"""Every figure of issue 11's speed table, each as a ratio against its baseline measured in the
same run (medians of interleaved runs: baseline, measured, baseline, measured, ...).

    .venv/bin/python benchmarks/speed.py            # the whole table (several minutes)
    .venv/bin/python benchmarks/speed.py --quick    # fewer repeats, 200 batch cases
    .venv/bin/python benchmarks/speed.py --only help,check   # some rows

Rows (name: what is measured, against what):
  check     one small check, whole process (``gradcheck 'w*x+b'``) vs
            ``python -c "import torch, sympy, typer, rich"``
  help      ``gradcheck --help`` vs ``python -c "import typer, rich"``
  inproc    one check in-process (``gradcheck_cli.check``) of each of 6 models vs
            ``torch.autograd.gradcheck`` in float64 of the same loss and parameters
  batch     ``--file`` of N distinct small models, one worker and ``--workers 2``: cases/s of
            the whole process (start-up included)
  seeds     ``--seeds`` sweep of one model: whole-process time of 1+K seeds minus 1 seed, / K
  samples   ``--samples 100000``, whole process: time and peak memory (max RSS) vs a plain
            torch script that draws the same inputs and runs the same forward and backward
  persample exact work per sample: (check at 1000 samples - check at 1 sample) / 999
  size      expression size: balanced sums of 10..100 terms tanh(w + k), times x, plus b;
            in-process check time; the growth exponent is the slope of log(time) over
            log(terms)
Speed is measured here, never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

PYTHON = sys.executable
GRADCHECK = str(Path(PYTHON).with_name("gradcheck"))
MODELS = {
    "w*x+b": "w*x+b",
    "w*x**2+b": "w*x**2+b",
    "tanh unit": "v*tanh(w*x+b)+c",
    "softplus*exp": "softplus(w*x)*exp(b)",
    "two tanh units": "tanh(w1*x+b1)*v1 + tanh(w2*x+b2)*v2 + c",
    "MLP, 10 params": "tanh(w1*x+b1)*v1 + tanh(w2*x+b2)*v2 + tanh(w3*x+b3)*v3 + c",
}
PLAIN_SCRIPT = """
import torch
n = 100000
data, weights = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
x = torch.randn(n, generator=data)
y = torch.randn(n, generator=data)
w = torch.randn(1, generator=weights).requires_grad_()
b = torch.randn(1, generator=weights).requires_grad_()
loss = torch.nn.functional.mse_loss(w * x + b, y)
print(*torch.autograd.grad(loss, [w, b]))
"""


def run_process(argv: list[str], stdin: str | None = None) -> tuple[float, int]:
    """Wall time (s) and peak resident memory (bytes) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if stdin is not None:
        process.stdin.write(stdin.encode())
        process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):  # 1: a check failed, still a measured run
        raise RuntimeError(f"{argv[:4]} exited {process.returncode}")
    return elapsed, usage.ru_maxrss * 1024


def paired(base, measured, repeat: int) -> tuple[float, float]:
    """Medians of ``base()`` and ``measured()``, interleaved so load hits both alike."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, into in ((base, times[0]), (measured, times[1])):
            into.append(fn())
    return statistics.median(times[0]), statistics.median(times[1])


def clock(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def row(figure: str, baseline: str, base: float | None, now: str, ratio: str, goal: str):
    base_text = "-" if base is None else f"{baseline} {base:.3g} s"
    print(f"| {figure} | {base_text} | {now} | {ratio} | {goal} |", flush=True)


def bench_check(repeat: int) -> None:
    imports = [PYTHON, "-c", "import torch, sympy, typer, rich"]
    base, now = paired(
        lambda: run_process(imports)[0], lambda: run_process([GRADCHECK, "w*x+b"])[0], repeat
    )
    row(
        "one small check, whole process",
        "imports",
        base,
        f"{now:.3g} s",
        f"{now / base:.2f}x",
        "<= 1.15x",
    )


def bench_help(repeat: int) -> None:
    imports = [PYTHON, "-c", "import typer, rich"]
    base, now = paired(
        lambda: run_process(imports)[0], lambda: run_process([GRADCHECK, "--help"])[0], repeat
    )
    row("`gradcheck --help`", "imports", base, f"{now:.3g} s", f"{now / base:.2f}x", "<= 2.0x")


def torch_gradcheck(model: str):
    """``torch.autograd.gradcheck`` of the same loss in float64, as a function of the params."""
    import torch

    from gradcheck_cli import torch_side
    from gradcheck_cli.options import Options
    from gradcheck_cli.pipeline import prepare

    prepared = prepare(model, Options(seed=1, dtype="float64"))
    roles = prepared.roles
    values = torch_side.draw(roles, 1, 1, "float64")
    tensors = torch_side.build_inputs(roles, values, "float64")
    fixed, params = tensors[: -len(roles.params)], tensors[-len(roles.params) :]

    def loss(*ps):
        return prepared.forward(*fixed, *ps)[1]

    return lambda: torch.autograd.gradcheck(loss, params)


def bench_inproc(repeat: int) -> None:
    from gradcheck_cli import check

    check("w*x+b", seed=0)  # imports and first-call caches
    ratios = []
    for name, model in MODELS.items():
        base_fn = torch_gradcheck(model)
        base_fn()
        base, now = paired(
            lambda f=base_fn: clock(f), lambda m=model: clock(lambda: check(m, seed=1)), repeat
        )
        ratios.append(now / base)
        print(
            f"    {name:16} gradcheck {base * 1e3:6.2f} ms, check {now * 1e3:7.2f} ms, "
            f"{now / base:5.1f}x",
            flush=True,
        )
    row(
        "one check in-process, 6 models",
        "torch.autograd.gradcheck",
        None,
        "",
        f"{min(ratios):.1f}-{max(ratios):.1f}x",
        "<= 5x",
    )


def batch_file(cases: int) -> str:
    templates = ["w*x*{k}+b", "tanh(w*x+{k})*v", "w*x**2+b*{k}", "sigmoid(w*x-{k})+b"]
    lines = [templates[i % 4].format(k=i // 4 + 1) for i in range(cases)]
    return "\n".join(lines) + "\n"


def bench_batch(cases: int, repeat: int) -> None:
    text = batch_file(cases)
    for workers in (1, 2):
        argv = [GRADCHECK, "--file", "-", "-q", "--workers", str(workers)]
        times = [run_process(argv, stdin=text)[0] for _ in range(repeat)]
        rate = cases / statistics.median(times)
        goal = ">= 150 cases/s" if workers == 1 else ">= 280 cases/s"
        name = f"{cases} distinct small models, `--file`, " + (
            "one worker" if workers == 1 else "`--workers 2`"
        )
        row(name, "", None, f"{rate:.1f} cases/s", "-", goal)


def bench_seeds(seeds: int, repeat: int) -> None:
    one = [GRADCHECK, "w*x+b", "--seeds", "1..1", "-q"]
    many = [GRADCHECK, "w*x+b", "--seeds", f"1..{seeds + 1}", "-q"]
    base, now = paired(lambda: run_process(one)[0], lambda: run_process(many)[0], repeat)
    per_seed = (now - base) / seeds
    row(
        "`--seeds` sweep of one model",
        "",
        None,
        f"{per_seed * 1e3:.2f} ms per seed",
        "-",
        "<= 2 ms per seed",
    )


def bench_samples(repeat: int) -> None:
    plain = [PYTHON, "-c", PLAIN_SCRIPT]
    ours = [GRADCHECK, "w*x+b", "--samples", "100000", "--timeout", "0"]
    runs: tuple[list, list] = ([], [])
    for _ in range(repeat):
        runs[0].append(run_process(plain))
        runs[1].append(run_process(ours))
    (t0, m0), (t1, m1) = ([statistics.median(v) for v in zip(*r, strict=True)] for r in runs)
    row(
        "`--samples 100000`, whole process",
        "plain torch script",
        t0,
        f"{t1:.3g} s, {m1 / 2**20:.0f} MB (plain {m0 / 2**20:.0f} MB)",
        f"{t1 / t0:.1f}x, {m1 / m0:.2f}x memory",
        "<= 3x, <= 1.5x memory",
    )


def bench_persample(repeat: int) -> None:
    from gradcheck_cli import check

    one = statistics.median(clock(lambda: check("v*tanh(w*x+b)+c", seed=1)) for _ in range(repeat))
    many = statistics.median(
        clock(lambda: check("v*tanh(w*x+b)+c", seed=1, samples=1000))
        for _ in range(max(1, repeat // 3))
    )
    row(
        "exact work per sample (tanh unit)",
        "",
        None,
        f"{(many - one) / 999 * 1e6:.0f} us",
        "-",
        "-",
    )


def balanced(terms: list[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return f"({balanced(terms[:half])} + {balanced(terms[half:])})"


def bench_size(repeat: int) -> None:
    from gradcheck_cli import check

    check("w*x+b", seed=0)  # imports and first-call caches
    sizes, times = (10, 20, 50, 100), []
    for n in sizes:  # 100 terms: 503 nodes, within the parser's 600
        model = balanced([f"tanh(w + {k})" for k in range(1, n + 1)]) + "*x + b"
        times.append(
            statistics.median(clock(lambda m=model: check(m, seed=1)) for _ in range(repeat))
        )
        print(f"    {n:4} terms: {times[-1]:.3f} s", flush=True)
    xs, ys = [math.log(n) for n in sizes], [math.log(t) for t in times]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    row(
        "expression size: balanced sums of 10-100 terms",
        "",
        None,
        f"time ~ n^{slope:.2f}; 100 terms {times[-1]:.2f} s",
        "-",
        "linear; 100 terms <= 0.5 s",
    )


def compile_package() -> str:
    """Write gradcheck_cli's bytecode as ``pip install`` does for a regular install (the
    baselines' packages have theirs); an editable install under PYTHONDONTWRITEBYTECODE=1
    would otherwise compile every module from source in every process measured."""
    import compileall

    import gradcheck_cli

    folder = Path(gradcheck_cli.__file__).parent
    ok = compileall.compile_dir(str(folder), quiet=1)
    return f"compiled ({folder})" if ok else f"NOT all compiled ({folder})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 200 batch cases")
    parser.add_argument("--only", default="", help="comma-separated rows (default: all)")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    cases = 200 if args.quick else 1000
    rows = {
        "check": lambda: bench_check(repeat),
        "help": lambda: bench_help(repeat * 2),
        "inproc": lambda: bench_inproc(repeat * 3),
        "batch": lambda: bench_batch(cases, 1 if args.quick else 3),
        "seeds": lambda: bench_seeds(200 if args.quick else 1000, repeat),
        "samples": lambda: bench_samples(1 if args.quick else 3),
        "persample": lambda: bench_persample(repeat),
        "size": lambda: bench_size(1 if args.quick else 3),
    }
    chosen = [r for r in args.only.split(",") if r] or list(rows)
    compiled = compile_package()
    import torch

    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(f"gradcheck_cli's bytecode: {compiled}")
    print("| figure | baseline | gradcheck now | ratio | goal |\n|---|---|---|---|---|")
    for name in chosen:
        rows[name]()


if __name__ == "__main__":
    main()

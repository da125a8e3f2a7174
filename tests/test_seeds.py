"""The seeded draws: the tutorial's rule, a default seed that is not degenerate, seed 0 apart.

Expected draws are made here with torch's own generators, independently of gradcheck's code.
"""

import pytest
import torch
from conftest import TUTORIAL, gradcheck

from gradcheck_cli.options import OPTIONS, Options
from gradcheck_cli.pipeline import check


def tutorial_rule(data_seed: int, weights_seed: int, dtype=torch.float32) -> dict[str, float]:
    """x, y from one generator, w, b from another, as the tutorial draws them."""
    data = torch.Generator().manual_seed(data_seed)
    x, y = (torch.randn(1, generator=data, dtype=dtype).item() for _ in range(2))
    weights = torch.Generator().manual_seed(weights_seed)
    w, b = (torch.randn(1, generator=weights, dtype=dtype).item() for _ in range(2))
    return {"x": x, "y": y, "w": w, "b": b}


def drawn(result) -> dict[str, float]:
    return {name: values[0] for name, values in result.values}


def test_the_default_seed_is_the_tutorials_draw():
    assert Options().seed == 1 and OPTIONS["seed"].default == 1
    assert drawn(check("w*x+b")) == TUTORIAL == tutorial_rule(10, 1)


@pytest.mark.parametrize("seed", range(2, 6))
def test_seeds_above_0_follow_the_tutorials_rule(seed):
    assert drawn(check("w*x+b", seed=seed)) == tutorial_rule(10 * seed, seed)


def test_seed_0_draws_its_parameters_from_a_stream_of_their_own():
    degenerate = tutorial_rule(0, 0)
    assert (degenerate["x"], degenerate["y"]) == (degenerate["w"], degenerate["b"])  # the trap
    values = drawn(check("w*x+b", seed=0))
    assert values == tutorial_rule(0, 2**64 - 1)
    assert (values["x"], values["y"]) == (degenerate["x"], degenerate["y"])  # inputs unchanged


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_no_seed_a_sweep_starts_with_draws_an_input_equal_to_a_parameter(dtype):
    for seed in (None, *range(0, 5)):
        options = {} if seed is None else {"seed": seed}
        values = drawn(check("w*x+v*t+b", dtype=dtype, **options))
        inputs = {values[n] for n in ("x", "t", "y")}
        params = {values[n] for n in ("w", "v", "b")}
        assert not inputs & params, (seed, values)


def test_a_sweep_from_seed_0_runs_every_seed():
    result = gradcheck("w*x+b", "--seeds", "0..4", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 5 and all('"status": "pass"' in line for line in lines)


def swapped_hypot():
    """torch.hypot whose backward gives each argument the other's partial derivative."""

    class Swapped(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return torch.hypot(a, b)

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            h = torch.hypot(a, b)
            return grad * b / h, grad * a / h

    return Swapped.apply


def test_the_draws_of_seed_0_and_the_default_expose_a_swapped_backward():
    """With x == w (the tutorial's rule at seed 0) the swap is invisible; not any more."""
    hidden = check(
        "hypot(w, x)", loss="none", params=["w"], at={"x": 0.75, "w": 0.75},
        lowerings={"hypot": swapped_hypot()},
    )  # fmt: skip
    assert hidden.status == "pass"
    for seed in (None, 0):
        options = {} if seed is None else {"seed": seed}
        result = check("hypot(w, x)", loss="none", lowerings={"hypot": swapped_hypot()}, **options)
        assert result.status == "fail", seed

"""The same checks give the same verdicts and numbers as recorded: a guard for speed work.

Every case below was run once and its outcome written to ``tests/data/equivalence.json``;
rewriting how a check is computed (tracing, exact evaluation, caching) must not change any
verdict, any exact or autograd value, or any bound beyond the last bits of its own rounding.
Regenerate only for a deliberate change of results, and say why in the commit:

    GRADCHECK_REGENERATE=1 .venv/bin/python -m pytest tests/test_equivalence.py
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from gradcheck_cli import check
from gradcheck_cli.errors import GradcheckError

DATA = Path(__file__).parent / "data" / "equivalence.json"

MODELS = [
    "w*x+b",
    "w*x**2+b",
    "w1*x+w2*x**2+b",
    "tanh(w*x+b)",
    "sigmoid(w*x+b)*c",
    "tanh(w1*x+b1)*v1 + tanh(w2*x+b2)*v2 + c",
    "softplus(w*x)*exp(b)",
    "sqrt(x*x+1)*w + log(1+exp(b))",
    "relu(w*x+b) + leaky_relu(c*x)",
    "sin(w*x)*cos(b) + atan(c*x)",
    "exp(-w*w*x*x)/(1+b*b)",
    "gelu(w*x+b) + silu(c*x)",
    "max(w*x, b) + min(c, x)",
    "abs(w*x-b)**1.5",
    "erf(w*x) + elu(b*x)",
]
SETTINGS = [
    {"loss": "mse", "seed": 1},
    {"loss": "mse", "seed": 3, "dtype": "float64"},
    {"loss": "l1", "seed": 2},
    {"loss": "huber", "seed": 4, "samples": 3},
    {"loss": "bce_logits", "seed": 5},
    {"loss": "none", "seed": 6, "dtype": "float64", "samples": 2, "reduction": "sum"},
    {"loss": "mse", "seed": 7, "samples": 4},
    {"loss": "smooth_l1", "seed": 8, "dtype": "float64"},
    {"loss": "none", "seed": 9},
    {"loss": "mse", "seed": 10, "samples": 2, "reduction": "sum"},
    {"loss": "l1", "seed": 11, "dtype": "float64", "samples": 3},
    {"loss": "bce_logits", "seed": 12, "dtype": "float64"},
    {"loss": "huber", "seed": 13},
    {"loss": "mse", "seed": 14, "dtype": "float64", "samples": 5},
    {"loss": "none", "seed": 15, "samples": 3},
    {"loss": "mse", "seed": 16},
    {"loss": "l1", "seed": 17},
    {"loss": "mse", "seed": 18, "dtype": "float64"},
    {"loss": "none", "seed": 19, "dtype": "float64"},
    {"loss": "huber", "seed": 20, "dtype": "float64", "samples": 2},
]
CASES = [(model, setting) for model in MODELS for setting in SETTINGS]


def case_id(case) -> str:
    model, setting = case
    return model + " " + " ".join(f"{k}={v}" for k, v in setting.items())


def outcome(model: str, setting: dict) -> dict:
    try:
        result = check(model, **setting).to_dict()
    except GradcheckError as err:
        return {"error": type(err).__name__}
    return {
        "status": result["status"],
        "z": result["z"],
        "loss": result["loss_value"],
        "gradients": [
            {key: g[key] for key in ("param", "verdict", "exact", "autograd", "bound")}
            for g in result["gradients"]
        ],
    }


def same_float(a, b, rel: float) -> bool:
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return a == b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def same(recorded, now, rel: float = 0.0) -> bool:
    if isinstance(recorded, dict) and isinstance(now, dict):
        if recorded.keys() != now.keys():
            return False
        return all(same(recorded[k], now[k], 1e-9 if k == "bound" else rel) for k in recorded)
    if isinstance(recorded, list) and isinstance(now, list):
        return len(recorded) == len(now) and all(map(same, recorded, now))
    if isinstance(recorded, float | int) and isinstance(now, float | int):
        return same_float(float(recorded), float(now), rel)
    return recorded == now


if os.environ.get("GRADCHECK_REGENERATE"):
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(json.dumps({case_id(c): outcome(*c) for c in CASES}, indent=1) + "\n")

RECORDED = json.loads(DATA.read_text()) if DATA.exists() else {}


def test_every_case_is_recorded():
    assert sorted(RECORDED) == sorted(case_id(c) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_same_outcome_as_recorded(case):
    assert same(RECORDED[case_id(case)], outcome(*case))

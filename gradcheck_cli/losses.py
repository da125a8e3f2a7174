"""The catalog of losses: each loss once, its per-sample SymPy formula and its torch call.

The symbolic side reduces the per-sample formula over the samples (mean or sum); the torch
side calls torch's own loss function, so torch's implementation is what gets verified.
Adding a loss is adding one entry to ``LOSSES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

REDUCTIONS = ("mean", "sum")


@dataclass(frozen=True)
class LossSpec:
    name: str
    needs_target: bool
    formula: Callable[[Any, Any], Any]  # per-sample SymPy formula in z (model) and y (target)
    torch: Callable[[Any, Any, str], Any]  # (z, y, reduction) -> scalar tensor
    description: str


def _mse_torch(z: Any, y: Any, reduction: str) -> Any:
    import torch.nn.functional as F  # noqa: N812

    return F.mse_loss(z, y, reduction=reduction)


def _none_torch(z: Any, y: Any, reduction: str) -> Any:
    return z.mean() if reduction == "mean" else z.sum()


LOSSES: dict[str, LossSpec] = {
    spec.name: spec
    for spec in [
        LossSpec("mse", True, lambda z, y: (z - y) ** 2, _mse_torch,
                 "(z - y)**2, torch.nn.functional.mse_loss"),
        LossSpec("none", False, lambda z, y: z, _none_torch,
                 "the model output itself (no target)"),
    ]
}


def loss_spec(name: str) -> LossSpec:
    from .errors import UnsupportedError

    if name not in LOSSES:
        known = ", ".join(LOSSES)
        raise UnsupportedError(f"unknown loss '{name}' (supported: {known})")
    return LOSSES[name]

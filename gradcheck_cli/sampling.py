"""Seeded values, drawn exactly as the autograd tutorial draws them.

Inputs then the target come from a generator seeded with ``10*seed``, parameters from one
seeded with ``seed``; each symbol is one ``randn`` of its shape, in order of first appearance.
A local ``torch.Generator`` leaves torch's global RNG untouched. Values are returned as Python
floats, which hold float32 and float64 values exactly.
"""

from __future__ import annotations

from collections.abc import Mapping

from .problem import Roles


def draw(roles: Roles, seed: int, samples: int, dtype: str,
         fixed: Mapping[str, float] | None = None) -> dict[str, tuple[float, ...]]:
    """Name -> values (``samples`` of them for inputs and target, one for parameters)."""
    import torch

    torch_dtype = getattr(torch, dtype)
    values: dict[str, tuple[float, ...]] = {}
    data = torch.Generator().manual_seed(10 * seed)
    for name in roles.inputs + ((roles.target,) if roles.target else ()):
        values[name] = tuple(torch.randn(samples, generator=data, dtype=torch_dtype).tolist())
    weights = torch.Generator().manual_seed(seed)
    for name in roles.params:
        values[name] = tuple(torch.randn(1, generator=weights, dtype=torch_dtype).tolist())
    for name, value in (fixed or {}).items():
        rounded = torch.tensor(value, dtype=torch_dtype).item()
        values[name] = (rounded,) * len(values[name])
    return values

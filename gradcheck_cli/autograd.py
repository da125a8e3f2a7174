"""Torch side: the lowered model and torch's loss at a point, and autograd's gradients."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .problem import Roles


@dataclass(frozen=True)
class AutogradRun:
    z: tuple[float, ...]
    loss: float
    grads: tuple[float | None, ...]  # None where autograd gave no gradient (unused parameter)


def build_inputs(roles: Roles, values: Mapping[str, tuple[float, ...]], dtype: str) -> list[Any]:
    """Tensors in the order inputs, target, params; parameters require grad."""
    import torch

    torch_dtype = getattr(torch, dtype)
    names = roles.inputs + ((roles.target,) if roles.target else ()) + roles.params
    return [torch.tensor(values[n], dtype=torch_dtype, requires_grad=n in roles.params)
            for n in names]


def loss_function(model: Callable[[Mapping[str, Any]], Any], loss: Callable[..., Any],
                  roles: Roles, reduction: str, samples: int) -> Callable[..., Any]:
    """A function of tensors (inputs, target, params) returning (z, loss)."""
    names = roles.inputs + ((roles.target,) if roles.target else ()) + roles.params

    def forward(*tensors: Any) -> tuple[Any, Any]:
        import torch

        env = dict(zip(names, tensors, strict=True))
        env["__dtype__"] = tensors[0].dtype
        z = model(env)
        if not isinstance(z, torch.Tensor):
            z = torch.tensor(z, dtype=tensors[0].dtype)
        z = torch.broadcast_to(z, (samples,))
        target = env[roles.target] if roles.target else None
        return z, loss(z, target, reduction)

    return forward


def run(forward: Callable[..., Any], tensors: list[Any], n_params: int) -> AutogradRun:
    import torch

    z, loss = forward(*tensors)
    params = tensors[len(tensors) - n_params:]
    if loss.requires_grad:
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    else:
        grads = (None,) * n_params
    return AutogradRun(
        z=tuple(z.detach().tolist()),
        loss=float(loss.detach()),
        grads=tuple(None if g is None else float(g.sum()) for g in grads),
    )

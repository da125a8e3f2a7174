"""Autograd's own numbers at every node: the forward value and the accumulated adjoint.

The model runs node by node (each operation lowered by ``lowering.lower`` over its children's
tensors, so the kernels and their order are the check's own), every intermediate tensor is kept,
and ``torch.autograd.grad`` of the loss with respect to all of them gives autograd's adjoint of
each node, dL/d node, as its backward pass accumulated it. A parameter used twice gets one alias
(``view_as``, whose backward is the identity) per use, so each use has its own adjoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gradcheck_cli import lowering, torch_side
from gradcheck_cli.explain.tree import TreeNode, leaf_expr, placeholder, shallow_expr
from gradcheck_cli.roles import Roles


@dataclass(frozen=True)
class Observed:
    """Per node: torch's forward values and autograd's adjoint (None: no gradient flows)."""

    values: tuple[tuple[float, ...], ...]
    adjoints: tuple[tuple[float, ...] | None, ...]


def _floats(value: Any) -> tuple[float, ...]:
    if hasattr(value, "detach"):
        return tuple(float(v) for v in value.detach().reshape(-1).tolist())
    return (float(value),)


class _Walk:
    """Runs the tree on tensors, recording the value of every node."""

    def __init__(self, nodes: tuple[TreeNode, ...], overrides: Mapping[str, Callable[..., Any]]):
        self.nodes = nodes
        self.lowered = {
            n.index: lowering.lower(shallow_expr(n) if n.kind == "op" else leaf_expr(n), overrides)
            for n in nodes[1:]
        }
        self.record: dict[int, Any] = {}

    def value(self, index: int, env: Mapping[str, Any]) -> Any:
        node = self.nodes[index]
        if node.kind != "op":
            value = self.lowered[index](env)
            if getattr(value, "requires_grad", False):
                value = value.view_as(value)  # this use of the parameter, on its own
        else:
            inner = {placeholder(k): self.value(c, env) for k, c in enumerate(node.slots)}
            inner["__dtype__"] = env["__dtype__"]
            for child in set(node.children) - set(node.slots):
                self.record[child] = self.lowered[child](env)
            value = self.lowered[index](inner)
        self.record[index] = value
        return value


def observe(
    nodes: tuple[TreeNode, ...],
    roles: Roles,
    loss: Callable[..., Any],
    reduction: str,
    samples: int,
    tensors: list[Any],
    overrides: Mapping[str, Callable[..., Any]] | None = None,
) -> Observed:
    """Run the loss of the tree at ``tensors`` (inputs, target, params) and read autograd."""
    import torch

    walk = _Walk(nodes, dict(overrides or {}))
    forward = torch_side.loss_function(
        lambda env: walk.value(1, env), loss, roles, reduction, samples
    )
    fresh = [t.detach().clone().requires_grad_(t.requires_grad) for t in tensors]
    z, total = forward(*fresh)
    if roles.target:
        walk.record[nodes[0].children[1]] = fresh[len(roles.inputs)]
    walk.record[0] = total
    wanted = [i for i, v in walk.record.items() if isinstance(v, torch.Tensor) and v.requires_grad]
    grads = (
        torch.autograd.grad(total, [walk.record[i] for i in wanted], allow_unused=True)
        if wanted
        else ()
    )
    adjoints: dict[int, tuple[float, ...] | None] = {i: None for i in range(len(nodes))}
    for i, g in zip(wanted, grads, strict=True):
        adjoints[i] = _floats(g) if g is not None else _floats(torch.zeros_like(walk.record[i]))
    values = tuple(_floats(walk.record[i]) for i in range(len(nodes)))
    return Observed(values, tuple(adjoints[i] for i in range(len(nodes))))

"""The facts of an explanation: frozen dataclasses with ``to_dict()`` (the JSON of --explain)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gradcheck_cli.outcomes import json_number


@dataclass(frozen=True)
class Node:
    """One node of the computation graph: its forward value per sample, exact and torch's.

    ``forward_error``: |torch's value - the operation evaluated exactly at torch's own inputs|
    over the rounding tolerance of that one operation (> 1: the forward departs here)."""

    index: int
    text: str
    kind: str  # input, target, param, constant, op, loss
    parent: int | None
    children: tuple[int, ...]
    exact: tuple[float, ...]
    torch: tuple[float, ...]
    forward_error: float | None = None
    op: str = ""  # an operation's name: +, *, tanh, loss ("" for a leaf)
    tex: str = ""  # the sub-expression as LaTeX

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": self.text,
            "kind": self.kind,
            "op": self.op,
            "parent": self.parent,
            "children": list(self.children),
            "exact": [json_number(v) for v in self.exact],
            "torch": [json_number(v) for v in self.torch],
            "forward_error": json_number(self.forward_error),
        }


@dataclass(frozen=True)
class Edge:
    """One edge of the chain rule, parent -> child: the local derivative d parent / d child
    and the accumulated adjoint dL/d child (summed over the samples), exact and autograd's.

    ``step_error``: |autograd's adjoint of the child - autograd's adjoint of the parent times
    the exact local derivative at torch's own values| over the rounding tolerance of that one
    backward step (> 1: autograd departs from the chain rule here)."""

    parent: int
    child: int
    local: str  # the formula, in the sub-expressions of the model (the loss's: in z and y)
    local_exact: tuple[float, ...]  # per sample
    adjoint_exact: float
    adjoint_autograd: float | None
    step_error: float | None = None
    local_tex: str = ""  # the local derivative as LaTeX

    @property
    def departs(self) -> bool:
        return self.step_error is not None and self.step_error > 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "parent": self.parent,
            "child": self.child,
            "local": self.local,
            "local_exact": [json_number(v) for v in self.local_exact],
            "adjoint_exact": json_number(self.adjoint_exact),
            "adjoint_autograd": json_number(self.adjoint_autograd),
            "step_error": json_number(self.step_error),
            "departs": self.departs,
        }


@dataclass(frozen=True)
class Chain:
    """The tutorial's chain rule for one parameter: dL/dp = sum_i dL/dz_i * dz_i/dp."""

    param: str
    dz_dp: str  # formula
    dl_dz: tuple[float, ...]  # per sample, exact (the reduction's 1/N included)
    dz_dp_exact: tuple[float, ...]
    exact: float
    autograd: float | None
    dz_dp_tex: str = ""  # LaTeX
    gradient_tex: str = ""  # the per-sample gradient of the loss, dl/dp, as LaTeX

    def to_dict(self) -> dict[str, Any]:
        return {
            "param": self.param,
            "dz_dp": self.dz_dp,
            "dl_dz": [json_number(v) for v in self.dl_dz],
            "dz_dp_exact": [json_number(v) for v in self.dz_dp_exact],
            "exact": json_number(self.exact),
            "autograd": json_number(self.autograd),
        }


@dataclass(frozen=True)
class Explanation:
    model: str
    loss: str
    reduction: str
    dtype: str
    samples: int
    dl_dz: str  # formula of d loss / d z per sample, in z and y (1/N of a mean included)
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]  # breadth first from the loss: the order of the backward pass
    chains: tuple[Chain, ...]
    dl_dz_tex: str = ""  # LaTeX of dl_dz, model and per-sample loss (in z and y)
    model_tex: str = ""
    loss_tex: str = ""

    @property
    def first_backward(self) -> Edge | None:
        """The first backward step (from the loss down) where autograd leaves the chain rule."""
        return next((e for e in self.edges if e.departs), None)

    @property
    def first_forward(self) -> Node | None:
        """The first operation (in evaluation order) whose forward value departs."""
        late_first = [n for n in reversed(self.nodes) if _over(n.forward_error)]
        return late_first[0] if late_first else None

    def to_dict(self) -> dict[str, Any]:
        first = self.first_backward
        forward = self.first_forward
        return {
            "model": self.model,
            "loss": self.loss,
            "dl_dz": self.dl_dz,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
            "chains": [c.to_dict() for c in self.chains],
            "first_backward_departure": None if first is None else [first.parent, first.child],
            "first_forward_departure": None if forward is None else forward.index,
        }


def _over(ratio: float | None) -> bool:
    return ratio is not None and (math.isnan(ratio) or ratio > 1)

"""The chain rule of one check, edge by edge, with exact numbers and autograd's.

Exact side: every node's value, every local derivative d parent / d child (SymPy, the catalog's
derivative rules) and the accumulated adjoint dL/d node, multiplied down from the loss, all in
mpmath at the exact binary values of the point. Autograd's side: ``observe``.

Where autograd departs is decided one step at a time, so that an error upstream is not blamed
on every node below it: a backward step parent -> child departs when autograd's adjoint of the
child differs from autograd's adjoint of the parent times the exact local derivative at torch's
own forward values by more than ``STEP_ROUNDINGS`` roundings of the dtype, scaled by the step's
sensitivity to its inputs (sum_j |c_j * d local / d c_j|) and to its output (a backward written
in the output, such as tanh's 1 - y**2, loses |p * d local / d c| / |local| of a rounded p).
The same test, on the values, finds a forward that departs. It locates wrong backward or forward
formulas; whether a gradient passes is still decided by the verdict's rigorous bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import mpmath
import sympy

from gradcheck_cli import torch_side
from gradcheck_cli.dtypes import DTYPES
from gradcheck_cli.errors import EvaluationError, MagnitudeError, UsageError
from gradcheck_cli.exact import evaluate, symbolic
from gradcheck_cli.explain.facts import Chain, Edge, Explanation, Node
from gradcheck_cli.explain.observe import observe
from gradcheck_cli.explain.tree import backward_order, build_tree, leaf_expr, shallow_expr
from gradcheck_cli.losses import LOSSES, draw_targets
from gradcheck_cli.pipeline import prepare, run

STEP_ROUNDINGS = 16  # roundings one backward or forward step may take (a few kernels' worth)
MAX_SAMPLES = 1000  # an explanation evaluates every edge at every sample


def _value(expr: sympy.Expr, values: dict[str, float]) -> Any:
    """``expr`` at exact binary ``values`` (mpmath), NaN where undefined."""
    try:
        return evaluate.exact(expr, values)
    except (EvaluationError, MagnitudeError, ZeroDivisionError):
        return mpmath.nan


class _Symbols:
    """Per node: the operation over placeholders (``shallow``), its full expression, its
    derivatives in each placeholder, and theirs (the sensitivities of the step)."""

    def __init__(self, nodes: Sequence[Any], prepared: Any) -> None:
        roles, n = prepared.roles, prepared.options.samples
        factor = sympy.Rational(1, n) if prepared.options.reduction == "mean" else sympy.S.One
        self.slots = [[symbolic.symbol(f"_c{k}") for k in range(len(p.slots))] for p in nodes]
        target = symbolic.symbol(roles.target) if roles.target else None
        zs = self.slots[0]
        self.shallow: list[Any] = [factor * prepared.loss.formula(zs[0], zs[1] if target else None)]
        self.shallow += [symbolic.to_sympy(shallow_expr(p)) if p.slots else None for p in nodes[1:]]
        self.full: list[Any] = [None] * len(nodes)
        for p in reversed(nodes):
            if not p.slots:
                self.full[p.index] = symbolic.to_sympy(leaf_expr(p))
            else:
                bind = dict(zip(self.slots[p.index], (self.full[c] for c in p.slots), strict=True))
                self.full[p.index] = self.shallow[p.index].xreplace(bind)
        self.node_slots = [p.slots for p in nodes]
        self.local = [
            [sympy.diff(s, c) for c in cs] for s, cs in zip(self.shallow, self.slots, strict=True)
        ]
        self.second = [
            [[sympy.diff(d, c) for c in cs] for d in ds]
            for ds, cs in zip(self.local, self.slots, strict=True)
        ]
        names = {zs[0]: symbolic.symbol("z")} | ({zs[1]: target} if target is not None else {})
        self.display = {0: [d.xreplace(names) for d in self.local[0]]}

    def derivative(self, parent: int, k: int) -> Any:
        """d parent / d child k, in the model's sub-expressions (the loss's: in z and y)."""
        if parent in self.display:
            return sympy.factor_terms(self.display[parent][k])
        children = (self.full[c] for c in self.node_slots[parent])
        return self.local[parent][k].xreplace(dict(zip(self.slots[parent], children, strict=True)))

    def formula(self, parent: int, k: int) -> str:
        return sympy.sstr(self.derivative(parent, k), order="none")


def explain(prepared: Any, seed: int | None = None) -> Explanation:
    """The chain rule of ``prepared`` at ``seed`` (default: its options' seed)."""
    options = prepared.options if seed is None else replace(prepared.options, seed=seed)
    if options.samples > MAX_SAMPLES:
        raise UsageError(f"--explain shows at most {MAX_SAMPLES} samples, not {options.samples}")
    roles = prepared.roles
    targets = partial(draw_targets, prepared.loss, dtype=options.dtype)
    point = torch_side.sample(roles, options, targets)
    loss_text = options.loss  # a loss expression as typed, a named one called on z (and y)
    if options.loss in LOSSES:
        loss_text += f"(z, {roles.target})" if roles.target else "(z)"
    nodes = build_tree(prepared.expr, roles, loss_text)
    seen = observe(
        nodes,
        roles,
        prepared.loss.torch,
        options.reduction,
        options.samples,
        list(point.tensors),
        getattr(prepared, "lowerings", None),
    )
    symbols = _Symbols(nodes, prepared)
    steps = _Steps(nodes, symbols, seen, list(point.points), DTYPES[options.dtype].unit_roundoff)
    edges = tuple(steps.edge(p, c) for p, c in backward_order(nodes))
    return Explanation(
        model=prepared.expr.text,
        loss=options.loss,
        reduction=options.reduction,
        dtype=options.dtype,
        samples=options.samples,
        dl_dz=symbols.formula(0, 0),
        dl_dz_tex=sympy.latex(symbols.derivative(0, 0), order="none"),
        model_tex=sympy.latex(prepared.z_expr),
        loss_tex=_loss_tex(prepared),
        nodes=tuple(steps.node(p) for p in nodes),
        edges=edges,
        chains=tuple(_chain(prepared, name, edges, steps, seen) for name in roles.params),
    )


def check_explained(model: str, options: Any, lowerings: Any = None) -> tuple[Any, Explanation]:
    """The check of ``model`` and its explanation, from one prepared problem."""
    prepared = prepare(model, options, lowerings)
    return run(prepared), explain(prepared)


def _loss_tex(prepared: Any) -> str:
    """The per-sample loss in z and y, as LaTeX."""
    roles = prepared.roles
    y = symbolic.symbol(roles.target) if roles.target else None
    return sympy.latex(prepared.loss.formula(symbolic.symbol("z"), y), order="none")


def _chain(prepared: Any, name: str, edges: tuple[Edge, ...], steps: Any, seen: Any) -> Chain:
    """dL/dp = sum_i dL/dz_i * dz_i/dp, as the tutorial writes it."""
    dz_dp = symbolic.gradients(prepared.z_expr, (name,))[0]
    dl_dz = steps.exact_adjoint[1]
    dz = [_value(dz_dp, p) for p in steps.points]
    uses = [n.index for n in steps.nodes if n.kind == "param" and n.text == name]
    got = [sum(seen.adjoints[i]) for i in uses if seen.adjoints[i] is not None]
    return Chain(
        name,
        str(dz_dp),
        tuple(float(v) for v in dl_dz),
        tuple(float(v) for v in dz),
        float(sum((a * b for a, b in zip(dl_dz, dz, strict=True)), mpmath.mpf(0))),
        math.fsum(got) if got else None,
        sympy.latex(dz_dp),
        sympy.latex(prepared.grads[prepared.roles.params.index(name)]),
    )


class _Steps:
    """Exact values and adjoints, and the one-step checks against autograd's."""

    def __init__(self, nodes: Any, symbols: _Symbols, seen: Any, points: list, u: float) -> None:
        self.nodes, self.symbols, self.seen, self.points, self.u = nodes, symbols, seen, points, u
        self.exact = [[_value(symbols.full[p.index], pt) for pt in points] for p in nodes]
        self.exact[0] = [mpmath.fsum(self.exact[0])]  # the loss: reduced over the samples
        self.exact_adjoint: dict[int, list[Any]] = {0: [mpmath.mpf(1)] * len(points)}

    def edge(self, parent: int, child: int) -> Edge:
        k = self.nodes[parent].slots.index(child)
        local = self.symbols.local[parent][k]
        at_point = [
            _value(
                local,
                self._bind(parent, lambda c, i=i: self.exact[c][min(i, len(self.exact[c]) - 1)]),
            )
            for i in range(len(self.points))
        ]
        adjoint = [a * b for a, b in zip(self.exact_adjoint[parent], at_point, strict=True)]
        self.exact_adjoint[child] = adjoint
        got = self.seen.adjoints[child]
        return Edge(
            parent,
            child,
            self.symbols.formula(parent, k),
            tuple(float(v) for v in at_point),
            float(mpmath.fsum(adjoint)),
            None if got is None else math.fsum(got),
            self._step_error(parent, k),
            sympy.latex(self.symbols.derivative(parent, k), order="none"),
        )

    def _bind(self, parent: int, value: Any) -> dict[str, Any]:
        slots = self.nodes[parent].slots
        return {
            s.name: float(value(c)) for s, c in zip(self.symbols.slots[parent], slots, strict=True)
        }

    def _torch_at(self, parent: int, i: int) -> dict[str, Any]:
        def value(c: int) -> float:
            values = self.seen.values[c]
            return values[min(i, len(values) - 1)]

        return self._bind(parent, value)

    def _terms(self, parent: int, k: int, i: int) -> tuple[Any, Any]:
        """(the local derivative at torch's values of sample i, its rounding scale)."""
        at = self._torch_at(parent, i)
        local = self.symbols.local[parent][k]
        lt = _value(local, at)
        p = _value(self.symbols.shallow[parent], at)
        second = [_value(d, at) for d in self.symbols.second[parent][k]]
        scale = abs(lt)
        for s, d in zip(self.symbols.slots[parent], second, strict=True):
            scale += abs(at[s.name] * d)
        if lt != 0:
            scale += abs(p * second[k] / lt)
        return lt, scale

    def _step_error(self, parent: int, k: int) -> float | None:
        got_parent = self.seen.adjoints[parent]
        got = self.seen.adjoints[self.nodes[parent].slots[k]]
        if got_parent is None or got is None:
            return None
        expected, tolerance = [], []
        for i, a in enumerate(got_parent):
            lt, scale = self._terms(parent, k, i)
            expected.append(a * lt)
            tolerance.append(STEP_ROUNDINGS * self.u * abs(a) * scale)
        if len(got) == len(expected):
            return max(_ratio(g - e, t) for g, e, t in zip(got, expected, tolerance, strict=True))
        summed = mpmath.fsum(expected)
        spread = len(expected) * self.u * mpmath.fsum(abs(e) for e in expected)
        return _ratio(got[0] - summed, mpmath.fsum(tolerance) + spread)

    def node(self, node: Any) -> Node:
        exact = tuple(float(v) for v in self.exact[node.index])
        return Node(
            node.index,
            node.text,
            node.kind,
            node.parent,
            node.children,
            exact,
            self.seen.values[node.index],
            self._forward_error(node) if node.slots else None,
            node.op,
            sympy.latex(self.symbols.full[node.index]) if node.index else "L",
        )

    def _forward_error(self, node: Any) -> float:
        values = self.seen.values[node.index]
        count = len(self.points) if node.index == 0 else len(values)
        expected, tolerance = [], []
        for i in range(count):
            at = self._torch_at(node.index, i)
            p = _value(self.symbols.shallow[node.index], at)
            scale = abs(p) + sum(
                abs(at[s.name] * _value(d, at))
                for s, d in zip(
                    self.symbols.slots[node.index], self.symbols.local[node.index], strict=True
                )
            )
            expected.append(p)
            tolerance.append(STEP_ROUNDINGS * self.u * scale * (count if node.index == 0 else 1))
        if node.index == 0:
            return _ratio(values[0] - mpmath.fsum(expected), mpmath.fsum(tolerance))
        return max(_ratio(v - e, t) for v, e, t in zip(values, expected, tolerance, strict=True))


def _ratio(error: Any, tolerance: Any) -> float:
    if mpmath.isnan(error) or mpmath.isnan(tolerance):
        return math.nan
    if tolerance == 0:
        return 0.0 if error == 0 else math.inf
    return float(abs(error) / tolerance)

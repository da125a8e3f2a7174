"""The loss, the model and every gradient compiled straight from the tree, without SymPy.

``compile_adjoint`` gives the program ``compile_program`` gives for the SymPy loss, model and
gradients (outputs: loss, model, one gradient per parameter, the tree as typed), built from the
validated tree instead: the model is the tree as typed, and the gradients are reverse mode over
it, each node's local derivative times its parent's adjoint. A local derivative is SymPy's own
(``derivative.diff`` of the catalog's function, or of a power, on stand-in symbols), computed
and compiled once per function and kept as a recipe of steps that each call splices in; the
loss and its derivative in the model's value likewise, once per loss. A batch of models that
only report verdicts then never builds a SymPy expression per model (about 0.8 ms a model).

The values are the same numbers: certification rounds each ball to the same value of the dtype
(``exact/certify.py``). Where this program has no value at a point, or a value it cannot tell
from 0 or from a double (``Exact.tie``: SymPy may prove it exactly that, as it proves c/c - 1
zero), ``exact/certified.py`` certifies again with the SymPy program, so such points are
decided as before.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from gradcheck_cli.exact.program import FAILURES, Compiler, Program, Unsupported
from gradcheck_cli.expr.catalog import FUNCTIONS

__all__ = ["compile_adjoint"]


@dataclass(frozen=True)
class _Recipe:
    """A compiled SymPy expression of stand-in symbols: steps with recipe-local slots."""

    inputs: dict[str, int]  # stand-in name -> local slot
    steps: tuple[tuple[int, Any, Callable[..., Any], tuple[int, ...], bool], ...]
    output: int


_RECIPES: dict[Hashable, _Recipe | None] = {}  # None: SymPy's form has no program


def _recipe(key: Hashable, make: Callable[[], Any]) -> _Recipe:
    if key not in _RECIPES:
        try:
            c = Compiler()
            out = c.sympy(make())
            names = {name: slot for slot, name in c.inputs.items()}
            steps = tuple((s, c.heads[s], fn, args, lazy) for s, fn, args, lazy in c.steps)
            _RECIPES[key] = _Recipe(names, steps, out)
        except Unsupported:
            _RECIPES[key] = None
    found = _RECIPES[key]
    if found is None:
        raise Unsupported(key)
    return found


def _stand_in(i: int) -> Any:
    from gradcheck_cli.exact.symbolic import symbol

    return symbol(f"_a{i}")  # user names cannot start with _


def _local(name: str, args: tuple[Any, ...], i: int) -> Any:
    """d name(args)/d args[i], args each an exact constant or None (a stand-in symbol)."""
    from gradcheck_cli.exact.functions import build
    from gradcheck_cli.exact.symbolic import gradients

    called = [_stand_in(k) if a is None else a for k, a in enumerate(args)]
    whole = called[0] ** called[1] if name == "**" else build(name, called)
    return gradients(whole, (f"_a{i}",))[0]


class _Adjoint(Compiler):
    def __init__(self) -> None:
        super().__init__()
        self.slot_of: dict[ast.AST, int] = {}
        self.names: dict[ast.AST, frozenset[str]] = {}
        self.reached: dict[str, list[int | None]] = {}  # parameter -> adjoints at its leaves

    def typed(self, node: ast.AST) -> int:
        if node not in self.slot_of:
            self.slot_of[node] = super().typed(node)
        return self.slot_of[node]

    def splice(self, recipe: _Recipe, bound: dict[str, int]) -> int:
        local = {slot: bound[name] for name, slot in recipe.inputs.items()}
        for slot, head, fn, args, lazy in recipe.steps:
            local[slot] = self.step(head, fn, [local[a] for a in args], lazy)
        return local[recipe.output]

    def free(self, node: ast.AST) -> frozenset[str]:
        """The names of inputs and parameters in ``node`` (pi and E are numbers)."""
        if node not in self.names:
            if isinstance(node, ast.Name):
                found = frozenset() if node.id in ("pi", "E") else frozenset((node.id,))
            else:
                found = frozenset().union(*map(self.free, ast.iter_child_nodes(node)))
            self.names[node] = found
        return self.names[node]

    def times(self, adjoint: int | None, *factors: int) -> int | None:
        """adjoint * factors (None: 1)."""
        args = [*([] if adjoint is None else [adjoint]), *factors]
        if not args:
            return None
        return args[0] if len(args) == 1 else self.mul(args)

    def negated(self, adjoint: int | None) -> int:
        return self.number(-1) if adjoint is None else self.neg(adjoint)

    def back(self, node: ast.AST, adjoint: int | None, params: frozenset[str]) -> None:
        """Add ``adjoint`` (d z / d node; None: 1) to every parameter's leaves below."""
        if not self.free(node) & params:
            return
        if isinstance(node, ast.Name):
            self.reached[node.id].append(adjoint)
        elif isinstance(node, ast.UnaryOp):
            usub = isinstance(node.op, ast.USub)
            self.back(node.operand, self.negated(adjoint) if usub else adjoint, params)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            self.back(node.left, adjoint, params)
            right = self.negated(adjoint) if isinstance(node.op, ast.Sub) else adjoint
            self.back(node.right, right, params)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            left, right = self.typed(node.left), self.typed(node.right)
            self.back(node.left, self.times(adjoint, right), params)
            self.back(node.right, self.times(adjoint, left), params)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left, right = self.typed(node.left), self.typed(node.right)
            inverse = self.powi(right, -1)
            self.back(node.left, self.times(adjoint, inverse), params)
            down = self.times(adjoint, left, inverse, inverse)
            self.back(node.right, self.negated(down), params)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            self.call("**", [node.left, node.right], adjoint, params)
        elif isinstance(node, ast.Call) and FUNCTIONS[node.func.id].interval:
            self.call(node.func.id, node.args, adjoint, params)
        else:
            raise Unsupported(node)

    def call(
        self, name: str, args: Sequence[ast.AST], adjoint: int | None, params: frozenset[str]
    ) -> None:
        from gradcheck_cli.exact.symbolic import constant

        name = "**" if name == "pow" else name
        exact = tuple(None if self.free(a) else constant(a) for a in args)
        bound = {f"_a{k}": self.typed(a) for k, a in enumerate(args) if exact[k] is None}
        for i, arg in enumerate(args):
            if self.free(arg) & params:
                key = ("local", name, exact, i)
                recipe = _recipe(key, lambda i=i: _local(name, exact, i))
                self.back(arg, self.times(adjoint, self.splice(recipe, bound)), params)


def compile_adjoint(
    tree: ast.AST,
    loss: tuple[Hashable, Callable[..., Any]],
    params: Sequence[str],
    target: str | None,
) -> Program | None:
    """The program of the loss, the model, its gradients in ``params`` and the tree as typed,
    or None where a node has no program here. ``loss``: a key naming the loss with its options,
    and its per-sample formula (SymPy, of the model's value and the target)."""
    from gradcheck_cli.exact.symbolic import symbol

    key, formula = loss
    c = _Adjoint()
    try:
        z = c.typed(tree)
        bound = {"_z": z, **({"_y": c.input(target)} if target else {})}
        y = symbol("_y") if target else None
        value = c.splice(_recipe(("loss", key), lambda: formula(symbol("_z"), y)), bound)
        slope = c.splice(
            _recipe(("dloss", key), lambda: _gradient(formula(symbol("_z"), y))), bound
        )
        c.reached = {p: [] for p in params}
        c.back(tree, None, frozenset(params))
        grads = [c.times(slope, _total(c, c.reached[p])) for p in params]
    except (Unsupported, RecursionError, *FAILURES):  # the SymPy program says
        return None
    return c.program([value, z, *grads, z])


def _gradient(loss: Any) -> Any:
    from gradcheck_cli.exact.symbolic import gradients

    return gradients(loss, ("_z",))[0]


def _total(c: _Adjoint, adjoints: list[int | None]) -> int:
    """The sum of a parameter's adjoints (each None: 1)."""
    slots = [c.number(1) if a is None else a for a in adjoints]
    if not slots:
        return c.number(0)
    return slots[0] if len(slots) == 1 else c.add(slots)

"""User-defined functions (``--define "swish(u) = u*sigmoid(u)"``): what one is, what it means.

A definition is parsed by the same safe parser as a model (no eval): its body is an expression
of the grammar in its own arguments, and may call catalog functions and earlier definitions
(so it cannot recurse). A model that calls a defined function means its body with the
arguments put in (``expand``): that is what SymPy differentiates and what the exact side
evaluates. The torch side runs the body too, unless the user lowers the name to their own
implementation (``--lower swish=mylib:fused_swish``), which is then checked against it.
Definitions are read by ``expr.definitions``.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    """``name(params) = body``; ``body`` is the validated tree of the right-hand side."""

    name: str
    params: tuple[str, ...]
    body: ast.expr
    text: str


def expand(tree: ast.expr, definitions: Mapping[str, Definition]) -> ast.expr:
    """``tree`` with every call of a defined function replaced by its body, the arguments
    (expanded first) put in for its parameters. The input tree is not modified."""
    if not definitions:
        return tree
    return _Expander(definitions).visit(copy.deepcopy(tree))


class _Expander(ast.NodeTransformer):
    def __init__(self, definitions: Mapping[str, Definition]):
        self.definitions = definitions

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        definition = self.definitions.get(node.func.id) if isinstance(node.func, ast.Name) else None
        if definition is None:
            return node
        bound = dict(zip(definition.params, node.args, strict=True))
        body = _Substitute(bound).visit(copy.deepcopy(definition.body))
        return self.visit(ast.copy_location(body, node))


class _Substitute(ast.NodeTransformer):
    def __init__(self, bound: Mapping[str, ast.expr]):
        self.bound = bound

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.bound:
            return ast.copy_location(copy.deepcopy(self.bound[node.id]), node)
        return node

"""The computation graph of a model as the tutorial draws it: one node per sub-expression.

Each operation becomes a *shallow* node: the operation with its non-constant children replaced
by placeholder symbols (``_c0``, ``_c1``: user names cannot start with ``_``). The same shallow
node is lowered to torch (so torch runs the operation exactly as ``torch_side`` lowers it) and
built in SymPy (so its local derivatives, d node / d child, are exact formulas). Constant
sub-trees (``2``, ``pi/2``) are leaves: torch receives them as numbers.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Any

from gradcheck_cli.expr.numbers import constant_value
from gradcheck_cli.expr.parse import Expr
from gradcheck_cli.roles import Roles


@dataclass(frozen=True)
class TreeNode:
    """One node: ``kind`` is input, target, param, constant, op or loss."""

    index: int
    text: str
    kind: str
    parent: int | None
    children: tuple[int, ...]  # every child, constants included
    slots: tuple[int, ...]  # the children behind the placeholders _c0, _c1, ...
    ast_node: Any  # the sub-tree (an op: the shallow node with placeholders)
    op: str = ""  # an operation's name as drawn: +, *, tanh, ...


_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


def op_name(node: ast.AST) -> str:
    if isinstance(node, ast.BinOp):
        return _SYMBOLS[type(node.op)]
    if isinstance(node, ast.UnaryOp):
        return "-" if isinstance(node.op, ast.USub) else "+"
    return node.func.id if isinstance(node, ast.Call) else ""


def placeholder(k: int) -> str:
    return f"_c{k}"


def _is_leaf(node: ast.AST) -> bool:
    return isinstance(node, ast.Name | ast.Constant) or constant_value(node) is not None


def _child_fields(node: ast.AST) -> list[tuple[str, int | None]]:
    """(field, index in a list field or None) of each child, in evaluation order."""
    if isinstance(node, ast.BinOp):
        return [("left", None), ("right", None)]
    if isinstance(node, ast.UnaryOp):
        return [("operand", None)]
    if isinstance(node, ast.Call):
        return [("args", i) for i in range(len(node.args))]
    return []


def _get(node: ast.AST, where: tuple[str, int | None]) -> ast.AST:
    value = getattr(node, where[0])
    return value if where[1] is None else value[where[1]]


def _set(node: ast.AST, where: tuple[str, int | None], child: ast.AST) -> None:
    if where[1] is None:
        setattr(node, where[0], child)
    else:
        getattr(node, where[0])[where[1]] = child


def _kind(node: ast.AST, roles: Roles) -> str:
    if not _is_leaf(node):
        return "op"
    if isinstance(node, ast.Name) and node.id in roles.params:
        return "param"
    if isinstance(node, ast.Name) and node.id == roles.target:
        return "target"
    if isinstance(node, ast.Name) and node.id in roles.inputs:
        return "input"
    return "constant"


def build_tree(expr: Expr, roles: Roles, loss_text: str) -> tuple[TreeNode, ...]:
    """The loss (node 0), the model (node 1) and every sub-expression, parents first; the
    target, if any, is the loss's second child."""
    nodes: list[TreeNode] = []
    nodes.append(TreeNode(0, loss_text, "loss", None, (), (), None, "loss"))
    model = _add(expr.tree, 0, roles, nodes)
    children = (model,)
    if roles.target:
        target = ast.Name(id=roles.target, ctx=ast.Load())
        children += (_add(target, 0, roles, nodes),)
    nodes[0] = TreeNode(0, loss_text, "loss", None, children, children, None, "loss")
    return tuple(nodes)


def _add(node: ast.AST, parent: int, roles: Roles, nodes: list[TreeNode]) -> int:
    index = len(nodes)
    text = ast.unparse(node)
    nodes.append(TreeNode(index, text, _kind(node, roles), parent, (), (), node))
    if _is_leaf(node):
        return index
    shallow = copy.copy(node)
    if isinstance(node, ast.Call):
        shallow.args = list(node.args)
    children, slots = [], []
    for where in _child_fields(node):
        child = _get(node, where)
        child_index = _add(child, index, roles, nodes)
        children.append(child_index)
        if constant_value(child) is None:
            _set(shallow, where, ast.Name(id=placeholder(len(slots)), ctx=ast.Load()))
            slots.append(child_index)
    nodes[index] = TreeNode(
        index,
        text,
        "op",
        parent,
        tuple(children),
        tuple(slots),
        ast.fix_missing_locations(shallow),
        op_name(node),
    )
    return index


def shallow_expr(node: TreeNode) -> Expr:
    """The operation of ``node`` over its placeholders, as an expression to lower or build."""
    return Expr(ast.unparse(node.ast_node), node.ast_node, ())


def leaf_expr(node: TreeNode) -> Expr:
    return Expr(node.text, node.ast_node, ())


def backward_order(nodes: tuple[TreeNode, ...]) -> list[tuple[int, int]]:
    """Every (parent, child) edge, breadth first from the loss: the order autograd's backward
    pass reaches them."""
    edges, queue = [], [0]
    while queue:
        parent = queue.pop(0)
        for child in nodes[parent].slots:
            edges.append((parent, child))
            queue.append(child)
    return edges

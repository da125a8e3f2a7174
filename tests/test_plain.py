"""What the tree tells of SymPy's expression (``exact/plain.py``) against SymPy itself.

Independent answer: SymPy's own expression of each part. A plain model's every part with a
name keeps a free symbol (nothing folds to a constant) and holds no switch; a model said to
have no inexact constant has none in ``symbolic.to_sympy_with_constants``.
"""

from __future__ import annotations

import ast

import pytest
import sympy
from domains import LEAVES, SAFE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcheck_cli import check
from gradcheck_cli.errors import EvaluationError, GradcheckError
from gradcheck_cli.exact import symbolic
from gradcheck_cli.exact.functions import spec_of
from gradcheck_cli.exact.plain import inexact_constant, plain, smooth_loss
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.expr.parse import Expr, parse
from gradcheck_cli.losses import loss_spec


def _call(name: str, a: str, b: str) -> str:
    return SAFE.get(name, name + "({a})").format(a=a, b=b)


# cancellations on purpose: x - x, w/w, a number 0, pi, 0.1 and 1/3 among the leaves
FOLDING = ["w", "b", "x", "w*x", "0", "2", "0.5", "0.1", "pi", "1/3", "x-x", "w/w", "-1"]
EXPRESSIONS = st.recursive(
    st.sampled_from(LEAVES + FOLDING),
    lambda inner: st.one_of(
        st.builds(_call, st.sampled_from(sorted(FUNCTIONS)), inner, inner),
        st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner, st.sampled_from("+-*/"), inner),
        st.builds(lambda a, k: f"({a})**{k}", inner, st.sampled_from(["2", "3", "0", "-1"])),
    ),
    max_leaves=6,
)


def _switch(expr: sympy.Expr) -> bool:
    for node in sympy.preorder_traversal(expr):
        spec = spec_of(node.func) if isinstance(node, sympy.Function) else None
        if isinstance(node, sympy.Piecewise) or (spec is not None and spec.switches):
            return True
    return False


@settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(EXPRESSIONS)
def test_a_plain_model_folds_nothing_and_has_no_switch(model):
    try:
        tree = parse(model).tree
    except GradcheckError:
        return
    if not plain(tree):
        return
    for node in ast.walk(tree):
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - {"pi", "E"}
        if names and isinstance(node, ast.expr):
            value = symbolic.to_sympy(Expr(ast.unparse(node), node, tuple(sorted(names))))
            assert value.free_symbols, (model, ast.unparse(node))
            assert not _switch(value), (model, ast.unparse(node))


@settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(EXPRESSIONS)
def test_a_model_without_inexact_constants_has_none_for_sympy(model):
    try:
        expr = parse(model)
        _, constants = symbolic.to_sympy_with_constants(expr)
    except (GradcheckError, OverflowError):
        return
    if not inexact_constant(expr.tree):
        assert constants == (), model


@pytest.mark.parametrize(
    "model", ["w*x+b", "tanh(w*x+1)*v", "w*x**2+b*2", "sigmoid(w*x-3)+b", "exp(w)/(1+b*x)"]
)
def test_the_usual_models_are_plain(model):
    assert plain(parse(model).tree) and not inexact_constant(parse(model).tree)


@pytest.mark.parametrize(
    "model",
    ["w*x-w*x+b", "w/w+b", "x*0+w", "sqrt(w)", "relu(w)", "atan2(w, 0)", "w**0.5", "w*pi"],
)
def test_what_may_fold_or_switch_is_not_plain(model):
    assert not plain(parse(model).tree)


@pytest.mark.parametrize(("model", "inexact"), [("w*0.1", True), ("w*0.5", False), ("w/3", False)])
def test_inexact_constants(model, inexact):
    assert inexact_constant(parse(model).tree) is inexact


def test_undefined_everywhere_is_still_an_error_before_any_run():
    with pytest.raises(EvaluationError, match="undefined at every point"):
        check("w + 1/(x-x)")


@pytest.mark.parametrize(("loss", "smooth"), [("mse", True), ("none", True), ("l1", False)])
def test_smooth_losses(loss, smooth):
    assert smooth_loss((loss, ()), loss_spec(loss).formula) is smooth

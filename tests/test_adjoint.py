"""The tree's program (reverse mode over the tree, ``exact/adjoint.py``) against SymPy's.

Independent answer: the program compiled from SymPy's own loss, model and gradients
(``sympy.diff`` through ``symbolic.gradients``). At every point both certify, or neither does
(the tree's may hand a point back to SymPy's, never give a value SymPy's has not), and the
certified values are the same double.
"""

from __future__ import annotations

import ast

import pytest
from domains import LEAVES, SAFE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcheck_cli import check
from gradcheck_cli.exact import symbolic
from gradcheck_cli.exact.adjoint import compile_adjoint
from gradcheck_cli.exact.certify import Job, certify
from gradcheck_cli.exact.program import compile_program
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.expr.parse import parse
from gradcheck_cli.losses import loss_spec

LOSSES = ["mse", "none", "l1", "huber", "smooth_l1", "bce_logits", "(z-y)**4"]
POINTS = [
    {"x": 0.3, "w": -1.25, "b": 0.1, "c": 2.0, "y": 0.7},
    {"x": -2.5, "w": 0.75, "b": -0.4, "c": 0.5, "y": -1.5},
]


def both(model: str, loss: str) -> tuple[list, list]:
    """Per output (loss, z, each gradient): its float at POINTS[0], from each program
    (None: no certified value)."""
    expr, spec = parse(model), loss_spec(loss)
    params = tuple(s for s in expr.symbols if s not in ("x", "y"))
    target = "y" if spec.needs_target else None
    tree = compile_adjoint(expr.tree, ((loss, ()), spec.formula), params, target)
    z = symbolic.to_sympy(expr)
    loss_expr = spec.formula(z, symbolic.symbol("y") if target else None)
    grads = symbolic.gradients(loss_expr, params)
    sympy_program = compile_program([loss_expr, z, *grads], expr.tree)
    jobs = [Job(i, "mean", "float64") for i in range(2 + len(params))]
    found = []
    for program in (tree, sympy_program):
        if program is None:
            found.append(None)
            continue
        found.append(
            [None if v is None else float(v.value) for v in certify(program, POINTS, jobs)]
        )
    return found[0], found[1]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize(
    "model",
    [
        "w*x+b",
        "tanh(w*x+b)*c",
        "sigmoid(w*x-3)+b",
        "w*x**2+b*2",
        "exp(-w*w*x*x)/(1+b*b)",
        "sin(w*x)*cos(b) + atan(c*x)",
        "gelu(w*x+b) + silu(c*x) + erf(w*x)",
        "sqrt(x*x+1)*w + log(1+exp(b)) + elu(b*x)",
        "relu(w*x+b) + leaky_relu(c*x, 0.25)",
        "max(w*x, b) + min(c, x) + abs(w*x-b)**1.5",
        "w**b + 2**(w*x) - (w-b)/(c+3)",
        "pow(w, 3)*x + b/w",
    ],
)
def test_the_trees_program_certifies_what_sympys_does(model, loss):
    tree, sympy_side = both(model, loss)
    assert tree is not None, "every function of these has a program"
    assert len(tree) == len(sympy_side)
    for mine, theirs in zip(tree, sympy_side, strict=True):
        assert mine is None or mine == theirs


def _call(name: str, a: str, b: str) -> str:
    return SAFE.get(name, name + "({a})").format(a=a, b=b)


EXPRESSIONS = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.one_of(
        st.builds(_call, st.sampled_from(sorted(FUNCTIONS)), inner, inner),
        st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner, st.sampled_from("+-*/"), inner),
    ),
    max_leaves=6,
)


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(EXPRESSIONS, st.sampled_from(LOSSES))
def test_random_models_certify_the_same_values(model, loss):
    if not {"w", "b"} & set(parse(model).symbols):
        model = f"w*({model})"
    try:
        tree, sympy_side = both(model, loss)
    except Exception as exc:  # noqa: BLE001 - a model SymPy refuses is not this test's subject
        if type(exc).__module__.startswith("gradcheck_cli"):
            return
        raise
    if tree is None:
        return
    for mine, theirs in zip(tree, sympy_side, strict=True):
        assert mine is None or mine == theirs, (model, loss, tree, sympy_side)


def test_a_point_the_trees_program_cannot_decide_is_sympys():
    """sqrt(w*w) at w = 0: reverse mode over the tree divides by sqrt(0), SymPy's gradient of
    |w| is sign(w), 0 there: the point is certified by SymPy's program, as it was before."""
    from gradcheck_cli.options import make_options
    from gradcheck_cli.pipeline import prepare, run

    prepared = prepare("sqrt(w*w) + b", make_options({"at": {"w": 0.0, "b": 0.5}}))
    assert prepared.sym.built is None
    result = run(prepared)
    assert prepared.sym.built is not None  # the tree's program handed the point back
    assert result.gradients[0].exact == 0.0 and result.gradients[0].exact_certified


@pytest.mark.parametrize(
    ("model", "param"),
    [("sigmoid(erf((c)/(c)))+w*x", "c"), ("(abs((w)/(w*x)))*(abs((x**2)+(c)))", "w")],
)
def test_a_gradient_sympy_proves_zero_is_exactly_zero(model, param):
    """Reverse mode over c/c gives an enclosure of 0, not 0: such a value (0, or a double,
    still held at 2048 bits) is decided by SymPy's program, which has the exact 0."""
    result = check(model, seed=3)
    gradient = next(g for g in result.gradients if g.param == param)
    assert gradient.exact == 0.0 and gradient.abs_error == abs(gradient.autograd)
    assert not gradient.ill_conditioned and gradient.kappa is None


def test_a_double_exactly_is_exactly_that_double():
    """d/dw of (w-x) + (w*x)/w is exactly 1 per sample: SymPy's w*x/w is x, the tree's
    enclosure only holds the double; the error is then exactly autograd's."""
    result = check("((w)-(x))+((w*x)/(w))", dtype="float64", seed=5, loss="none")
    (gradient,) = result.gradients
    assert gradient.exact == 1.0 and gradient.abs_error == abs(gradient.autograd - 1.0)


def test_no_sympy_gradient_is_built_for_a_passing_check(monkeypatch):
    calls = []
    original = symbolic.gradients
    monkeypatch.setattr(symbolic, "gradients", lambda *a: calls.append(a) or original(*a))
    from gradcheck_cli.options import make_options
    from gradcheck_cli.pipeline import prepare, run

    prepared = prepare("tanh(w*x+1)*v + b", make_options({"seed": 7}))
    calls.clear()  # the loss's own derivative in z is computed once per loss, not per model
    result = run(prepared)
    assert result.ok and calls == []
    assert prepared.program is not prepared.sym.built  # the tree's program certified it all
    assert [g.formula for g in result.gradients][0].startswith("2*")  # built when printed
    assert calls


def test_the_tree_program_names_its_outputs_like_sympys():
    expr = parse("v*tanh(w*x+b)")
    spec = loss_spec("mse")
    program = compile_adjoint(expr.tree, (("mse", ()), spec.formula), ("v", "w", "b"), "y")
    assert program is not None and len(program.outputs) == 2 + 3 + 1
    assert program.outputs[1] == program.outputs[-1]  # the model is the tree as typed
    assert {name for _, name in program.inputs} == {"v", "w", "b", "x", "y"}
    assert isinstance(expr.tree, ast.AST)

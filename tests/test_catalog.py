"""Every catalog entry is complete, and every layer covers exactly the catalog's names."""

import subprocess
import sys

import mpmath
import pytest
import sympy
import torch
from test_functions import CASES

from gradcheck_cli import lowering, recording
from gradcheck_cli.exact import evaluate, functions, kinks, symbolic
from gradcheck_cli.expr.catalog import FUNCTIONS, INTERNAL
from gradcheck_cli.expr.parse import parse
from gradcheck_cli.rounding.aten_ops import HANDLERS

SPECS = {**FUNCTIONS, **INTERNAL}
SCAFFOLD = {  # ops of the traced harness (sum of the output, its ones, views), not of functions
    "aten.ones_like.default",
    "aten.sum.default",
    "aten.expand.default",
    "aten.view.default",
    "aten.detach.default",
    "aten.add.Tensor",  # sign's case adds w
    "aten.lift_fresh_copy.default",  # a number argument becomes a tensor
    "aten.scalar_tensor.default",
    "<built-in function getitem>",
}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_entry_is_complete(name):
    spec = SPECS[name]
    assert spec.doc and callable(spec.evaluate)
    assert spec.torch_name and (callable(spec.torch) or name in INTERNAL)
    assert spec.cost in (0, 1, 2)
    assert len(spec.constants) in (0, spec.max_args - 1)
    assert len(spec.defaults) in (0, spec.max_args - spec.min_args)
    assert (spec.switches is None) == (spec.convention == "")
    assert spec.aten or spec.fallback, "the aten ops autograd emits for it"
    if spec.derivatives:  # its own SymPy class: one rule per argument, and its mathematics
        assert len(spec.derivatives) == spec.max_args and spec.definition is not None
        assert functions.CLASSES[spec.sympy].spec is spec
    else:  # SymPy's own function, or a composition of SymPy
        assert spec.compose is not None or callable(getattr(sympy, spec.sympy))


def test_parse_lowering_sympy_and_evaluator_cover_the_same_names():
    for name in FUNCTIONS:
        parse(CASES[name][0])  # the grammar takes it
    lowered = {name for name, spec in FUNCTIONS.items() if callable(spec.torch)}
    built = {
        name for name in FUNCTIONS if isinstance(functions.build(name, _args(name)), sympy.Expr)
    }
    evaluated = {name for name, spec in FUNCTIONS.items() if callable(spec.evaluate)}
    assert lowered == built == evaluated == set(FUNCTIONS) == set(CASES)
    own = {cls.spec.name for cls in functions.CLASSES.values()}
    assert own == {name for name, spec in SPECS.items() if spec.derivatives}


def _args(name):
    spec = FUNCTIONS[name]
    return [sympy.Rational(1, 3) * (i + 1) for i in range(spec.min_args)]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_evaluator_matches_the_sympy_expression(name):
    """The entry's evaluator and the evaluation of what the entry builds agree."""
    model, _, points = CASES[name]
    expr = symbolic.to_sympy(parse(model))
    spec = FUNCTIONS[name]
    for w in points:
        with mpmath.workprec(200):
            args = [
                evaluate.evaluate(symbolic.to_sympy(parse(str(a))), {"w": mpmath.mpf(w)})
                for a in _call_args(model)
            ]
            direct = spec.evaluate_at(mpmath.mp, args)
            if name == "sign":
                direct += mpmath.mpf(w)  # its case is sign(w) + w
            walked = evaluate.evaluate(expr, {"w": mpmath.mpf(w)})
            assert mpmath.almosteq(direct, walked, rel_eps=mpmath.mpf(2) ** -150), (name, w)


def _call_args(model):
    inner = model.split("(", 1)[1].rsplit(")", 1)[0]
    return [a.strip() for a in inner.split(",")]


@pytest.mark.parametrize("name", sorted(n for n, s in SPECS.items() if s.derivatives))
def test_derivative_rules_match_the_definition(name):
    """Away from switch points each rule is the derivative of the entry's definition."""
    spec = SPECS[name]
    symbols = sympy.symbols(f"a0:{spec.max_args}", real=True)
    given = symbols  # every argument given: rules for the constants are checked too
    full = functions.sympy_args(spec, given)
    point = {"a0": 0.7, "a1": 0.3, "a2": 2.5}  # inside every domain, off every switch
    rules = spec.derivatives[:1] if name == "softplus" else spec.derivatives  # torch's
    for index, rule in enumerate(rules):  # softplus ignores its constants' rounding
        want = sympy.diff(spec.definition(functions.NS, *full), given[index])
        got = rule(functions.NS, *full)
        values = {k: v for k, v in point.items() if k in {s.name for s in given}}
        at = {s: sympy.Rational(values[s.name]) for s in given}
        assert float(evaluate.exact(got, values)) == pytest.approx(
            float(want.subs(at).evalf(30)), rel=1e-12
        ), (name, index)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_listed_aten_ops_have_handlers_or_are_marked_as_falling_back(name):
    spec = SPECS[name]
    for op in spec.aten:
        assert f"aten.{op}" in HANDLERS, (name, op)
    for op in spec.fallback:
        assert f"aten.{op}" not in HANDLERS, (name, op, "has a handler: move it to aten")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_listed_aten_ops_are_the_ops_autograd_emits(name):
    model, _, points = CASES[name]
    forward = lowering.lower(parse(model))

    def fn(w):
        return forward({"w": w, "__dtype__": torch.float64}).sum()

    w = torch.tensor([points[0]], dtype=torch.float64, requires_grad=True)
    recorded, _ = recording.record(fn, [w], [0])
    emitted = {str(n.target) for n in recorded.nodes if n.op == "call_function"} - SCAFFOLD
    spec = FUNCTIONS[name]
    assert emitted == {f"aten.{op}" for op in (*spec.aten, *spec.fallback)} - SCAFFOLD


def test_switches_come_from_the_entries():
    x = symbolic.symbol("x")
    for name in ("abs", "relu", "hardtanh", "softplus", "max"):
        node = functions.build(name, [x, symbolic.symbol("y")][: FUNCTIONS[name].min_args])
        conventions = {c for _, c, _ in kinks._switches(node)}
        assert conventions == {FUNCTIONS[name].convention}, name
    assert kinks._switches(sympy.Heaviside(x, 0))[0][2]  # a jump


def test_the_catalog_imports_nothing_heavy_and_no_later_layer():
    code = (
        "import sys; import gradcheck_cli.expr.catalog, gradcheck_cli.expr.parse; "
        "print(sorted(m for m in ('sympy', 'mpmath', 'torch', 'gradcheck_cli.exact', "
        "'gradcheck_cli.rounding') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

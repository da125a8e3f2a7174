"""The exact side: the domain of the model as typed, certified enclosures, bounded arithmetic.

Expected values are worked out by hand or with mpmath at 300 digits, independently of the
evaluator under test.
"""

import time

import mpmath
import pytest
import sympy
from test_functions import CASES

from gradcheck_cli.errors import EvaluationError, GradcheckError, MagnitudeError
from gradcheck_cli.exact import evaluate, symbolic
from gradcheck_cli.exact.typed import undefined_where
from gradcheck_cli.expr.catalog import FUNCTIONS
from gradcheck_cli.expr.parse import parse
from gradcheck_cli.pipeline import check


@pytest.mark.parametrize(
    "model, where",
    [
        ("sqrt(x)**4*w", "'sqrt(x)' is undefined at this point (square root of a negative number)"),
        ("sqrt(x)*w", "'sqrt(x)' is undefined"),
        ("exp(log(x))*w", "'log(x)' is undefined at this point (log of a non-positive number)"),
        ("log(x)*0*w+w", "'log(x)' is undefined"),
    ],
)
def test_the_domain_is_the_model_as_typed(model, where):
    """SymPy simplifies sqrt(x)**4 to x**2; torch runs sqrt(-1) = NaN: undefined, not fail."""
    result = check(model, loss="none", at={"x": -1, "w": 2}, params=["w"])
    (g,) = result.gradients
    assert g.verdict == "undefined" and g.note.startswith(where), g.note


def test_typed_domain_names_the_first_undefined_sub_expression():
    expr = parse("w + acosh(x)/ (x - 1)")
    assert undefined_where(expr, [{"w": 1.0, "x": 2.0}]) == ""
    assert "'acosh(x)' is undefined" in undefined_where(expr, [{"w": 1.0, "x": 0.5}])
    assert "'acosh(x)/ (x - 1)' is undefined" in undefined_where(expr, [{"w": 1.0, "x": 1.0}])
    assert "division by zero" in undefined_where(expr, [{"w": 1.0, "x": 1.0}])
    # integer and 1/2 exponents have their own rules, as in the SymPy evaluator
    assert undefined_where(parse("x**2*w"), [{"w": 1.0, "x": -3.0}]) == ""
    assert "x**0.5" in undefined_where(parse("x**0.5*w"), [{"w": 1.0, "x": -3.0}])
    assert undefined_where(parse("x**0.5*w"), [{"w": 1.0, "x": 0.0}]) == ""


def test_a_cancelled_domain_test_raises_the_precision():
    """1 - 1/(1 + e^-200) is 0 at 128 bits but e^-200/(1 + e^-200) > 0: the gradient of
    log(1 - sigmoid(w)) is -sigmoid(w) = -1 + 1.4e-87; torch's -inf is a fail."""
    result = check("log(1-1/(1+exp(-w)))", loss="none", at={"w": 200}, dtype="float64")
    (g,) = result.gradients
    assert g.verdict == "fail" and g.exact == -1.0 and g.exact_certified


def test_a_cancelled_base_of_a_power():
    """(1 - sigmoid(w))**-0.5 = sqrt(1 + e^w): derivative e^w / (2 sqrt(1 + e^w))."""
    with mpmath.workdps(300):
        w = mpmath.mpf(200)
        expected = float(mpmath.exp(w) / (2 * mpmath.sqrt(1 + mpmath.exp(w))))
    result = check("(1-1/(1+exp(-w)))**(-0.5)", loss="none", at={"w": 200}, dtype="float64")
    (g,) = result.gradients
    assert g.exact == expected and g.exact_certified and g.verdict == "fail"  # torch: inf


def test_the_derivative_of_sign_sympy_leaves_unevaluated_is_zero():
    result = check("sign(abs(w)/w)", loss="none", at={"w": 0.5})
    (g,) = result.gradients
    assert g.verdict == "pass" and g.exact == 0.0 and g.formula == "0"


@pytest.mark.parametrize(
    "model, options, culprit",
    [
        ("max(w,atanh(3))", {}, "'atanh(3)' is undefined at every point"),
        ("leaky_relu(atanh(2)*w)", {}, "'atanh(2)' is undefined at every point"),
        ("max(w,1/(x-x))", {"params": ["w"], "at": {"w": 1, "x": 1}}, "division by zero"),
    ],
)
def test_non_real_constants_are_one_line_errors(model, options, culprit):
    with pytest.raises(EvaluationError, match=r"^[^\n]*$") as info:
        check(model, **options)
    assert culprit in str(info.value)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_is_certified_by_intervals(name):
    """Every catalog function has an interval extension: the exact value of its case and its
    derivative is certified, and equals the evaluation at 1000 bits."""
    model, _, points = CASES[name]
    expr = symbolic.to_sympy(parse(model))
    for form in (expr, sympy.diff(expr, symbolic.symbol("w"))):
        for w in points:
            got = evaluate.exact_reduced(form, [{"w": w}], "sum", "float64")
            with mpmath.workprec(1000):
                reference = evaluate.evaluate(form, {"w": mpmath.mpf(w)})
            assert got.certified, (name, w, form)
            assert evaluate.round_to(got.value, "float64") == float(reference), (name, w)


def test_erf_and_polygamma_enclosures_contain_the_value():
    with evaluate.iv_precision(60), mpmath.workprec(60):
        x = mpmath.iv.mpf("0.7")
        for name, f, ref in [
            ("erf", FUNCTIONS["erf"].evaluate, mpmath.erf),
            ("erfc", FUNCTIONS["erfc"].evaluate, mpmath.erfc),
        ]:
            enclosure = f(mpmath.iv, x)
            with mpmath.workdps(100):
                assert enclosure.a <= ref(mpmath.mpf("0.7")) <= enclosure.b, name
    w = symbolic.symbol("w")
    for k in range(3):
        expr = sympy.polygamma(k, w)
        got = evaluate.exact_reduced(expr, [{"w": 2.5}], "sum", "float64")
        with mpmath.workdps(100):
            assert got.certified and float(got.value) == float(mpmath.psi(k, mpmath.mpf(2.5)))


@pytest.mark.parametrize(
    "model, options",
    [
        ("sigmoid(exp(exp(w)))", {"at": {"w": 30}}),  # MemoryError in mpmath before
        ("exp(gamma(w))", {"at": {"w": 10}}),  # 26 s before
        ("gamma(gamma(w*1e3))", {}),  # minutes before
        ("gamma(w)", {"dtype": "float64", "at": {"w": 6.2}}),  # 14-17 s before
    ],
)
def test_blow_ups_end_quickly_with_an_honest_outcome(model, options):
    start = time.perf_counter()
    try:
        result = check(model, loss="none", **options)
    except GradcheckError as exc:
        assert isinstance(exc, MagnitudeError) and "exp(exp(w))" in str(exc)
        assert model == "sigmoid(exp(exp(w)))"  # its gradient is e^-(e^e^30)-small: no value
    else:
        (g,) = result.gradients
        assert g.exact_certified and g.verdict == "pass"
        if model == "gamma(w)":
            with mpmath.workdps(100):
                x = mpmath.mpf(6.2)
                assert g.exact == float(mpmath.gamma(x) * mpmath.digamma(x))
        else:  # e^362880 and beyond: an overflow of float32, and torch's inf is right
            assert g.exact == float("inf") and g.autograd == float("inf")
    assert time.perf_counter() - start < 5


def test_overflow_is_a_marker_beyond_every_dtype():
    w = symbolic.symbol("w")
    got = evaluate.exact_reduced(
        sympy.exp(sympy.exp(sympy.exp(w))), [{"w": 30.0}], "sum", "float64"
    )
    assert got.overflow and got.certified and got.value > 2**1100
    tiny = evaluate.exact_reduced(
        sympy.exp(-sympy.exp(sympy.exp(w))), [{"w": 30.0}], "sum", "float64"
    )
    assert tiny.certified and tiny.value >= 0 and float(tiny.value) == 0.0
    with pytest.raises(MagnitudeError, match="beyond 2"):
        evaluate.exact(sympy.exp(sympy.exp(sympy.exp(w))), {"w": 30.0})


def test_a_reversed_interval_is_no_enclosure_not_a_crash():
    # mpmath.iv.gamma returned [12.66260586602881492048191324090650229494, ...229484] (ends
    # reversed) inside atan(gamma(atan(abs(x)))) (random run, seed 2026): atan of it failed
    # mpmath's own assertion. A reversed or NaN enclosure is now "no interval": points instead.
    from types import SimpleNamespace

    from gradcheck_cli.errors import NoInterval
    from gradcheck_cli.expr.catalog import numeric

    reversed_ends = SimpleNamespace(a=mpmath.mpf(2), b=mpmath.mpf(1))
    with pytest.raises(NoInterval):
        numeric.atan(mpmath.iv, reversed_ends)
    enclosure = numeric.atan(mpmath.iv, mpmath.iv.mpf([1, 2]))
    with mpmath.workprec(200):
        assert mpmath.atan(1) in enclosure and mpmath.atan(2) in enclosure


@pytest.mark.parametrize(
    "model, options",
    [
        ("acos(0.9*tanh(lgamma(c)))", dict(loss="none", seed=875, samples=2, reduction="sum")),
        ("softplus((x + w) * gamma(w*x), 2, 3)", dict(loss="poisson_nll", seed=1318, samples=3)),
        ("w*atan(gamma(atan(abs(x))))", dict(loss="huber", seed=521, samples=3)),
    ],
)
def test_gamma_inside_monotone_functions_is_checked(model, options):
    result = check(model, dtype="float64", **options)
    assert result.status == "pass"

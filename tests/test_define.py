"""User-defined functions: read by the model's parser, expanded into what the model means."""

from __future__ import annotations

import ast

import pytest

from gradcheck_cli.errors import ParseError, UnsupportedError
from gradcheck_cli.expr.definitions import parse_definitions
from gradcheck_cli.expr.parse import parse


def test_a_call_means_the_body_with_its_arguments_put_in():
    defs = parse_definitions(["swish(u) = u*sigmoid(u)", "gate(a, b) = swish(a) * b"])
    expr = parse("gate(w*x, b) + 1", definitions=defs)
    assert ast.unparse(expr.tree) == "w * x * sigmoid(w * x) * b + 1"
    assert ast.unparse(expr.source) == "gate(w * x, b) + 1"  # as typed, for user lowerings
    assert expr.symbols == ("w", "x", "b")


def test_a_model_without_defined_calls_is_unchanged():
    expr = parse("tanh(w*x)", definitions=parse_definitions(["sq(u) = u*u"]))
    assert expr.source is None and ast.unparse(expr.tree) == "tanh(w * x)"


@pytest.mark.parametrize(
    "texts, message",
    [
        (["f(u) = f(u) + 1"], "'f' may not call itself"),
        (["tanh(u) = u"], "'tanh' is a built-in function"),
        (["pi(u) = u"], "'pi' is a constant"),
        (["g(u) = u*v"], "uses 'v', which is not one of its arguments (u)"),
        (["h() = 1"], "'h' needs at least one argument"),
        (["k(u, u) = u"], "an argument is named twice"),
        (["k(u) = u", "k(v) = v"], "'k' is defined twice"),
        (["m(u) = n(u)", "n(u) = u"], "unknown function 'n'"),  # only earlier definitions
        (
            ["q(u) = u^2"],
            "in the definition of 'q': '^' is not a power in Python: use ** for powers",
        ),
        (["swish u = u"], "a definition is NAME(a, b) = EXPRESSION"),
        (["e(u) == u"], "a definition is NAME(a, b) = EXPRESSION"),
    ],
)
def test_bad_definitions_are_named(texts, message):
    with pytest.raises((ParseError, UnsupportedError), match=None) as caught:
        parse_definitions(texts)
    assert message in str(caught.value)


def test_a_defined_call_is_checked_like_any_call():
    defs = parse_definitions(["gate(a, b) = a*b"])
    with pytest.raises(ParseError, match=r"'gate' takes 2 arguments \(a, b\), got 1"):
        parse("gate(w)", definitions=defs)
    with pytest.raises(ParseError, match="function 'gate' used without a call"):
        parse("gate + w", definitions=defs)

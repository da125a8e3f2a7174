"""The parser refuses everything outside the grammar, names the problem and its column,
and executes nothing."""

import time

import pytest

from gradcheck_cli.errors import ParseError, UnsupportedError
from gradcheck_cli.expr.parse import MAX_LENGTH, parse


def test_symbols_in_order_of_first_appearance():
    assert parse("w*x+b").symbols == ("w", "x", "b")
    assert parse("b + exp(w2*x1) - w2").symbols == ("b", "w2", "x1")
    assert parse("pi*w + E").symbols == ("w",)


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("__import__('os').system('id')", "attribute access ('.system') not allowed", 1),
        ("x.real", "attribute access ('.real') not allowed", 1),
        ("w*x[0]", "subscripts not allowed", 3),
        ("(lambda: 1)()", "lambdas not allowed", 2),
        ("'abc'", "str constant not allowed", 1),
        ("exp(x, base=2)", "keyword arguments not allowed", 1),
        ("w*foo(x)", "unknown function 'foo'", 3),
        ("__class__", "names cannot start with _", 1),
        ("x if w else b", "conditional expressions not allowed", 1),
        ("w < x", "comparisons not allowed", 1),
        ("w // x", "operator '//' not allowed (use + - * / **)", 3),  # the column of '//'
        ("x^2*w", "'^' is not a power in Python: use ** for powers", 2),
        ("(w + x) ^ 2", "use ** for powers", 9),
        ("  w % x", "operator '%' not allowed", 5),
        ("2x", "write 2*x for a product", 1),
        ("w*1.5e3b+x", "write 1.5e3*b for a product", 3),
        ("w x", "missing operator between two terms (write * for a product)", 3),
        ("tanh(w  x)", "missing operator between two terms", 9),
        ("(w+1) (x)", "only calls of named functions are allowed (for a product write *)", 1),
        ("tahn(w*x)", "unknown function 'tahn' (did you mean 'tanh'?)", 1),
        ("w*Exp(x)", "unknown function 'Exp' (did you mean 'exp'?)", 3),
        ("w*x+", "unexpected end of expression", 5),
        ("w*(x", "'(' was never closed", 3),
        ("exp*x", "function 'exp' used without a call", 1),
        ("exp(x, x)", "'exp' takes 1 argument, got 2", 1),
        ("True*x", "bool constant not allowed", 1),
        ("1j*x", "complex constant not allowed", 1),
        ("[x]", "lists not allowed", 1),
        ("x**(10**10**10)", "exponent larger than 1024", 5),
        ("w/0*x", "division by zero", 1),
        ("  w*x[1]", "subscripts not allowed", 5),
    ],
)
def test_refused_inputs_name_problem_and_column(text, message, column):
    with pytest.raises((ParseError, UnsupportedError)) as info:
        parse(text)
    assert message in str(info.value)
    assert info.value.column == column


def test_nothing_is_executed(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(ParseError):
        parse(f"__import__('pathlib').Path('{marker}').touch()")
    assert not marker.exists()


def test_bounds_fail_fast():
    started = time.perf_counter()
    for text in [
        "x**(10**10**10)",
        "(" * 250 + "x" + ")" * 250,
        "x+" * 5000 + "x",
        "9" * 400 + "*x",
        "-" * 300 + "x",
        "exp(" * 80 + "x" + ")" * 80,
    ]:
        with pytest.raises((ParseError, UnsupportedError)):
            parse(text)
    assert time.perf_counter() - started < 2  # generous: each is milliseconds


def test_length_limit_message():
    with pytest.raises(UnsupportedError, match=f"at most {MAX_LENGTH}"):
        parse("x+" * MAX_LENGTH + "x")


def test_empty_and_multiline():
    with pytest.raises(ParseError, match="empty"):
        parse("   ")
    with pytest.raises(ParseError, match="one line"):
        parse("x\n+w")


def test_parse_does_not_import_sympy_or_torch():
    import subprocess
    import sys

    code = (
        "import sys; from gradcheck_cli.expr.parse import parse; parse('w*x+b'); "
        "print('sympy' in sys.modules, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_an_unknown_function_close_to_none_lists_them_all():
    with pytest.raises(UnsupportedError) as info:
        parse("softmax(w)")
    assert "(did you mean" not in str(info.value)
    assert "supported: abs, acos," in str(info.value) and "tanh)" in str(info.value)
    with pytest.raises(UnsupportedError) as info:
        parse("w(x+1)")
    assert "for a product write 'w*(...)'" in str(info.value)

"""Every bad input ends in one ``Error: ...`` line and exit code 2, never a traceback (issue 10).

The examples a fuzzing run found, each through the command line in-process, then fuzzing of
the parser and the command line: random text and random grammar-like token sequences end in a
result or a ``GradcheckError``, never another exception.
"""

import re

import pytest
from conftest import gradcheck
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcheck_cli.errors import GradcheckError
from gradcheck_cli.expr.parse import MAX_DEPTH, MAX_NODES, parse
from gradcheck_cli.pipeline import check


def tower(inner: str, levels: int = 59) -> str:
    return "exp(" * levels + inner + ")" * levels


CASES = [  # (arguments, what the message says, column or None)
    (["w*10**300"], "constant 10**300 = 1e+300 overflows float32", 3),
    (["1e-320*w"], "constant 1e-320 is below float64's smallest normal", 1),
    (["1e-320*w", "--dtype", "float64"], "constant 1e-320 is below float64's smallest", 1),
    (["w*1e-400"], "constant 1e-400 is below float64's smallest normal", 3),
    (["w*(1e-200*1e-200)"], "constant 1e-200*1e-200 = 0 underflows", 4),
    (["w*1e39"], "constant 1e39 overflows float32", 3),
    (["w*1e-40"], "constant 1e-40 is subnormal in float32", 3),
    (["w*x", "--dtype", "float64", "--at", "x=1e-310"], "at x = 1e-310 is subnormal", None),
    (["w*x", "--at", "x=1e39"], "at x = 1e+39 overflows float32", None),
    (["hardtanh(w,2,1)"], "'hardtanh': min_val 2 is greater than max_val 1", 14),
    (["hardtanh(w,2)"], "'hardtanh': min_val 2 is greater than max_val 1", 1),
    (["softplus(w,1e300,1e300)"], "constant 1e300 overflows float32", 12),
    (["leaky_relu(w,1e300)"], "constant 1e300 overflows float32", 14),
    (["elu(w,1e39)"], "constant 1e39 overflows float32", 7),
    (["clamp(w,-1e39,1)"], "constant -1e39 overflows float32", 9),
    (["w*" + tower("2")], "constant 'exp(exp(exp(2)))' is too large", 227),
    (["w*pow(pow(2,1024),1024)"], "constant 'pow(2, 1024)' is too large", 7),
    (["w*x", "--seed", "2000000000000000000"], "seed must be between 0 and", None),
    (["w*x", "--seeds", "0..2000000000000000000"], "seeds must be at most", None),
    (["w+\udcff"], "byte 0xff is not valid UTF-8", 3),
    (["w+\ud800"], "lone surrogate U+D800 not allowed", 3),
    (["\uff57*x"], "non-ASCII character U+FF57 not allowed", 1),  # fullwidth w: NFKC -> w
    (["\u210c*x"], "non-ASCII character U+210C not allowed", 1),  # script H: NFKC -> H
    (["w*x\u00a0"], "non-ASCII character U+00A0", 4),
    (["w*x # comment"], "comments ('#') not allowed", 5),
    (["w*x\x00"], "control character U+0000 not allowed", 4),
    (["w*x", "--expect", "w=1e400"], "expect must map names to finite numbers", None),
    (["w*x", "--expect", "w=inf"], "expect must map names to finite numbers", None),
]


@pytest.mark.parametrize(("args", "message", "column"), CASES, ids=lambda v: repr(v)[:40])
def test_bad_input_is_one_error_line(args, message, column):
    out = gradcheck(*args)
    assert out.exit_code == 2, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.stderr
    assert message in lines[0]
    assert "Traceback" not in out.stderr + out.stdout
    if column is not None:
        assert f"at column {column} of" in lines[0]
    assert lines[0].isascii()  # prints under an ASCII locale


def test_expect_out_of_range_is_the_same_error_in_a_batch(tmp_path):
    path = tmp_path / "cases.toml"
    path.write_text('[[case]]\nmodel = "w*x"\n\n[case.expect]\nw = "1e400"\n')
    single = gradcheck("w*x", "--expect", "w=1e400")
    batch = gradcheck("--file", path)
    assert single.exit_code == batch.exit_code == 2
    assert single.stderr.strip().removeprefix("Error: ") in batch.stderr


def test_numbers_within_bounds_still_run():
    assert gradcheck("w*10**300", "--dtype", "float64").exit_code == 0  # int -> float for torch
    assert gradcheck("w*2**62*x").exit_code == 0
    assert gradcheck("hardtanh(w,1,1)").exit_code == 0  # torch allows min_val == max_val
    assert gradcheck("w*x", "--seed", "1844674407370955161").exit_code == 0
    assert gradcheck("w*exp(exp(2))").exit_code == 0  # a call of numbers within 1e300


def test_a_flat_sum_or_product_is_one_level():
    terms = MAX_DEPTH * 4
    assert parse("+".join(["w"] * terms)).symbols == ("w",)
    assert parse("*".join(["w"] * terms) + "/x-b").symbols == ("w", "x", "b")
    assert parse("-".join(f"w{i}" for i in range(terms))).symbols[-1] == f"w{terms - 1}"
    with pytest.raises(GradcheckError, match=f"more than {MAX_NODES} nodes"):
        parse("+".join(["w"] * (MAX_NODES // 2 + 1)))
    with pytest.raises(GradcheckError, match="nested deeper"):
        parse("w" + "+(w" * (MAX_DEPTH + 1) + ")" * (MAX_DEPTH + 1))  # parentheses nest
    with pytest.raises(GradcheckError, match="nested deeper"):
        parse("w" + "**w" * (MAX_DEPTH + 1))  # ** is right-nested: every one counts
    assert gradcheck("+".join(["w*x"] * 100)).exit_code == 0


# Fuzzing: random text, and random sequences of grammar tokens (more often near the grammar).
TOKENS = [
    *"wxb()+-*/,",
    "**",
    " ",
    "0",
    "1",
    "2",
    "0.5",
    "1e-320",
    "1e300",
    "10**300",
    "1e39",
    "pi",
    "E",
    "#",
    "\uff57",
    "\udcff",
    *["exp(", "log(", "pow(", "hardtanh(", "softplus(", "leaky_relu(", "clamp(", "sqrt("],
]
TEXT = st.text(alphabet=st.characters(codec=None), max_size=40)
TOKEN_TEXT = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)


def _parse_or_error(text: str) -> None:
    try:
        parse(text)
    except GradcheckError as exc:
        assert str(exc) and "\n" not in str(exc)


def _cli_ends_cleanly(text: str, *options: str) -> None:
    # after "--": a model such as "-w" is not an option (click's usage errors are its own)
    out = gradcheck("--loss", "none", *options, "--", text)  # catch_exceptions=False: bugs raise
    if out.exit_code == 2:
        lines = out.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), out.stderr
    else:
        assert out.exit_code in (0, 1), out.stderr


FAST = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
SLOW = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))


@FAST
@given(st.one_of(TEXT, TOKEN_TEXT))
def test_fuzz_parse(text):
    _parse_or_error(text)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(TOKEN_TEXT, st.sampled_from(["float32", "float64"]))
def test_fuzz_command_line(text, dtype):
    _cli_ends_cleanly(text, "--dtype", dtype)


@pytest.mark.slow
@SLOW
@given(st.one_of(TEXT, TOKEN_TEXT))
def test_fuzz_parse_long(text):
    _parse_or_error(text)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(TOKEN_TEXT, st.sampled_from(["float32", "float64"]), st.integers(0, 2**64))
def test_fuzz_command_line_long(text, dtype, seed):
    _cli_ends_cleanly(text, "--dtype", dtype, "--seed", str(seed))


def test_check_api_refuses_like_the_command_line():
    with pytest.raises(GradcheckError, match=re.escape("overflows float32")):
        check("w*1e39", loss="none")

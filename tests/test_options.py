"""The one option table: everything about an option is derived from ``OPTIONS``."""

import dataclasses
import sys

import pytest

from gradcheck_cli import cli
from gradcheck_cli.batch import casefile
from gradcheck_cli.dtypes import DTYPES
from gradcheck_cli.errors import (
    BadValue,
    CaseFileError,
    GradcheckError,
    OutputError,
    UnsupportedError,
    UsageError,
)
from gradcheck_cli.losses import loss_spec
from gradcheck_cli.options import LOSS_OPTIONS, OPTIONS, Options, make_options
from gradcheck_cli.values import closest


def test_options_fields_and_defaults_come_from_the_table():
    fields = {f.name: f.default for f in dataclasses.fields(Options)}
    table = {n: o.default for n, o in OPTIONS.items() if o.field and not o.loss}
    assert fields == {**table, "loss_options": ()}
    assert LOSS_OPTIONS == ("delta", "beta", "eps", "full", "log_input", "var")


def test_case_file_keys_and_casespec_fields_come_from_the_table():
    assert casefile.KEYS == {n: o for n, o in OPTIONS.items() if o.key}
    assert set(OPTIONS) - set(casefile.KEYS) == {"code_dir"}  # set from the file's directory
    fields = {f.name for f in dataclasses.fields(casefile.CaseSpec)}
    keys = {n for n, o in casefile.KEYS.items() if o.kind != "seeds"}
    assert fields == keys | {"source", "line"}


def test_command_line_options_come_from_the_table():
    params = cli.gradcheck.__signature__.parameters
    assert {n for n, o in OPTIONS.items() if o.cli} <= set(params)
    assert params["dtype"].default == "float32" and params["delta"].default is None


def test_dtype_choices_come_from_the_dtype_table():
    assert (
        OPTIONS["dtype"].choices == tuple(DTYPES) == ("float32", "float64", "bfloat16", "float16")
    )
    assert DTYPES["float32"].unit_roundoff == 2.0**-24 and DTYPES["float64"].bits == 53
    assert DTYPES["float64"].max == sys.float_info.max
    assert DTYPES["float32"].tiny == 2.0**-149


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"dtype": "float8"},
            "unknown dtype 'float8' (supported: float32, float64, bfloat16, float16)",
        ),
        ({"reduction": "mena"}, "unknown reduction 'mena' (supported: mean, sum) (did you mean"),
        ({"samples": 0}, "samples must be between 1 and 100000, got 0"),
        ({"seed": -1}, "seed must be between 0 and 1844674407370955161, got -1"),
        ({"decimals": 31}, "decimals must be between 0 and 30, got 31"),
        ({"delta": -1.0}, "delta must be > 0, got -1.0"),
        ({"beta": float("inf")}, "beta must be a finite number, got float inf"),
    ],
)
def test_one_message_per_problem_for_a_check_and_a_batch(values, message):
    with pytest.raises(BadValue) as single:
        make_options(values)
    assert str(single.value).startswith(message)
    with pytest.raises(CaseFileError) as batch:
        casefile.load_cases("-", "w*x\n", values)
    assert batch.value.messages == (str(single.value),)


def test_every_error_is_a_gradcheck_error():
    for error in (BadValue, CaseFileError, OutputError, UsageError):
        assert issubclass(error, GradcheckError)
    assert issubclass(BadValue, UnsupportedError)
    assert CaseFileError(["a", "b"]).messages == ("a", "b")


@pytest.mark.parametrize(
    ("word", "candidates", "expected"),
    [
        ("tahn", ["tan", "tanh", "atan"], "tanh"),  # a swap beats difflib's first pick 'tan'
        ("mes", ["mse", "mae", "l1"], "mse"),
        ("TANH", ["tanh", "exp"], "tanh"),
        ("sigmod", ["sigmoid", "logsigmoid", "sign"], "sigmoid"),
        ("softmax", ["max", "min", "relu"], None),  # 4 deletions: too far to be of use
        ("l2", ["l1", "mse"], None),
    ],
)
def test_closest_is_the_likeliest_typo(word, candidates, expected):
    assert closest(word, candidates) == expected


def test_a_loss_typo_gets_one_suggestion_instead_of_the_list():
    with pytest.raises(UnsupportedError) as info:
        loss_spec("mes", ())
    assert str(info.value) == "unknown loss 'mes' (did you mean 'mse'?)"


def test_with_seed_is_replace_checking_the_seed():
    from gradcheck_cli.options import with_seed
    from gradcheck_cli.values import BadValue

    options = make_options({"loss": "huber", "delta": 0.5, "dtype": "float64", "at": {"w": 2}})
    assert with_seed(options, 7) == dataclasses.replace(options, seed=7)
    assert with_seed(options, 7).seed == 7 and options.seed == 1
    with pytest.raises(BadValue):
        with_seed(options, -1)

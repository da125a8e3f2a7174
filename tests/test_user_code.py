"""Finding the user's own code from ``MODULE:ATTR``: by module name or file, with clear errors."""

from __future__ import annotations

import pytest

from gradcheck_cli.errors import UserCodeError
from gradcheck_cli.user_code import did_you_mean, load, split_reference

KERNELS = """
def fast_exp(x):
    return ('fast_exp', x)

class MyExp:
    @staticmethod
    def apply(x):
        return ('MyExp.apply', x)

NOT_CALLABLE = 3
"""


@pytest.fixture
def base(tmp_path):
    (tmp_path / "mykernels_gc.py").write_text(KERNELS)
    (tmp_path / "pkg_gc").mkdir()
    (tmp_path / "pkg_gc" / "__init__.py").write_text("")
    (tmp_path / "pkg_gc" / "ops.py").write_text(KERNELS)
    (tmp_path / "broken_gc.py").write_text("raise RuntimeError('no GPU here')\n")
    return tmp_path


@pytest.mark.parametrize(
    "reference, tag",
    [
        ("mykernels_gc:fast_exp", "fast_exp"),
        ("mykernels_gc:MyExp.apply", "MyExp.apply"),
        ("pkg_gc.ops:MyExp.apply", "MyExp.apply"),
        ("mykernels_gc.py:fast_exp", "fast_exp"),
    ],
)
def test_a_reference_finds_the_callable(base, reference, tag):
    assert load(reference, base)(2.0) == (tag, 2.0)


def test_an_absolute_file_path_with_colons_elsewhere(base):
    assert load(f"{base / 'mykernels_gc.py'}:fast_exp")(1)[0] == "fast_exp"


@pytest.mark.parametrize(
    "reference, message",
    [
        ("mykernels_gc", "is not MODULE:ATTR"),
        ("mykernels_gc:", "is not MODULE:ATTR"),
        ("mykernels_gc:fast-exp", "'fast-exp' is not a dotted attribute name"),
        ("mykernels_gc:fast_epx", "has no attribute 'fast_epx' (did you mean 'fast_exp'?)"),
        ("mykernels_gc:NOT_CALLABLE", "is a int, not a callable"),
        ("nosuchmodule_gc:f", "cannot import nosuchmodule_gc"),
        ("missing_gc.py:f", "no such file"),
        ("broken_gc:f", "importing broken_gc failed: RuntimeError: no GPU here"),
        ("my-kernels:f", "neither a module name nor a .py file"),
    ],
)
def test_problems_are_one_line_naming_the_reference(base, reference, message):
    with pytest.raises(UserCodeError) as caught:
        load(reference, base)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_did_you_mean_only_when_close():
    assert did_you_mean("tahn", ["tanh", "exp"]) == " (did you mean 'tanh'?)"
    assert did_you_mean("zzz", ["tanh", "exp"]) == ""


def test_split_reference_splits_at_the_last_colon():
    assert split_reference("C:/work/k.py:MyExp.apply") == ("C:/work/k.py", "MyExp.apply")

"""The pytest plugin: *.gradcheck.toml files collected as tests, in a temporary project."""

import subprocess
import sys

import pytest

GOOD_AND_BAD = """\
[[case]]
name = "tutorial"
model = "w*x+b"
seeds = [1, 2]

[[case]]
name = "overflow"
model = "log(exp(w))"
loss = "none"
at = { w = 100 }

[[case]]
name = "undefined"
model = "log(w)"
loss = "none"
at = { w = -1 }
"""


@pytest.fixture
def warm(tutorial):
    """A check run in this process first: pytester's in-process run takes away, when it
    ends, every module imported during it, and torch's modules that tracing imports lazily
    (``torch._inductor``) cannot be imported twice in one process (a second import fails to
    register its operator namespace, and every later check's graph could not be traced)."""
    return tutorial


def test_collects_one_item_per_case_and_seed_and_fails_the_bad_ones(pytester, warm):
    pytester.makefile(".gradcheck.toml", models=GOOD_AND_BAD)
    pytester.makefile(".toml", other='[[case]]\nmodel = "w*x+"\n')  # not a *.gradcheck.toml
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*models.gradcheck.toml::tutorial?seed=1? PASSED*",
            "*models.gradcheck.toml::tutorial?seed=2? PASSED*",
            "*models.gradcheck.toml::overflow FAILED*",
            "*models.gradcheck.toml::undefined FAILED*",
        ]
    )
    text = result.stdout.str()
    # the failure shows the comparison table
    assert "z = log(exp(w))" in text and "FAIL: 1 of 1 gradients disagree (w)" in text
    # at the width the report needs, not pytest's: the full table, every number whole
    assert "  param  verdict  autograd  exact  error" in text
    assert "  w      fail          nan    1.0    nan" in text
    assert "'log(w)' is undefined at this point" in text
    assert "Traceback" not in text


def test_case_file_errors_are_one_collection_error_with_every_message(pytester):
    pytester.makefile(
        ".gradcheck.toml", broken='[[case]]\nname = "x"\nmodle = "w"\ndtype = "float8"\n'
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting broken.gradcheck.toml*",
            "*broken.gradcheck.toml:1: case 'x': missing required key 'model'",
            "*broken.gradcheck.toml:3: case 'x': unknown key 'modle' (did you mean 'model'?)",
            "*broken.gradcheck.toml:4: case 'x': unknown dtype 'float8' (supported: float32, *",
        ]
    )


def test_importing_the_plugin_and_skipping_other_files_imports_nothing_heavy(tmp_path):
    code = (
        "import sys, pathlib\n"
        "from gradcheck_cli import pytest_plugin\n"
        "assert pytest_plugin.pytest_collect_file(None, pathlib.Path('test_x.py')) is None\n"
        "assert pytest_plugin.pytest_collect_file(None, pathlib.Path('a.toml')) is None\n"
        "print(sorted(m for m in ('torch', 'sympy', 'rich', 'numpy', 'mpmath')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_plugin_is_registered_as_an_entry_point():
    from importlib.metadata import entry_points

    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("gradcheck") == "gradcheck_cli.pytest_plugin"


def test_user_code_keys_work_in_the_plugin(pytester, warm):
    pytester.makepyfile(
        kernels_pp="""
import torch

def plain_exp(x):
    return torch.exp(x)

def doubled_exp(x):
    return 2 * torch.exp(x)  # not the exp of the specification
"""
    )
    pytester.makefile(
        ".gradcheck.toml",
        user="""
[[case]]
name = "mine"
model = "exp(w*x)+b"
lower = { exp = "kernels_pp:plain_exp" }

[[case]]
name = "wrong"
model = "exp(w*x)+b"
lower = { exp = "kernels_pp:doubled_exp" }

[[case]]
name = "swish"
model = "swish(w*x)"
define = ["swish(u) = u*sigmoid(u)"]
""",
    )
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*user.gradcheck.toml::wrong FAILED*"])

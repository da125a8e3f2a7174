"""The command line: output, exit codes, errors.

Most tests run the CLI in this process (``conftest.gradcheck``, typer's CliRunner with stdout
and stderr kept apart); a few smoke tests run the installed ``gradcheck`` console script and
``python -m gradcheck_cli`` as subprocesses, which also check what only a real process shows:
the exit status, no colour codes on a pipe, and that ``--help`` imports neither torch nor sympy.
"""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import gradcheck

GRADCHECK = Path(sys.executable).with_name("gradcheck")

SEED_TABLE = (
    "z = w*x+b",
    "mse (mean)",
    "float32",
    "-0.6013928055763245",  # the seeded values, in full
    "-1.0122097730636597",
    "0.6613521575927734",
    "0.266924113035202",
    "0.776868462562561",
    "-1.0601369142532349",
    "1.7628028392791748",
    "2*x*(b + w*x - y)",
    "PASS",
)


def test_console_script_is_installed():
    assert GRADCHECK.exists(), "pip install -e . creates the gradcheck command"


def test_console_script_seed_example_table():
    out = subprocess.run(
        [str(GRADCHECK), "w*x+b", "--loss", "mse", "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    for text in SEED_TABLE:
        assert text in out.stdout
    assert "\x1b[" not in out.stdout  # no colour codes when stdout is not a terminal
    assert out.stderr == ""


def test_seed_example_table_in_process():
    out = gradcheck("w*x+b", "--loss", "mse", "--seed", "1")
    assert out.exit_code == 0, out.stderr
    for text in SEED_TABLE:
        assert text in out.stdout
    assert "\x1b[" not in out.stdout
    assert out.stderr == ""


def test_seed_example_json():
    out = gradcheck("w*x+b", "--loss", "mse", "--seed", "1", "--format", "json")
    assert out.exit_code == 0
    doc = json.loads(out.stdout)
    assert doc["status"] == "pass"
    assert (doc["model"], doc["loss"], doc["dtype"], doc["seed"]) == ("w*x+b", "mse", "float32", 1)
    assert doc["values"] == {
        "x": -0.6013928055763245,
        "y": -1.0122097730636597,
        "w": 0.6613521575927734,
        "b": 0.266924113035202,
    }
    assert doc["loss_value"]["autograd"] == 0.776868462562561
    grads = {g["param"]: g for g in doc["gradients"]}
    assert grads["w"]["autograd"] == -1.0601369142532349
    assert grads["b"]["autograd"] == 1.7628028392791748
    assert set(grads["w"]) >= {
        "param",
        "formula",
        "exact",
        "autograd",
        "abs_error",
        "rel_error",
        "verdict",
    }


def test_python_dash_m_works():
    # a subprocess that stops before torch is imported: the module entry point runs the same
    # command line and passes its exit code on; the full run is checked in-process below
    out = subprocess.run(
        [sys.executable, "-m", "gradcheck_cli", "w*x+"], capture_output=True, text=True, timeout=120
    )
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr.startswith("Error: ") and out.stderr.count("\n") == 1
    assert "unexpected end of expression at column 5" in out.stderr
    out = gradcheck("w*x**2+b", "--seed", "1", "--format", "json")
    assert out.exit_code == 0 and json.loads(out.stdout)["status"] == "pass"


def test_undefined_point_exits_1():
    out = gradcheck("log(w)", "--loss", "none", "--at", "w=-1")
    assert out.exit_code == 1
    assert "undefined" in out.stdout and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["__import__('os').system('touch /tmp/gradcheck-pwned')"], "attribute access"),
        (["w*x+"], "unexpected end of expression at column 5"),
        (["foo(x)*w"], "unknown function 'foo'"),
        (["w*x+y"], "uses the target symbol 'y'"),
        (["w*x+b", "--params", "q"], "--params names 'q'"),
        (["w*x+b", "--at", "w"], "--at expects NAME=NUMBER"),
        (["w*x+b", "--at", "w=abc"], "is not a number"),
        (["w*x+b", "--loss", "hinge"], "unknown loss 'hinge'"),
        (
            ["w*x+b", "--dtype", "float8"],
            "unknown dtype 'float8' (supported: float32, float64, bfloat16, float16)",
        ),
        (
            ["w*x+b", "--dtype", "float8", "--seeds", "1..3"],
            "unknown dtype 'float8' (supported: float32, float64, bfloat16, float16)",
        ),
        (["x**(10**10**10)"], "exponent larger than 1024"),
        (["tahn(w*x)"], "unknown function 'tahn' (did you mean 'tanh'?) at column 1"),
        (["x^2*w"], "'^' is not a power in Python: use ** for powers at column 2 of 'x^2*w'"),
        (["2x"], "write 2*x for a product at column 1 of '2x'"),
        (["w*x", "--loss", "mes"], "unknown loss 'mes' (did you mean 'mse'?)"),
        (["w*x", "--dtype", "flaot32"], "(did you mean 'float32'?)"),
        # typer's own usage errors, in the same one-line style
        (["w*x", "--format", "yaml"], "unknown format 'yaml' (supported: table, json, jsonl, "),
        (["w*x", "--format=jsn"], "markdown, latex) (did you mean 'json'?)"),
        (["w*x", "--stirct"], "unknown option '--stirct' (did you mean '--strict'?)"),
        (["w*x", "--frobnicate"], "unknown option '--frobnicate' (see gradcheck --help)"),
        (["w*x", "--strict", "true"], "--strict is a flag and takes no value: write --strict or "),
        (["w*x", "--seed", "abc"], "--seed must be a valid integer, got 'abc'"),
        (["w*x", "--workers", "0"], "--workers must be greater than or equal to 1, got '0'"),
        (["w*x", "--seed"], "option '--seed' requires an argument"),
        (["w*x", "+", "b"], "more than one MODEL (+ b after the first): quote the model"),
        (["--seed", "2"], 'no MODEL: give one, e.g. gradcheck "w*x+b", or a case file (--file)'),
        (["w*x", "--file", "cases.toml"], "give a MODEL or --file, not both"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message):
    out = gradcheck(*args)
    assert out.exit_code == 2
    assert out.stdout == ""
    assert message in out.stderr
    assert out.stderr.startswith("Error: ") and out.stderr.count("\n") == 1
    assert not Path("/tmp/gradcheck-pwned").exists()


def test_help_and_parse_errors_do_not_import_torch_or_sympy():
    code = (
        "import sys\nfrom gradcheck_cli import cli\n"
        "for argv in (['--help'], ['w*x[0]']):\n"
        "    sys.argv = ['gradcheck', *argv]\n"
        "    try:\n        cli.main()\n    except SystemExit:\n        pass\n"
        "print('torch' in sys.modules, 'sympy' in sys.modules, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stderr.strip().splitlines()[-1] == "False False"
    assert "--loss" in out.stdout


def test_no_arguments_print_a_short_usage_with_three_examples():
    out = gradcheck()
    assert out.exit_code == 2 and out.stdout == ""
    lines = out.stderr.splitlines()
    assert lines[0].startswith("Usage: gradcheck MODEL [OPTIONS]")
    examples = [line.split("  ")[1] for line in lines if line.startswith("  gradcheck ")]
    assert len(examples) == 3 and len(lines) <= 10
    for example in examples:  # each example runs (the sweep over two seeds, for speed)
        argv = shlex.split(example.replace("1..20", "1..2"))[1:]
        assert gradcheck(*argv).exit_code in (0, 1), example


def test_help_shows_flags_as_flags_examples_and_completion():
    out = gradcheck("--help")
    assert out.exit_code == 0
    assert "  --strict / --no-strict  " in out.stdout and "<bool>" not in out.stdout
    assert "  --seed N  " in out.stdout and "  --at NAME=NUMBER  " in out.stdout
    assert "[default: 60]" in out.stdout  # not taken for markup
    assert "Examples:" in out.stdout and 'gradcheck "w*x+b" --expect' in out.stdout
    assert "--install-completion" in out.stdout and "--show-completion" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 80


def test_shell_completion_completes_options_and_choices():
    env = {"_GRADCHECK_COMPLETE": "complete_bash", "COMP_CWORD": "1"}
    out = subprocess.run(
        [str(GRADCHECK)], env={**env, "COMP_WORDS": "gradcheck --str"}, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0 and out.stdout.split() == ["--strict"]
    env = {**env, "COMP_WORDS": "gradcheck w --format ", "COMP_CWORD": "3"}
    out = subprocess.run([str(GRADCHECK)], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["table", "json", "jsonl", "markdown", "latex"]
    script = gradcheck("--show-completion", "bash")
    assert script.exit_code == 0 and "_GRADCHECK_COMPLETE=complete_bash" in script.stdout


def test_version():
    out = gradcheck("--version")
    assert out.exit_code == 0 and out.stdout.startswith("gradcheck ")


def test_tutorial_hand_calculation_exit_code_and_verdicts():
    out = gradcheck(
        "w*x+b",
        "--loss",
        "mse",
        "--seed",
        "1",
        "--expect",
        "w=-1.4793",
        "--expect",
        "b=1.7626",
        "--format",
        "json",
    )
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    hand = {g["param"]: g["expect"]["classification"] for g in doc["gradients"]}
    assert hand == {"w": "mistake", "b": "rounding"}
    assert doc["status"] == "fail"
    table = gradcheck("w*x+b", "--seed", "1", "--expect", "w=-1.4793,b=1.7626", "--verbose")
    assert table.exit_code == 1
    assert "mistake (1645 envelope radii away)" in table.stdout
    assert "aten.mse_loss_backward.default" in table.stdout  # --verbose: where bits were lost


def test_expect_errors():
    out = gradcheck("w*x+b", "--expect", "q=1.0")
    assert out.exit_code == 2 and "--expect names 'q'" in out.stderr
    out = gradcheck("w*x+b", "--expect", "w=abc")
    assert out.exit_code == 2 and "bad entries: w = string 'abc'" in out.stderr

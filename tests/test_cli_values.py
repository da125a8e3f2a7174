"""The command line's values converted without pydantic (``cli_values``) are typer's own.

Every parameter of the real command is given the same values through ``cli_values.Coercion``
and through typer's own conversion (the pydantic ``TypeAdapter`` it builds): the value, or the
error message, must be the same. A subprocess then checks that a single check from the command
line never imports pydantic (nor the case-file modules, nor rich for JSON output).
"""

import subprocess
import sys

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from gradcheck_cli import cli_values
from gradcheck_cli.cli import app

pytest.importorskip("typer._coercion")
from typer._coercion import build_runtime_param  # noqa: E402

COMMAND = typer.main.get_command(app)
CONTEXT = COMMAND.make_context("gradcheck", ["w"], resilient_parsing=True)
PARAMS = {p.name: p for p in COMMAND.get_params(CONTEXT)}
TEXTS = [
    *["0", "7", "007", "-5", "+5", " 5", "5 ", "1_000", "99999999999999999999", "0x10"],
    *["1.0", "1e3", "0.5", ".5", "5.", "-1e-3", "1E5", "1e999", "1e-400", "inf", "nan", "-"],
    *[
        "_",
        "1__0",
        "_1",
        "",
        "abc",
        "w=1",
        "table",
        "json",
        "JSON",
        "jsonl ",
        "latex",
        "٣",
        "1.5.2",
    ],
]


def both(param, value):
    """(typer's result or error, cli_values' result or error) for ``value`` of ``param``."""

    def outcome(coercion):
        try:
            return ("value", coercion.coerce(value, param=param, ctx=CONTEXT))
        except Exception as exc:  # the error typer reports, compared as its text
            return ("error", type(exc).__name__, str(exc))

    return (
        outcome(build_runtime_param(param.type_descriptor)),
        outcome(cli_values.Coercion(param.type_descriptor)),
    )


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_every_parameter_converts_as_typer_does(name):
    param = PARAMS[name]
    values = [None, param.default, *TEXTS, *(list(v) for v in (TEXTS[:3], [], ["a", "b"]))]
    values += [tuple(TEXTS[-5:]), 1, 0, -2, 2.5, True]
    for value in values:
        typer_own, ours = both(param, value)
        assert repr(ours) == repr(typer_own), (name, value)  # repr: 1 is not 1.0, nan is nan


NUMBERS = st.from_regex(
    r"[+-]?[0-9]{0,6}\.?[0-9]{0,6}([eE][+-]?[0-9]{1,4})?", fullmatch=True
) | st.from_regex(r"[ +\-_.eE0-9]{0,12}", fullmatch=True)


@given(NUMBERS)
def test_numbers_convert_as_typer_does(text):
    for name in ("seed", "samples", "timeout", "workers"):
        typer_own, ours = both(PARAMS[name], text)
        assert repr(ours) == repr(typer_own), (name, text)


def test_a_single_check_imports_no_pydantic_no_batch_module_and_for_json_no_rich():
    code = (
        "import sys\nfrom gradcheck_cli import cli\n"
        "sys.argv = ['gradcheck', 'w*x+b', '--seed', '2', '--at', 'w=1', '--format', 'json',"
        " '--timeout', '60', '-q']\n"
        "try:\n    cli.main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "unused = ('pydantic', 'typer._adapters', 'tomllib', 'gradcheck_cli.batch.casefile',"
        " 'rich.console', 'gradcheck_cli.report.layout')\n"
        "print(code, [m for m in unused if m in sys.modules], file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stderr.strip().splitlines()[-1] == "0 []", out.stderr
    assert '"status": "pass"' in out.stdout

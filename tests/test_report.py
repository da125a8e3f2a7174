"""The report of a check: exact text at 40, 60, 80 and 120 columns (golden files), every
number whole at every width, the verdict first, ``--brief``, and few rows for many samples.

Regenerate the golden files after an intended change with:
GRADCHECK_REGOLD=1 pytest tests/test_report.py
"""

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcheck_cli.cli import app
from gradcheck_cli.pipeline import check
from gradcheck_cli.report import text as report
from gradcheck_cli.report.console import plain_text, render, to_json
from gradcheck_cli.report.sections import MANY, SHOWN, bits, number, short

GOLDEN = Path(__file__).parent / "golden"
WIDTHS = (40, 60, 80, 120)
TUTORIAL = ("w*x+b", "--loss", "mse", "--seed", "1")
# the README's example; the seed given, so that the text does not depend on the default
LONG = ("sqrt(x+1)-sqrt(x)", "--loss", "none", "--at", "x=1e6", "--seed", "1")


def compare_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("GRADCHECK_REGOLD"):
        path.write_text(text)
    assert text == path.read_text()


def run(*args, columns=None):
    """The command line in this process, stdout a pipe, with ``COLUMNS`` set or not."""
    env = {"NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": None}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    out = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert out.exit_code in (0, 1), out.stderr
    return out.stdout


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "args"), [("tutorial", TUTORIAL), ("long", LONG)])
def test_exact_text_at_each_width(name, args, width):
    text = run(*args, columns=width)
    assert "\x1b" not in text
    compare_golden(f"{name}_{width}.txt", text)
    assert max(len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", (40, 120))
def test_brief_exact_text(width):
    text = run(*TUTORIAL, "--brief", columns=width)
    compare_golden(f"tutorial_brief_{width}.txt", text)
    lines = text.splitlines()
    assert lines[0].startswith("PASS: all 2 gradients agree")  # the summary (wrapped at 40)
    assert [line.split()[:2] for line in lines if line.startswith("  ")] == [
        ["w", "pass"],
        ["b", "pass"],
    ]  # and one line per gradient


def test_a_pipe_without_columns_gets_the_width_the_content_needs(tutorial):
    text = run(*LONG)
    assert text == report.text(check("sqrt(x+1)-sqrt(x)", loss="none", at={"x": 1e6}, seed=1))
    assert "  param  verdict" in text  # the full table, however wide
    assert max(len(line) for line in text.splitlines()) > 80
    assert run(*TUTORIAL, columns=80) == report.text(tutorial, 80)
    assert run(*TUTORIAL, columns="junk") == report.text(tutorial)  # not a width: ignored


CASES = {
    "tutorial": dict(model="w*x+b", loss="mse", seed=1),
    "long": dict(model="sqrt(x+1)-sqrt(x)", loss="none", at={"x": 1e6}),
    "samples": dict(model="w*x+b", seed=1, samples=5),
    "kink": dict(model="relu(w*x)+b", seed=1, at={"w": 0.0}),
    "hand": dict(model="w*x+b", seed=1, expect=(("w", "-1.4793"), ("b", "1.7626"))),
    "overflow": dict(model="exp(w*x)", loss="none", at={"w": 100.0, "x": 1.0}),
    "undefined": dict(model="log(w)*x", seed=1, at={"w": -1.0}),
}


@pytest.fixture(scope="module")
def results():
    return {
        name: check(options["model"], **{k: v for k, v in options.items() if k != "model"})
        for name, options in CASES.items()
    }


def numbers_shown(doc):
    """Every number of a check's JSON as the text shows it: in full, or (error statistics)
    to three significant digits."""
    full = [
        v
        for items in doc["values"].values()
        for v in (items if isinstance(items, list) else [items])
    ]
    for side in ("exact", "autograd"):
        z = doc["z"][side]
        full += z if isinstance(z, list) else [z]
        full.append(doc["loss_value"][side])
    short_forms = [str(doc["seed"]), str(doc["samples"])]
    for g in doc["gradients"]:
        full += [g["exact"], g["autograd"]] + [g[k] for k in ("left", "right") if g[k] is not None]
        stats = ("abs_error", "rel_error", "ulps", "bound", "tolerance", "kappa")
        short_forms += [short(_float(g[k])) for k in stats] + [bits(_float(g["bits"]))]
        if g["expect"]:
            hand = g["expect"]
            short_forms += [hand["text"], short(hand["distance"]), f"{hand['radii']:.0f}"]
        if g["envelope"]:
            envelope = g["envelope"]
            short_forms += [f"±{envelope['radius']:.3g}", f"±{envelope['lenient_radius']:.3g}"]
    return [number(_float(v)) for v in full] + short_forms


def _float(value):
    return None if value is None else float(value)  # "nan", "inf" from the JSON


@pytest.mark.parametrize("width", (*WIDTHS, None))
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_number_of_the_json_appears_whole(results, name, width):
    result = results[name]
    text = report.text(result, width)
    tokens = set(re.findall(r"[^\s,;:()]+", text))
    missing = [n for n in numbers_shown(json.loads(to_json(result))) if n not in tokens]
    assert missing == []
    if width is not None:
        assert max(len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("width", WIDTHS)
def test_verbose_numbers_are_whole_too(results, width):
    result = results["tutorial"]
    tokens = set(report.text(result, width, verbose=True).split())
    for g in result.gradients:
        for _, op, amount in g.contributions:
            assert {op, short(amount), f"{amount / g.bound:.0%}"} <= tokens


def test_the_verdict_comes_first(results):
    text = report.text(results["hand"])
    lines = text.splitlines()
    assert lines[0] == "FAIL: hand value for w is a mistake"
    assert lines[2] == "Gradients"
    order = ["Gradients", "Hand calculations", "Rounding analysis", "Symbolic gradients"]
    order += ["Problem", "Values", "Forward pass", "exact      the SymPy"]
    positions = [text.index(title) for title in order]
    assert positions == sorted(positions)
    headline = lines[5]  # param, verdict, autograd beside exact, the error
    g = results["hand"].gradients[0]
    assert headline.split() == ["w", "pass", number(g.autograd), number(g.exact), "0.632", "ulps"]


def test_the_headline_gives_a_large_error_relative(results):
    g = results["long"].gradients[0]
    assert g.ulps > 1024
    assert report.error(g) == f"rel {short(g.rel_error)}"
    assert report.error(results["undefined"].gradients[0]) == "nan"


def test_brief_is_a_line_per_gradient_and_drops_values_before_it_is_cut(results):
    wide = report.text(results["long"], None, brief=True).splitlines()
    assert wide[0].startswith("PASS") and len(wide) == 2
    assert wide[1].split() == [
        "x",
        "pass",
        "ill-conditioned",
        "autograd",
        number(results["long"].gradients[0].autograd),
        "exact",
        number(results["long"].gradients[0].exact),
        "rel",
        "0.164",
    ]
    narrow = report.text(results["long"], 40, brief=True).splitlines()
    assert narrow[-1].split() == ["x", "pass", "ill-conditioned", "rel", "0.164"]


def test_colours_mean_something(results):
    def styles(result):
        return {text: style for line in report.lines(result) for text, style in line}

    assert styles(results["tutorial"])["pass"] == "bold green"
    assert styles(results["kink"])["kink"] == "bold yellow"
    assert styles(results["undefined"])["undefined"] == "bold yellow"
    assert styles(results["hand"])["mistake (1645 envelope radii away)"] == "bold red"
    assert styles(results["long"])["pass ill-conditioned"] == "yellow"
    top = report.lines(results["hand"])[0]
    assert top == (("FAIL: hand value for w is a mistake", "bold red"),)


def test_numbers_are_right_justified(results):
    lines = report.text(results["tutorial"]).splitlines()
    rows = [line for line in lines if line.startswith(("  w ", "  b "))][:2]
    ends = {
        line.index(number(g.exact)) + len(number(g.exact))
        for g, line in zip(results["tutorial"].gradients, rows, strict=True)
    }
    assert len(ends) == 1  # the exact column ends at the same place in both rows


def test_the_terminal_gets_the_same_text_as_a_file(results):
    for width in (None, 40, 80):
        result = results["hand"]
        assert plain_text(render(result, width)) == report.text(result, width)


def test_many_samples_are_summarised_and_the_json_keeps_them_all():
    result = check("w*x+b", seed=1, samples=MANY + 40)
    text = report.text(result)
    x = dict(result.values)["x"]
    assert all(number(v) in text for v in x[:SHOWN])
    assert number(x[SHOWN]) not in text and "x[3]" not in text
    assert re.search(rf"^  x min +input +{re.escape(number(min(x)))}$", text, re.M)
    assert number(max(x)) in text and number(max(result.z_exact)) in text
    assert f"first {SHOWN} of {MANY + 40} samples" in text and "--format json" in text
    assert len(json.loads(to_json(result))["values"]["x"]) == MANY + 40
    fewer = report.text(check("w*x+b", seed=1, samples=MANY + 1))
    assert len(fewer.splitlines()) == len(text.splitlines())  # rows do not grow with samples
    every = report.text(check("w*x+b", seed=1, samples=MANY))
    assert f"x[{MANY - 1}]" in every and "x min" not in every


def test_a_real_terminal_gets_its_width_and_colours(tutorial):
    """The installed command in a pty of 60 columns (no COLUMNS): laid out for 60, coloured,
    and the same text as the file report at 60 once the colour codes are taken out."""
    import fcntl
    import pty
    import struct
    import subprocess
    import sys
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    env.pop("TTY_COMPATIBLE", None)
    command = Path(sys.executable).with_name("gradcheck")
    process = subprocess.Popen(
        [str(command), *TUTORIAL],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.DEVNULL,  # no spinner in the text
        env={**env, "TERM": "xterm-256color"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 0
    os.close(leader)
    raw = b"".join(chunks).decode().replace("\r\n", "\n")
    assert "\x1b[" in raw  # colours in a terminal
    assert re.sub(r"\x1b\[[0-9;]*m", "", raw) == report.text(tutorial, 60)

"""--graph, --format latex and --format markdown of one check: parsed and checked against values
computed here by hand from the tutorial's draw."""

import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from conftest import TUTORIAL, gradcheck, scaled_tanh

from gradcheck_cli.explain.chain import check_explained
from gradcheck_cli.options import make_options
from gradcheck_cli.report import graph

X, Y, W, B = (TUTORIAL[k] for k in "xywb")
SVG = "{http://www.w3.org/2000/svg}"


def four(value):
    return f"{value:.4f}"


def boxes(path):
    """data-text of each node -> the lines of text in its box."""
    root = ET.parse(path).getroot()
    return {
        g.get("data-text"): [t.text for t in g.iter(f"{SVG}text")]
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "node"
    }


def test_graph_of_tanh_shows_every_leaf_and_operation_with_its_values(tmp_path):
    out = gradcheck("tanh(w*x)+b", "--seed", "1", "--graph", tmp_path / "g.svg")
    assert out.exit_code == 0
    found = boxes(tmp_path / "g.svg")
    expected = {"tanh(w * x) + b", "tanh(w * x)", "w * x", "w", "x", "b", "y", "mse(z, y)"}
    assert set(found) == expected
    u = W * X
    z = math.tanh(u) + B
    dl_dz = 2 * (z - Y)
    dl_du = dl_dz * (1 - math.tanh(u) ** 2)
    values = {"w * x": u, "tanh(w * x)": math.tanh(u), "tanh(w * x) + b": z}
    values |= {"w": W, "x": X, "b": B, "y": Y, "mse(z, y)": (z - Y) ** 2}
    for text, value in values.items():
        assert f"value {four(value)}" in found[text], text
    grads = {"w * x": dl_du, "tanh(w * x)": dl_dz, "w": dl_du * X, "b": dl_dz}
    for text, value in grads.items():
        assert f"grad exact {four(value)}" in found[text], text
        assert f"autograd {four(value)}" in found[text], text  # float32 agrees to 4 decimals
    assert found["w * x"][0] == "*" and found["tanh(w * x)"][0] == "tanh"
    assert "x (input)" in found["x"] and "w (param)" in found["w"]


def test_graph_colours_the_verdict_and_the_departing_node(tmp_path):
    result, e = check_explained(
        "tanh(w*x)+b", make_options({"seed": 1}), {"tanh": scaled_tanh(1.001)}
    )
    graph.write(str(tmp_path / "bad.svg"), result, e)
    root = ET.parse(tmp_path / "bad.svg").getroot()
    fill = {
        g.get("data-text"): g.find(f"{SVG}rect").get("fill")
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "node"
    }
    red, green = graph.COLOURS["fail"], graph.COLOURS["pass"]
    assert fill["tanh(w * x)"] == red and fill["w"] == red  # the culprit and the failed gradient
    assert fill["b"] == green and fill["w * x"] == green and fill["tanh(w * x) + b"] == green
    assert "autograd departs here" in boxes(tmp_path / "bad.svg")["tanh(w * x)"]


def test_graph_dot_has_every_node_and_edge(tmp_path):
    out = gradcheck("tanh(w*x)+b", "--seed", "1", "--graph", tmp_path / "g.dot")
    text = (tmp_path / "g.dot").read_text()
    assert out.exit_code == 0 and text.startswith("digraph gradcheck {")
    assert len(re.findall(r"^  n\d+ \[label=", text, re.M)) == 8
    assert len(re.findall(r"^  n\d+ -> n\d+;$", text, re.M)) == 7
    assert f"grad exact {four(2 * (math.tanh(W * X) + B - Y))}" in text


def test_graph_png_without_a_converter_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(__import__("sys").modules, "cairosvg", None)  # import fails
    out = gradcheck("w*x+b", "--seed", "1", "--graph", tmp_path / "g.png")
    assert out.exit_code == 2
    assert out.stderr.startswith("Error: --graph") and "no SVG to PNG converter" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and not (tmp_path / "g.png").exists()


def test_graph_with_an_unknown_extension_is_refused(tmp_path):
    out = gradcheck("w*x+b", "--graph", tmp_path / "g.txt")
    assert out.exit_code == 2
    assert (
        out.stderr.strip()
        == f"Error: --graph {tmp_path / 'g.txt'}: expected a file ending in .svg, .dot or .png"
    )


def _balanced(text):
    depth = 0
    for c in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(c, 0)
        assert depth >= 0
    return depth == 0


def test_latex_of_the_tutorial():
    out = gradcheck("w*x+b", "--seed", "1", "--format", "latex")
    tex = out.stdout
    assert out.exit_code == 0 and _balanced(tex)
    assert re.findall(r"\\begin\{(\w+\*?)\}", tex) == re.findall(r"\\end\{(\w+\*?)\}", tex)
    assert r"\frac{\partial L}{\partial z} &= 2 \left(z - y\right) = 1.7628" in tex
    assert r"\frac{\partial z}{\partial w} &= x = -0.6014" in tex
    assert r"= 1.7628 \cdot (-0.6014) = -1.0601" in tex
    assert "\\documentclass" not in tex  # a fragment, to paste into notes


TEX = next((t for t in ("pdflatex", "lualatex", "xelatex") if shutil.which(t)), None)


@pytest.mark.skipif(TEX is None, reason="no TeX installed: the structure test above stands in")
def test_latex_of_the_tutorial_compiles_as_a_fragment(tmp_path):
    fragment = gradcheck("w*x+b", "--seed", "1", "--format", "latex").stdout
    (tmp_path / "fragment.tex").write_text(fragment)
    (tmp_path / "notes.tex").write_text(
        "\\documentclass{article}\\usepackage{amsmath}\\begin{document}"
        "\\input{fragment}\\end{document}\n"
    )
    done = subprocess.run(
        [TEX, "-interaction=nonstopmode", "-halt-on-error", "notes.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout.decode(errors="replace")[-2000:]


def test_latex_keeps_function_names_whole():
    tex = gradcheck("leaky_relu(w*x, 0.2)", "--seed", "1", "--format", "latex").stdout
    assert r"\operatorname{leaky\_relu}" in tex and "leaky}_{relu" not in tex
    assert _balanced(tex)


def test_markdown_full_report_of_one_check():
    out = gradcheck("w*x+b", "--seed", "1", "--format", "markdown", "--expect", "w=-1.4793")
    md = out.stdout
    assert md.startswith("## gradcheck `w*x+b`: ")
    for section in ("### Values", "### Forward pass", "### Gradients", "### Hand calculations"):
        assert section in md
    header = (
        "| param | exact | autograd | abs err | rel err | ulps | bits | bound | kappa | verdict |"
    )
    assert header in md
    rows: dict[str, list[str]] = {}
    for line in md.splitlines():
        if line.startswith("| "):
            rows.setdefault(line.split(" | ")[0][2:], []).append(line)
    values, gradient, hand = rows["w"]  # the tables in order
    assert f"| x | input | {X!r} |" in rows["x"] and values == f"| w | param | {W!r} |"
    assert gradient.endswith("| **pass** |") and "| -1.0601" in gradient
    assert hand.startswith("| w | -1.4793 |")
    assert "mistake" in md  # the tutorial's own hand value, -1.4793, is a mistake
    assert "### Chain rule" not in md  # only with --explain


def test_markdown_with_explain_adds_the_chain_rule():
    md = gradcheck("w*x+b", "--seed", "1", "--format", "markdown", "--explain").stdout
    assert "dL/dw = dL/dz * dz/dw = 1.7628 * (-0.6014) = -1.0601" in md
    assert "| w * x -> w | x | -0.6014 |" in md


def test_markdown_of_a_sweep_stays_the_batch_summary():
    out = gradcheck("w*x+b", "--seeds", "1..2", "--format", "markdown")
    assert out.exit_code == 0 and "## gradcheck `" not in out.stdout


def test_readme_worked_example_and_picture_are_current(tmp_path):
    from pathlib import Path

    root = Path(__file__).parent.parent
    readme = (root / "README.md").read_text()
    out = gradcheck("w*x+b", "--loss", "mse", "--seed", "1", "--explain").stdout
    block = out[out.index("Chain rule (exact values") :].rstrip("\n")
    assert block in readme
    gradcheck("w*x+b", "--seed", "1", "--graph", tmp_path / "g.svg")
    assert (tmp_path / "g.svg").read_text() == (root / "docs/tutorial-graph.svg").read_text()

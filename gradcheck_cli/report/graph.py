"""The computation graph as the tutorial draws it: SVG written here (no Graphviz), DOT as text.

Leaves (inputs, target, parameters, constants) at the top, the loss at the bottom, arrows in
the direction of the forward pass. Each box shows the node's forward value and, where a
gradient flows, dL/d node exact and autograd's; its colour is the verdict: a parameter's
gradient verdict, an operation where autograd departs from the chain rule in red. ``.png``
is converted from the SVG by a converter found at run time (rsvg-convert, cairosvg, inkscape).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from gradcheck_cli.errors import OutputError, UsageError
from gradcheck_cli.report.explain_text import teach_number

COLOURS = {
    "pass": "#c8efc8",
    "fail": "#f6b8b8",
    "kink": "#f8e7a0",
    "undefined": "#e8c4f0",
    "none": "#eeeeee",  # no gradient flows through the node
    "data": "#dbe9f7",  # inputs and target
}
CHAR, LINE, PAD, GAP_X, GAP_Y = 7.2, 16, 8, 24, 56
MAX_TEXT = 34  # a longer sub-expression is shortened in the box (in full in its tooltip)


def _adjoints(e: Any) -> dict[int, tuple[float, float | None]]:
    found: dict[int, tuple[float, float | None]] = {0: (1.0, 1.0)}
    for edge in e.edges:
        if edge.adjoint_autograd is not None:
            found[edge.child] = (edge.adjoint_exact, edge.adjoint_autograd)
    return found


def _departs(e: Any) -> set[int]:
    """Operations where autograd leaves the mathematics: a backward step or a forward value."""
    bad = {edge.parent for edge in e.edges if edge.departs}
    return bad | {n.index for n in e.nodes if n.forward_error is not None and n.forward_error > 1}


def _title(node: Any) -> str:
    if node.kind == "loss":
        return f"L = {node.text}"
    if node.kind == "op":
        return node.op
    return node.text if node.kind == "constant" else f"{node.text} ({node.kind})"


def lines(e: Any, index: int) -> list[str]:
    """The text of one box: its title, sub-expression, value, dL/d node."""
    node = e.nodes[index]
    out = [_title(node)]
    if node.kind == "op":
        text = node.text if len(node.text) <= MAX_TEXT else node.text[: MAX_TEXT - 1] + "…"
        out.append(("z = " if index == 1 else "") + text)
    where = " (sample 0)" if len(node.exact) > 1 else ""
    out.append(f"value {teach_number(node.exact[0])}{where}")
    if node.torch and teach_number(node.torch[0]) != teach_number(node.exact[0]):
        out.append(f"torch {teach_number(node.torch[0])}")
    if index in _departs(e):
        out.append("autograd departs here")
    adjoint = _adjoints(e).get(index)
    if adjoint is not None and index != 0:
        out.append(f"grad exact {teach_number(adjoint[0])}")
        out.append(f"autograd {teach_number(adjoint[1])}")
    return out


def colour(e: Any, result: Any, index: int) -> str:
    node = e.nodes[index]
    verdicts = {g.param: g.verdict for g in result.gradients}
    if node.kind == "param":
        return COLOURS.get(verdicts.get(node.text, "none"), COLOURS["none"])
    if node.kind in ("input", "target"):
        return COLOURS["data"]
    if node.kind == "loss":
        return COLOURS.get(result.status, COLOURS["none"])
    if index in _departs(e):
        return COLOURS["fail"]
    return COLOURS["pass"] if index in _adjoints(e) else COLOURS["none"]


def layout(e: Any) -> dict[int, tuple[float, float, float, float]]:
    """(centre x, top y, width, height) per node: leaves left to right in the order typed,
    each operation centred over its children, one row per depth (the loss at the bottom)."""
    depth = {0: 0}
    for node in e.nodes[1:]:
        depth[node.index] = depth[node.parent] + 1
    deepest = max(depth.values())
    size = {n.index: _size(lines(e, n.index)) for n in e.nodes}
    column = max(w for w, _ in size.values()) + GAP_X
    row = max(h for _, h in size.values()) + GAP_Y
    x: dict[int, float] = {}
    leaves = 0

    def place(index: int) -> None:
        nonlocal leaves
        children = e.nodes[index].children
        for child in children:
            place(child)
        if children:
            x[index] = sum(x[c] for c in children) / len(children)
        else:
            x[index] = column / 2 + leaves * column
            leaves += 1

    place(0)
    return {i: (x[i], 40 + (deepest - depth[i]) * row, size[i][0], size[i][1]) for i in depth}


def _size(text: list[str]) -> tuple[float, float]:
    return max(len(t) for t in text) * CHAR + 2 * PAD, len(text) * LINE + 2 * PAD


def svg(result: Any, e: Any) -> str:
    boxes = layout(e)
    width = max(x + w / 2 for x, _, w, _ in boxes.values()) + GAP_X
    height = max(y + h for _, y, _, h in boxes.values()) + 48
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, monospace" '
        'font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
        f'<text x="12" y="20" font-weight="bold">{escape(_caption(result))}</text>',
    ]
    for node in e.nodes[1:]:
        (cx, cy, _, ch), (px, py, _, _) = boxes[node.index], boxes[node.parent]
        out.append(
            f'<line class="edge" x1="{cx:.1f}" y1="{cy + ch:.1f}" x2="{px:.1f}" y2="{py:.1f}" '
            'stroke="#444" marker-end="url(#arrow)"/>'
        )
    for node in e.nodes:
        out += _box(e, result, node, boxes[node.index])
    legend = "green: agrees with the exact value · red: fails or departs · grey: no gradient"
    out.append(f'<text x="12" y="{height - 14:.0f}" fill="#555">{escape(legend)}</text>')
    return "\n".join([*out, "</svg>"]) + "\n"


def _box(e: Any, result: Any, node: Any, box: tuple[float, float, float, float]) -> list[str]:
    x, y, w, h = box
    attributes = f"data-index={quoteattr(str(node.index))} data-kind={quoteattr(node.kind)}"
    out = [
        f'<g class="node" {attributes} data-text={quoteattr(node.text)}>',
        f"<title>{escape(node.text)}</title>",
        f'<rect x="{x - w / 2:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" '
        f'fill="{colour(e, result, node.index)}" stroke="#333"/>',
    ]
    for k, text in enumerate(lines(e, node.index)):
        weight = ' font-weight="bold"' if k == 0 else ""
        out.append(
            f'<text x="{x:.1f}" y="{y + PAD + (k + 0.8) * LINE:.1f}" text-anchor="middle"'
            f"{weight}>{escape(text)}</text>"
        )
    return [*out, "</g>"]


def _caption(result: Any) -> str:
    return (
        f"z = {result.model} | loss {result.loss} ({result.reduction}) | {result.dtype} | "
        f"seed {result.seed} | {result.status.upper()}"
    )


def dot(result: Any, e: Any) -> str:
    """The same graph in Graphviz's DOT language (for `dot -Tpng`, where installed)."""
    out = [
        "digraph gradcheck {",
        f"  label={_dot_text(_caption(result))}; labelloc=t;",
        '  node [shape=box, style="rounded,filled", fontname="monospace"];',
    ]
    for node in e.nodes:
        label = _dot_text("\n".join(lines(e, node.index)))
        out.append(f'  n{node.index} [label={label}, fillcolor="{colour(e, result, node.index)}"];')
    out += [f"  n{n.index} -> n{n.parent};" for n in e.nodes[1:]]
    return "\n".join([*out, "}"]) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write(path: str, result: Any, e: Any) -> None:
    """Write the graph to ``path``: .svg, .dot (or .gv), or .png through a converter."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".svg", ".dot", ".gv", ".png"):
        raise UsageError(f"--graph {path}: expected a file ending in .svg, .dot or .png")
    text = dot(result, e) if suffix in (".dot", ".gv") else svg(result, e)
    try:
        if suffix == ".png":
            _png(text, path)
        else:
            Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write --graph {path}: {exc.strerror or exc}") from None


def _png(svg_text: str, path: str) -> None:
    if shutil.which("rsvg-convert"):
        command = ["rsvg-convert", "-f", "png", "-o", path]
    elif shutil.which("inkscape"):
        command = ["inkscape", "--pipe", "--export-type=png", f"--export-filename={path}"]
    else:
        try:
            import cairosvg  # type: ignore[import-not-found]
        except ImportError:
            raise UsageError(
                f"--graph {path}: no SVG to PNG converter found (rsvg-convert, inkscape or the "
                "cairosvg package); write .svg or .dot instead"
            ) from None
        cairosvg.svg2png(bytestring=svg_text.encode(), write_to=path)
        return
    done = subprocess.run(command, input=svg_text.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()[:1]
        raise OutputError(f"cannot convert --graph {path}: {command[0]} {' '.join(detail)}")

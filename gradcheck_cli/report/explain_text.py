"""--explain as plain text: the tutorial's chain rule with its numbers, then one line per edge.

Pure text (no rich): the console prints it after the report, markdown and LaTeX reuse the
pieces (``teach_number``, ``label``, ``step_text``).
"""

from __future__ import annotations

import math
from typing import Any

MAX_SAMPLE_LINES = 8  # per-sample lines of the chain rule shown before "... more"


def teach_number(value: float | None) -> str:
    """Four decimals, as the tutorial writes them (scientific beyond that range)."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return repr(float(value))
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:.4f}"
    return f"{value:.4e}"


def factor(value: float) -> str:
    """A number as a factor of a product: negative ones in parentheses."""
    text = teach_number(value)
    return f"({text})" if text.startswith("-") else text


def label(explanation: Any, index: int) -> str:
    """L for the loss, z for the model, the sub-expression otherwise."""
    return {0: "L", 1: "z"}.get(index, explanation.nodes[index].text)


def full(value: float | None) -> str:
    return "-" if value is None else repr(float(value))


def step_text(edge: Any) -> str:
    if edge.step_error is None:
        return "-"
    if math.isnan(edge.step_error):
        return "?"
    return f"DEPARTS ({edge.step_error:.3g}x)" if edge.departs else "ok"


def chain_lines(explanation: Any) -> list[str]:
    """The tutorial's lines: dL/dz, then per parameter dz/dp and dL/dp = dL/dz * dz/dp."""
    e = explanation
    lines = [f"z = {e.model}", f"L = {e.nodes[0].text}, {e.reduction} over {e.samples}"]
    one = e.samples == 1
    dl_dz = e.chains[0].dl_dz if e.chains else ()
    if one and dl_dz:
        lines.append(f"dL/dz = {e.dl_dz} = {teach_number(dl_dz[0])}")
    elif dl_dz:
        lines.append(f"dL/dz_i = {e.dl_dz} (sample i)")
    for c in e.chains:
        got = f"   autograd: {teach_number(c.autograd)}"
        if one:
            lines.append(f"dz/d{c.param} = {c.dz_dp} = {teach_number(c.dz_dp_exact[0])}")
            product = f"{factor(c.dl_dz[0])} * {factor(c.dz_dp_exact[0])}"
            lines.append(
                f"dL/d{c.param} = dL/dz * dz/d{c.param} = {product} = {teach_number(c.exact)}" + got
            )
            continue
        lines.append(f"dL/d{c.param} = sum_i dL/dz_i * dz_i/d{c.param},  dz/d{c.param} = {c.dz_dp}")
        for i, (a, b) in enumerate(zip(c.dl_dz, c.dz_dp_exact, strict=True)):
            if i == MAX_SAMPLE_LINES:
                lines.append(f"  ... {len(c.dl_dz) - i} more samples")
                break
            lines.append(f"  i={i}: {factor(a)} * {factor(b)} = {teach_number(a * b)}")
        lines.append(f"  dL/d{c.param} = {teach_number(c.exact)}" + got)
    return lines


def edge_rows(explanation: Any) -> list[tuple[str, ...]]:
    """One row per edge autograd differentiates: edge, local formula, its value (sample 0
    when there are several), dL/d child exact and autograd's (summed over samples), step."""
    rows = [("edge", "local derivative", "local", "dL/d child exact", "autograd", "step")]
    for edge in explanation.edges:
        if edge.adjoint_autograd is None:
            continue  # no gradient flows there (inputs, target, constants)
        rows.append(
            (
                f"{label(explanation, edge.parent)} -> {label(explanation, edge.child)}",
                edge.local,
                teach_number(edge.local_exact[0]),
                full(edge.adjoint_exact),
                full(edge.adjoint_autograd),
                step_text(edge),
            )
        )
    return rows


def departure_lines(explanation: Any) -> list[str]:
    e = explanation
    lines = []
    forward = e.first_forward
    if forward is not None:
        lines.append(
            f"autograd's forward departs first at '{forward.text}': torch's value is not the "
            f"operation applied to torch's own inputs ({forward.forward_error:.3g}x the "
            "rounding of one step)"
        )
    edge = e.first_backward
    if edge is not None:
        parent, child = e.nodes[edge.parent].text, label(e, edge.child)
        lines.append(
            f"autograd departs from the chain rule first at the backward of '{parent}' toward "
            f"'{child}': dL/d({child}) is {full(edge.adjoint_autograd)}, the chain rule at "
            f"torch's own values gives another value ({edge.step_error:.3g}x the rounding of "
            f"one step); exact: {full(edge.adjoint_exact)}"
        )
    if not lines:
        lines.append("every step of autograd agrees with the chain rule within rounding")
    return lines


def table(rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    right = {2, 3, 4}
    return [
        indent
        + "  ".join(
            c.rjust(w) if k in right else c.ljust(w)
            for k, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]


def render(explanation: Any) -> str:
    """The whole --explain block."""
    e = explanation
    head = "Chain rule (exact values, 4 decimals; as in the autograd tutorial)"
    lines = [head, *("  " + line for line in chain_lines(e)), ""]
    lines.append("Edges of the graph, from the loss down (dL/d child summed over the samples)")
    lines += table(edge_rows(e))
    lines += ["", *departure_lines(e)]
    return "\n".join(lines) + "\n"

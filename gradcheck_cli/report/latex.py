"""--format latex: the derivation of one check, ready to paste into notes.

A fragment, not a document: it needs ``\\usepackage{amsmath}`` and goes inside
``\\begin{document}``. Formulas come from SymPy's LaTeX printer (``sympy.latex``), numbers as
the tutorial writes them (four decimals) in the derivation and in full in the table.
"""

from __future__ import annotations

import math
import re
from typing import Any

from gradcheck_cli.report.explain_text import factor, teach_number

_SPECIAL = {c: "\\" + c for c in "&%$#_{}"} | {
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
}


def text(value: str) -> str:
    """Plain text escaped for LaTeX."""
    return "".join(_SPECIAL.get(c, c) for c in value)


def _names(tex: str) -> str:
    """SymPy prints a function name with an underscore as a subscript (leaky_relu as
    leaky with subscript relu): keep the name whole."""
    return re.sub(r"\\operatorname\{(\w+)\}_\{(\w+)\}", r"\\operatorname{\1\\_\2}", tex)


def _d(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"


def _wrap(tex: str) -> str:
    return tex if re.fullmatch(r"[A-Za-z](_\{?\w+\}?)?", tex) else rf"\left({tex}\right)"


def _label(e: Any, index: int) -> str:
    return {0: "L", 1: "z"}.get(index) or _wrap(_names(e.nodes[index].tex))


def problem(result: Any, e: Any) -> list[str]:
    mean = r"\frac{1}{N}\sum_{i=1}^{N}" if e.reduction == "mean" else r"\sum_{i=1}^{N}"
    values = ", ".join(
        f"${_names(text(name))} = {teach_number(v[0])}$"
        + (f" (and {len(v) - 1} more samples)" if len(v) > 1 else "")
        for name, v in result.values
    )
    return [
        f"% gradcheck: {result.model}, loss {result.loss} ({result.reduction}), "
        f"{result.dtype}, seed {result.seed}. Needs \\usepackage{{amsmath}}.",
        r"\begin{align*}",
        rf"z &= {_names(e.model_tex)} \\",
        rf"L &= {mean} \ell(z_i, y_i), \quad \ell(z, y) = {_names(e.loss_tex)}, "
        rf"\quad N = {e.samples}",
        r"\end{align*}",
        f"at {values}.",
        "",
    ]


def chain_rule(e: Any) -> list[str]:
    """The tutorial's chain rule: dL/dz, then dz/dp and dL/dp for each parameter."""
    one = e.samples == 1
    dl_dz = e.chains[0].dl_dz[0] if e.chains else None
    lines = [r"\paragraph{Chain rule}", r"\begin{align*}"]
    value = f" = {teach_number(dl_dz)}" if one and dl_dz is not None else ""
    rows = [rf"{_d('L', 'z' if one else 'z_i')} &= {_names(e.dl_dz_tex)}{value}"]
    for c in e.chains:
        p = _names(text(c.param))
        if one:
            rows.append(
                rf"{_d('z', p)} &= {_names(c.dz_dp_tex)} = {teach_number(c.dz_dp_exact[0])}"
            )
            product = rf"{factor(c.dl_dz[0])} \cdot {factor(c.dz_dp_exact[0])}"
            rows.append(
                rf"{_d('L', p)} &= {_d('L', 'z')} \cdot {_d('z', p)} = {product} = "
                + teach_number(c.exact)
            )
        else:
            rows.append(
                rf"{_d('L', p)} &= \sum_{{i=1}}^{{N}} {_d('L', 'z_i')} \cdot {_d('z_i', p)}, "
                rf"\quad {_d('z', p)} = {_names(c.dz_dp_tex)}, \quad {_d('L', p)} = "
                + teach_number(c.exact)
            )
    return [*lines, " \\\\\n".join(rows), r"\end{align*}", ""]


def edges(e: Any) -> list[str]:
    """One line per edge: dL/d child = dL/d parent * d parent/d child, with the values."""
    rows = []
    for edge in e.edges:
        if edge.adjoint_autograd is None:
            continue
        parent, child = _label(e, edge.parent), _label(e, edge.child)
        mark = r" \quad \text{autograd departs here}" if edge is e.first_backward else ""
        upstream = "" if edge.parent == 0 else rf"{_d('L', parent)} \cdot "
        rows.append(
            rf"{_d('L', child)} &= {upstream}{_names(edge.local_tex)} = "
            rf"{teach_number(edge.adjoint_exact)} \quad "
            rf"(\text{{autograd }} {teach_number(edge.adjoint_autograd)}){mark}"
        )
    body = " \\\\\n".join(rows)
    return [r"\paragraph{Along the graph}", r"\begin{align*}", body, r"\end{align*}", ""]


def verdicts(result: Any) -> list[str]:
    lines = [
        r"\paragraph{Gradients}",
        r"\begin{tabular}{lrrrrl}",
        r"param & exact & autograd & abs.\ error & bound & verdict \\ \hline",
    ]
    for g in result.gradients:
        cells = [_names(text(g.param)), *(_num(v) for v in (g.exact, g.autograd))]
        cells += [_num(g.abs_error, 3), _num(g.bound, 3), text(g.verdict)]
        lines.append(" & ".join(cells) + r" \\")
    return [*lines, r"\end{tabular}", "", f"Status: {text(result.status)}.", ""]


def _num(value: float | None, digits: int | None = None) -> str:
    if value is None:
        return "--"
    if not digits or not math.isfinite(value) or value == 0:
        return f"${float(value)!r}$"
    mantissa, _, exponent = f"{value:.{digits - 1}e}".partition("e")
    return rf"${mantissa} \times 10^{{{int(exponent)}}}$"


def document(result: Any, e: Any) -> str:
    """The LaTeX fragment: problem, chain rule, edges, gradients and verdicts."""
    lines = problem(result, e) + chain_rule(e) + edges(e) + verdicts(result)
    departure = e.first_backward
    if departure is not None:
        where = text(e.nodes[departure.parent].text)
        lines.append(
            rf"\textbf{{Autograd departs from the chain rule at the backward of "
            rf"\texttt{{{where}}}.}}"
        )
    return "\n".join(lines) + "\n"

"""The report of one check as styled lines (``layout.Line``), verdict first. No rich here.

Order: the summary line, a headline per gradient (verdict, autograd beside exact, the error in
ulps or relative), notes, hand calculations; then the analysis (rounding columns, the terms
that lost bits with ``--verbose``), the formulas, the problem, the values, the forward pass
and the legend (``report.sections``). ``brief``: the summary and one line per gradient.
Nothing is cut at any width: ``report.layout`` fits the tables to it.
"""

from __future__ import annotations

import math

from gradcheck_cli.report import finite_difference
from gradcheck_cli.report.layout import (
    BOLD,
    DIM,
    Cell,
    Column,
    Grid,
    Line,
    blank_joined,
    definition,
    plain,
    wrap,
)
from gradcheck_cli.report.sections import (
    CAUTION,
    STYLE,
    analysis,
    contributions,
    formulas,
    forward,
    hand_grid,
    higher,
    legend,
    number,
    problem,
    short,
    values,
)
from gradcheck_cli.results import CheckResult, GradientResult

MANY_ULPS = 1024  # from here on, the headline gives the relative error instead of ulps

LEGEND = (
    ("exact", "the SymPy gradient evaluated in mpmath at the exact binary values of the inputs"),
    ("autograd", "torch's gradient in the working dtype"),
    ("error", f"ulps, or the relative error (rel) from {MANY_ULPS} ulps on"),
    ("abs/rel", "|autograd - exact|, and that over |exact|"),
    ("ulps", "the error in units of the last place of the exact value in the dtype"),
    ("bits", "bits of error: log2(1 + floats between autograd and the rounded exact value)"),
    ("bound", "first-order rounding-error bound of the computation autograd ran (E1)"),
    ("tolerance", "4 * bound plus the smallest subnormal"),
    ("kappa", "bound / (u * |exact|): how much this gradient amplifies rounding"),
    (
        "verdict",
        "pass when abs err <= tolerance (or autograd is the exact value rounded); "
        "ill-conditioned: a pass with few correct bits",
    ),
)
HAND_LEGEND = (
    (
        "hand",
        "your value; envelope: every value reachable by rounding the inputs to K decimals "
        "and the answer to the decimals typed; lenient: also rounding every intermediate",
    ),
)


def error(g: GradientResult) -> str:
    """The error of a headline: ulps, or relative where that is many ulps."""
    if g.ulps is not None and (g.ulps < MANY_ULPS or g.rel_error is None):
        return f"{short(g.ulps)} ulps"
    if g.rel_error is not None:
        return f"rel {short(g.rel_error)}"
    return "nan" if math.isnan(g.abs_error) else f"abs {short(g.abs_error)}"


def lines(
    result: CheckResult, width: int | None = None, verbose: bool = False, brief: bool = False
) -> list[Line]:
    """The report at ``width`` (None: the width the content needs)."""
    top = wrap(summary_text(result), width, style=STYLE.get(result.status, BOLD))
    if brief:
        return top + headline(result, brief=True).lines(width)
    hand = result.hand_rows()  # gradients, then the loss and z
    sections = [
        top,
        headline(result).lines(width),
        *(grid.lines(width) for grid in higher(result, error)),
        notes(result, width),
        hand_grid(hand).lines(width) if hand else [],
        analysis(result).lines(width),
        fd.lines(width) if (fd := finite_difference.grid(result)) else [],
        *([contributions(g).lines(width) for g in result.gradients if g.contributions] * verbose),
        formulas(result, width),
        problem(result, width),
        values(result).lines(width),
        forward(result).lines(width),
        legend(
            LEGEND + (HAND_LEGEND if hand else ()) + (finite_difference.LEGEND if fd else ()), width
        ),
    ]
    return blank_joined(sections)


def text(
    result: CheckResult, width: int | None = None, verbose: bool = False, brief: bool = False
) -> str:
    """The report as plain text (pipes, files, JUnit, pytest): nothing cut at any width."""
    return plain(lines(result, width, verbose, brief))


def verdict_cell(g: GradientResult) -> Cell:
    if g.ill_conditioned:
        return Cell(f"{g.verdict} ill-conditioned", CAUTION)
    return Cell(g.verdict, STYLE.get(g.verdict, BOLD))


def headline(result: CheckResult, brief: bool = False) -> Grid:
    """A line per gradient: its verdict, autograd beside exact, the error. ``brief``: no
    title or header, the values labelled inline; where the line is too wide, the exact value
    and then autograd's are left out (the line stays one line)."""
    reduced = "" if result.samples == 1 else f" ({result.reduction} over {result.samples} samples)"
    label = [Column("", False, 1), Column("autograd", True, 1)] if brief else [Column("autograd")]
    label += [Column("", False, 2), Column("exact", True, 2)] if brief else [Column("exact")]
    grid = Grid(
        "" if brief else f"Gradients{reduced}",
        [Column("param", False), Column("verdict", False), *label, Column("error")],
        keys=2,
        header=not brief,
        fallback="drop" if brief else "stack",
    )
    for g in result.gradients:
        pairs = [Cell("autograd", DIM), number(g.autograd), Cell("exact", DIM), number(g.exact)]
        grid.add(Cell(g.param, BOLD), verdict_cell(g), *(pairs if brief else pairs[1::2]), error(g))
    return grid


def notes(result: CheckResult, width: int | None) -> list[Line]:
    judged = [(g.param, g) for g in result.gradients] + result.further()
    found = [(f"{name}:", g.note) for name, g in judged if g.note]
    if any(g.bound_method == "sympy" for g in result.gradients):
        found.append(
            (
                "bound:",
                "the torch graph could not be traced or holds an op not modelled in this dtype, "
                "so the bound is the first-order sweep "
                "over the SymPy gradient",
            )
        )
    size = max((len(term) for term, _ in found), default=0)
    return [line for t, n in found for line in definition(t, n, width, term_width=size, indent=0)]


def summary_text(result: CheckResult) -> str:
    judged = [(g.param, g) for g in result.gradients] + result.further()
    failed = [name for name, g in judged if g.verdict != "pass"]
    mistakes = [name for name, _, _, h in result.hand_rows() if h and h.classification == "mistake"]
    n = len(result.gradients)
    kind = "gradients" if len(judged) == n else "derivatives"  # with forward mode, Hessian
    n = len(judged)
    wrong_forward = any(f.verdict == "fail" for f in result.impl_forward)
    if not failed and not mistakes and not wrong_forward:
        return f"PASS: all {n} {kind} agree with the exact values"
    if result.status in ("kink", "undefined") and not mistakes and not wrong_forward:
        what = (
            "at a kink: no derivative, torch's convention applies"
            if result.status == "kink"
            else "undefined at this point: try another point or seed"
        )
        return f"{result.status.upper()}: {len(failed)} of {n} {kind} {what} ({', '.join(failed)})"
    parts = [
        f"--impl's forward value differs from the specification at sample {f.sample} "
        f"(yours {f.autograd!r}, exact {f.exact!r})"
        for f in result.impl_forward[:1]
        if f.verdict == "fail"
    ]
    if failed:
        parts.append(f"{len(failed)} of {n} {kind} disagree ({', '.join(failed)})")
    if mistakes:
        plural = len(mistakes) > 1
        parts.append(
            f"hand value{'s' if plural else ''} for {', '.join(mistakes)} "
            f"{'are mistakes' if plural else 'is a mistake'}"
        )
    return "FAIL: " + "; ".join(parts)


__all__ = ["LEGEND", "STYLE", "lines", "number", "short", "summary_text", "text"]

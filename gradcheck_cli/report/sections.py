"""The sections of a check's report after its verdicts: rounding analysis, hand
calculations, the terms that lost bits, formulas, problem, values, forward pass, legend; and
how numbers are written. No rich here (``report.layout`` lays them out).

Numbers are written in full (shortest round-trip form) or, for the error statistics, to three
significant digits. With more than ``MANY`` samples, the values and the forward pass show the
first ``SHOWN`` samples and the smallest and largest of each (the JSON has them all).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from gradcheck_cli.report.layout import BOLD, DIM, Cell, Column, Grid, Line, definition, wrap
from gradcheck_cli.results import CheckResult, GradientResult

STYLE = {  # what each verdict's colour means, everywhere
    "pass": "bold green",
    "fail": "bold red",
    "kink": "bold yellow",
    "undefined": "bold yellow",
    "rounding": "bold green",
    "mistake": "bold red",
}
CAUTION = "yellow"  # ill-conditioned: a pass with few correct bits
MANY = 10  # more samples than this: the first SHOWN of each, then the smallest and largest
SHOWN = 3


def number(value: float | None) -> str:
    """Full precision, shortest round-trip form."""
    return "-" if value is None else repr(float(value))


def short(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def bits(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def analysis(result: CheckResult) -> Grid:
    names = ("abs err", "rel err", "ulps", "bits", "bound", "tolerance", "kappa")
    grid = Grid(
        "Rounding analysis",
        [Column("param", False), *(Column(n) for n in names)],
        fallback="split",
    )
    for g in result.gradients:
        grid.add(
            Cell(g.param, BOLD),
            short(g.abs_error),
            short(g.rel_error),
            short(g.ulps),
            bits(g.bits),
            short(g.bound),
            short(g.tolerance),
            short(g.kappa),
        )
    return grid


def hand_grid(rows: Sequence[Any]) -> Grid:
    """``rows``: ``CheckResult.hand_rows()`` (name, exact, envelope, hand value): the
    gradients, then the loss and z."""
    names = ("hand", "exact", "distance", "envelope", "lenient", "K")
    grid = Grid(
        "Hand calculations",
        [Column("value", False), Column("verdict", False), *(Column(n) for n in names)],
        keys=2,
    )
    for name, exact, env, hand in rows:
        grid.add(
            Cell(name, BOLD),
            hand_verdict(hand) if hand else Cell("-"),
            hand.text if hand else "-",
            number(exact),
            short(hand.distance) if hand else "-",
            f"±{env.radius:.3g}",
            f"±{env.lenient_radius:.3g}",
            env.decimals_shown,
        )
    return grid


def hand_verdict(hand: Any) -> Cell:
    if hand.classification == "mistake":
        return Cell(f"mistake ({hand.radii:.0f} envelope radii away)", STYLE["mistake"])
    return Cell(hand.classification, STYLE["rounding"])


def contributions(g: GradientResult) -> Grid:
    grid = Grid(
        f"Where d loss/d {g.param} loses bits (largest terms of the bound)",
        [Column("expression", False), Column("op", False), Column("contribution"), Column("share")],
        fallback="split",
    )
    for node, op, amount in g.contributions:
        grid.add(node, op, short(amount), f"{amount / g.bound:.0%}" if g.bound else "-")
    return grid


def formulas(result: CheckResult, width: int | None) -> list[Line]:
    per = "per sample, " if result.samples > 1 else ""
    terms = [(f"d loss/d {g.param}", f"= {g.formula}") for g in result.gradients]
    terms += [(f"{h.label()} loss", f"= {h.entry.formula}") for h in result.hessian]
    size = max(len(t) for t, _ in terms) if terms else 0
    body = [line for t, f in terms for line in definition(t, f, width, term_width=size)]
    return wrap(f"Symbolic gradients ({per}SymPy)", width, style=BOLD) + body


def problem_rows(result: CheckResult) -> tuple[tuple[str, str], ...]:
    """(term, value) of the problem a check solved (the text and markdown reports')."""
    rows = (
        ("model", f"z = {result.model}"),
        ("loss", f"{result.loss} ({result.reduction})"),
        ("dtype", result.dtype),
        ("seed", str(result.seed)),
        ("samples", str(result.samples)),
        ("inputs", ", ".join(result.inputs) or "-"),
        ("target", result.target or "-"),
        ("params", ", ".join(result.params)),
    )
    rows += (("mode", result.mode),) if result.mode != "reverse" else ()
    return rows + ((("order", "2 (second derivatives)"),) if result.hessian else ())


def problem(result: CheckResult, width: int | None) -> list[Line]:
    rows = problem_rows(result)
    body = [line for t, v in rows for line in definition(t, v, width, term_width=7)]
    return wrap("Problem", width, style=BOLD) + body


def shown(name: str, items: Sequence[float]) -> list[tuple[str, float]]:
    """(label, value) rows of a per-sample quantity: all of them, or with many samples the
    first SHOWN and the smallest and largest."""
    if len(items) == 1:
        return [(name, items[0])]
    head = [
        (f"{name}[{i}]", v) for i, v in enumerate(items[: SHOWN if len(items) > MANY else MANY])
    ]
    if len(items) <= MANY:
        return head
    return head + [(f"{name} min", extreme(min, items)), (f"{name} max", extreme(max, items))]


def extreme(pick: Any, items: Sequence[float]) -> float:
    """The smallest or largest value, NaN left out (NaN if there is nothing else)."""
    numbers = [v for v in items if not math.isnan(v)]
    return pick(numbers) if numbers else math.nan


def many_title(title: str, samples: int) -> str:
    if samples <= MANY:
        return title
    return (
        f"{title} (first {SHOWN} of {samples} samples, then the smallest and largest; "
        "every value: --format json)"
    )


def values(result: CheckResult) -> Grid:
    grid = Grid(
        many_title("Values", result.samples),
        [Column("symbol", False), Column("role", False), Column("value")],
        keys=2,
    )
    roles = {n: "input" for n in result.inputs} | {n: "param" for n in result.params}
    if result.target:
        roles[result.target] = "target"
    for name, items in result.values:
        for label, value in shown(name, items):
            grid.add(Cell(label, BOLD), roles.get(name, ""), number(value))
    return grid


def forward(result: CheckResult) -> Grid:
    grid = Grid(
        many_title("Forward pass", result.samples),
        [Column("quantity", False), Column("exact"), Column("autograd")],
    )
    exact, got = shown("z", result.z_exact), shown("z", result.z_autograd)
    for (label, e), (_, a) in zip(exact, got, strict=True):
        grid.add(Cell(label, BOLD), number(e), number(a))
    grid.add(Cell("loss", BOLD), number(result.loss_exact), number(result.loss_autograd))
    return grid


def legend(entries: Sequence[tuple[str, str]], width: int | None) -> list[Line]:
    size = max(len(term) for term, _ in entries)
    return [
        line
        for term, meaning in entries
        for line in definition(term, meaning, width, term_width=size, indent=0, style=DIM)
    ]


def judged_grid(title: str, rows: Sequence[tuple[str, GradientResult]], error: Any) -> Grid:
    """A headline-like table of values judged beside the gradients (forward mode, second
    derivatives): label, verdict, autograd beside exact, the error (``error`` writes it), bound."""
    grid = Grid(
        title,
        [Column("", False), Column("verdict", False), Column("autograd"), Column("exact")]
        + [Column("error"), Column("bound")],
        keys=2,
        fallback="stack",
    )
    for label, g in rows:
        verdict = Cell(g.verdict, STYLE.get(g.verdict, BOLD))
        grid.add(
            Cell(label, BOLD),
            verdict,
            number(g.autograd),
            number(g.exact),
            error(g),
            short(g.bound),
        )
    return grid


def higher(result: CheckResult, error: Any) -> list[Grid]:
    """Forward mode's gradients (``--mode both``) and the second derivatives (``--order 2``,
    each pair once)."""
    grids = []
    if result.mode == "both":
        rows = [(g.param, g.forward) for g in result.gradients if g.forward]
        if rows:
            title = "Forward mode (dual numbers, one direction per parameter)"
            grids.append(judged_grid(title, rows, error))
    if result.hessian:
        rows = [(h.label(), h.entry) for h in result.hessian]
        grids.append(judged_grid("Second derivatives (double backward)", rows, error))
    return grids

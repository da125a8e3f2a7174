"""Results -> rich tables and JSON. The only module that imports rich.

Renderables are built as objects, separately from printing; tests render them to a fixed-width
console with colour off and compare exact text.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from .results import CheckResult, GradientResult

PIPE_WIDTH = 120  # fixed width when stdout is not a terminal: output does not depend on it
VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "kink": "bold yellow",
                 "undefined": "bold magenta"}

LEGEND = (
    "exact: the SymPy gradient evaluated in mpmath at the exact binary values of the inputs. "
    "autograd: torch's gradient in the working dtype. abs/rel error: |autograd - exact| and that "
    "over |exact|. tolerance: a first-order rounding-error bound of the gradient times a safety "
    "factor; pass when abs error <= tolerance."
)


def number(value: float | None) -> str:
    """Full precision, shortest round-trip form."""
    return "-" if value is None else repr(float(value))


def short(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def render(result: CheckResult) -> RenderableType:
    return Group(problem_table(result), values_table(result), forward_table(result),
                 formulas_table(result), gradients_table(result), Text(LEGEND, style="dim"),
                 summary(result))


def _number_column(table: Table, name: str) -> None:
    table.add_column(name, justify="right", no_wrap=True, overflow="fold")


def problem_table(result: CheckResult) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("model", f"z = {result.model}")
    table.add_row("loss", f"{result.loss} ({result.reduction})")
    table.add_row("dtype", result.dtype)
    table.add_row("seed", str(result.seed))
    table.add_row("samples", str(result.samples))
    table.add_row("inputs", ", ".join(result.inputs) or "-")
    table.add_row("target", result.target or "-")
    table.add_row("params", ", ".join(result.params))
    return table


def values_table(result: CheckResult) -> Table:
    table = Table(title="Values", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("symbol")
    table.add_column("role")
    table.add_column("value", justify="right")
    roles = {n: "input" for n in result.inputs} | {n: "param" for n in result.params}
    if result.target:
        roles[result.target] = "target"
    for name, items in result.values:
        table.add_row(name, roles.get(name, ""), ", ".join(f"{v:.4f}" for v in items))
    return table


def forward_table(result: CheckResult) -> Table:
    table = Table(title="Forward pass", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("quantity")
    _number_column(table, "exact")
    _number_column(table, "autograd")
    for i, (exact, got) in enumerate(zip(result.z_exact, result.z_autograd, strict=True)):
        label = "z" if result.samples == 1 else f"z[{i}]"
        table.add_row(label, number(exact), number(got))
    table.add_row("loss", number(result.loss_exact), number(result.loss_autograd))
    return table


def formulas_table(result: CheckResult) -> Table:
    per = "per sample, " if result.samples > 1 else ""
    table = Table(title=f"Symbolic gradients ({per}SymPy)", box=box.SIMPLE_HEAD,
                  title_justify="left", show_header=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for g in result.gradients:
        table.add_row(f"d loss/d {g.param}", f"= {g.formula}")
    return table


def gradients_table(result: CheckResult) -> Table:
    reduced = "" if result.samples == 1 else f" ({result.reduction} over {result.samples} samples)"
    table = Table(title=f"Gradients{reduced}", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("param", no_wrap=True)
    for name in ("exact", "autograd", "abs error", "rel error", "tolerance"):
        _number_column(table, name)
    table.add_column("verdict")
    for g in result.gradients:
        table.add_row(g.param, number(g.exact), number(g.autograd), short(g.abs_error),
                      short(g.rel_error), short(g.tolerance), verdict(g))
    return table


def verdict(g: GradientResult) -> Text:
    text = Text(g.verdict, style=VERDICT_STYLE.get(g.verdict, "bold yellow"))
    if g.note:
        text.append(f" ({g.note})", style="dim")
    return text


def summary(result: CheckResult) -> Text:
    failed = [g.param for g in result.gradients if g.verdict != "pass"]
    n = len(result.gradients)
    if not failed:
        return Text(f"PASS: all {n} gradients agree with the exact values", style="bold green")
    if result.status in ("kink", "undefined"):
        what = ("at a kink: no derivative, torch's convention applies" if result.status == "kink"
                else "undefined at this point: try another point or seed")
        return Text(f"{result.status.upper()}: {len(failed)} of {n} gradients {what} "
                    f"({', '.join(failed)})", style=VERDICT_STYLE[result.status])
    return Text(f"FAIL: {len(failed)} of {n} gradients disagree ({', '.join(failed)})",
                style="bold red")


def to_json(result: CheckResult) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False)


def print_result(result: CheckResult, fmt: str) -> None:
    if fmt == "json":
        print(to_json(result))
        return
    Console(highlight=False, width=None if sys.stdout.isatty() else PIPE_WIDTH).print(
        render(result))


def plain_text(renderable: Any, width: int = 100) -> str:
    """Render without colour at a fixed width (for golden tests and text reports)."""
    buffer = io.StringIO()
    Console(file=buffer, width=width, no_color=True, color_system=None, highlight=False,
            force_terminal=False).print(renderable)
    return buffer.getvalue()

"""Results -> rich tables and JSON. The only module that imports rich.

Renderables are built as objects, separately from printing; tests render them to a fixed-width
console with colour off and compare exact text.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from gradcheck_cli.results import CheckResult, GradientResult

PIPE_WIDTH = 120  # fixed width when stdout is not a terminal: output does not depend on it
VERDICT_STYLE = {
    "pass": "bold green",
    "fail": "bold red",
    "kink": "bold yellow",
    "undefined": "bold magenta",
}

LEGEND = """\
exact      the SymPy gradient evaluated in mpmath at the exact binary values of the inputs
autograd   torch's gradient in the working dtype
abs/rel    |autograd - exact|, and that over |exact|
ulps       the error in units of the last place of the exact value in the dtype
bits       bits of error: log2(1 + floats between autograd and the rounded exact value)
bound      first-order rounding-error bound of the computation autograd ran (E1)
kappa      bound / (u * |exact|): how much this gradient amplifies rounding
verdict    pass when abs error <= 4 * bound; ill-conditioned: a pass with few correct bits"""

HAND_LEGEND = """\
hand       your value; envelope: every value reachable by rounding the inputs to K decimals
           and the answer to the decimals typed; lenient: also rounding every intermediate"""


def number(value: float | None) -> str:
    """Full precision, shortest round-trip form."""
    return "-" if value is None else repr(float(value))


def short(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def render(result: CheckResult, verbose: bool = False) -> RenderableType:
    parts: list[RenderableType] = [
        problem_table(result),
        values_table(result),
        forward_table(result),
        formulas_table(result),
        gradients_table(result),
    ]
    notes = notes_text(result)
    if notes:
        parts.append(notes)
    parts.append(Text(LEGEND, style="dim"))
    if result.hand_rows():
        parts += [hand_table(result), Text(HAND_LEGEND, style="dim")]
    if verbose:
        parts += [contributions_table(g) for g in result.gradients if g.contributions]
    parts.append(summary(result))
    return Group(*parts)


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
    table = Table(
        title=f"Symbolic gradients ({per}SymPy)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        show_header=False,
    )
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for g in result.gradients:
        table.add_row(f"d loss/d {g.param}", f"= {g.formula}")
    return table


def gradients_table(result: CheckResult) -> Table:
    reduced = "" if result.samples == 1 else f" ({result.reduction} over {result.samples} samples)"
    table = Table(title=f"Gradients{reduced}", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("param", no_wrap=True)
    for name in ("exact", "autograd", "abs err", "rel err", "ulps", "bits", "bound", "kappa"):
        _number_column(table, name)
    table.add_column("verdict", no_wrap=True)
    for g in result.gradients:
        table.add_row(
            g.param,
            number(g.exact),
            number(g.autograd),
            short(g.abs_error),
            short(g.rel_error),
            short(g.ulps),
            bits(g.bits),
            short(g.bound),
            short(g.kappa),
            verdict(g),
        )
    return table


def bits(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def verdict(g: GradientResult) -> Text:
    text = Text(g.verdict, style=VERDICT_STYLE.get(g.verdict, "bold yellow"))
    if g.ill_conditioned:
        text.append(" ill-conditioned", style="yellow")
    return text


def notes_text(result: CheckResult) -> Text | None:
    lines = [f"{g.param}: {g.note}" for g in result.gradients if g.note]
    if any(g.bound_method == "sympy" for g in result.gradients):
        lines.append(
            "bound: the torch graph could not be traced, so the bound is the "
            "first-order sweep over the SymPy gradient"
        )
    return Text("\n".join(lines)) if lines else None


def hand_table(result: CheckResult) -> Table:
    table = Table(title="Hand calculations", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("param", no_wrap=True)
    for name in ("hand", "exact", "distance", "envelope", "lenient"):
        _number_column(table, name)
    table.add_column("K", justify="right")
    table.add_column("verdict")
    for name, exact, env, hand in result.hand_rows():  # gradients, then loss and z
        table.add_row(
            name,
            hand.text if hand else "-",
            number(exact),
            short(hand.distance) if hand else "-",
            f"±{env.radius:.3g}",
            f"±{env.lenient_radius:.3g}",
            env.decimals_shown,
            hand_verdict(hand) if hand else Text("-"),
        )
    return table


def hand_verdict(hand: Any) -> Text:
    if hand.classification == "mistake":
        return Text(f"mistake ({hand.radii:.0f} envelope radii away)", style="bold red")
    return Text(hand.classification, style="bold green")


def contributions_table(g: GradientResult) -> Table:
    table = Table(
        title=f"Where d loss/d {g.param} loses bits (largest terms of the bound)",
        box=box.SIMPLE_HEAD,
        title_justify="left",
    )
    table.add_column("node")
    table.add_column("op")
    _number_column(table, "contribution")
    _number_column(table, "share")
    for node, op, amount in g.contributions:
        share = f"{amount / g.bound:.0%}" if g.bound else "-"
        table.add_row(node, op, short(amount), share)
    return table


def summary(result: CheckResult) -> Text:
    failed = [g.param for g in result.gradients if g.verdict != "pass"]
    mistakes = [name for name, _, _, h in result.hand_rows() if h and h.classification == "mistake"]
    n = len(result.gradients)
    if not failed and not mistakes:
        return Text(f"PASS: all {n} gradients agree with the exact values", style="bold green")
    if result.status in ("kink", "undefined") and not mistakes:
        what = (
            "at a kink: no derivative, torch's convention applies"
            if result.status == "kink"
            else "undefined at this point: try another point or seed"
        )
        return Text(
            f"{result.status.upper()}: {len(failed)} of {n} gradients {what} ({', '.join(failed)})",
            style=VERDICT_STYLE[result.status],
        )
    parts = []
    if failed:
        parts.append(f"{len(failed)} of {n} gradients disagree ({', '.join(failed)})")
    if mistakes:
        parts.append(
            f"hand value{'s' if len(mistakes) > 1 else ''} for "
            f"{', '.join(mistakes)} {'are' if len(mistakes) > 1 else 'is a'} "
            f"mistake{'s' if len(mistakes) > 1 else ''}"
        )
    return Text("FAIL: " + "; ".join(parts), style="bold red")


def to_json(result: CheckResult) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False)


def print_result(result: CheckResult, fmt: str, verbose: bool = False) -> None:
    if fmt == "json":
        print(to_json(result))
        return
    Console(highlight=False, width=None if sys.stdout.isatty() else PIPE_WIDTH).print(
        render(result, verbose)
    )


def plain_text(renderable: Any, width: int = 100) -> str:
    """Render without colour at a fixed width (for golden tests and text reports)."""
    buffer = io.StringIO()
    Console(
        file=buffer,
        width=width,
        no_color=True,
        color_system=None,
        highlight=False,
        force_terminal=False,
    ).print(renderable)
    return buffer.getvalue()


class Progress:
    """A transient progress bar on stderr that appears once the work has taken ``delay`` s.
    ``total=None``: a spinner with the time taken, drawn by a timer (one long check)."""

    def __init__(self, total: int | None, enabled: bool, delay: float = 1.0, label: str = ""):
        self.total, self.enabled, self.delay, self.label = total, enabled, delay, label
        self._clock, self._lock = time.monotonic, threading.Lock()
        self._start, self._done, self._bar, self._closed = self._clock(), 0, None, False
        self._timer = threading.Timer(delay, self._show) if enabled and total is None else None
        if self._timer is not None:
            self._timer.daemon = True  # never keeps the process alive
            self._timer.start()

    def _show(self) -> None:
        from rich import progress as rp

        with self._lock:
            if self._bar is None and not self._closed:
                text, clock = rp.TextColumn("{task.description}"), rp.TimeElapsedColumn()
                spin = (rp.SpinnerColumn(), text, clock)
                columns = spin if self.total is None else rp.Progress.get_default_columns()
                self._bar = rp.Progress(*columns, console=Console(stderr=True), transient=True)
                self._task = self._bar.add_task(self.label or "gradcheck", total=self.total)
                self._bar.start()

    def advance(self) -> None:
        self._done += 1
        if self._bar is None and self.enabled and self._clock() - self._start > self.delay:
            self._show()
        if self._bar is not None:
            self._bar.update(self._task, completed=self._done)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None:
                self._bar.stop()
                self._bar = None

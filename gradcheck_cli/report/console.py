"""Reports -> the terminal (rich: colour) and JSON. The only module that imports rich.

The report itself is laid out by ``report.text`` and ``report.layout`` (no rich) as lines of
styled segments at a width that never cuts a number; this module only turns them into rich
``Text`` and prints them with rich's wrapping off (``soft_wrap``), so a line is written as it
was laid out. The width: ``COLUMNS`` when set, else the terminal's (rich reads both: its
``Console.width``), else, when stdout is not a terminal, the width the content needs.
rich and the layout are imported where a report is drawn: JSON output needs neither.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from gradcheck_cli.results import CheckResult

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from gradcheck_cli.report import layout


def to_rich(lines: list[layout.Line]) -> Text:
    """Styled lines as one rich ``Text`` (segment styles are rich style strings)."""
    from rich.text import Text

    out = Text(no_wrap=True, overflow="ignore", end="\n")
    for n, line in enumerate(lines):
        if n:
            out.append("\n")
        for segment, style in line:
            out.append(segment, style=style or None)
    return out


def render(
    result: CheckResult, width: int | None = None, verbose: bool = False, brief: bool = False
) -> Text:
    """The report as rich ``Text``, laid out for ``width`` (None: the width it needs)."""
    from gradcheck_cli.report import text as report_text

    return to_rich(report_text.lines(result, width, verbose, brief))


def terminal_width(console: Console, stream: Any) -> int | None:
    """The width to lay out for: ``COLUMNS`` or the terminal's; None for a pipe or a file
    without ``COLUMNS`` (nothing there may be cut: the report takes the width it needs).
    A terminal is a real one (``isatty``): ``FORCE_COLOR`` in a CI log gives colour, not a
    width."""
    from gradcheck_cli.report import layout

    try:
        tty = stream is not None and stream.isatty()
    except (AttributeError, ValueError, OSError):
        tty = False
    return layout.output_width(console.width if tty else None)


def print_result(result: CheckResult, fmt: str, verbose: bool = False, brief: bool = False) -> None:
    if fmt == "json":
        print(to_json(result))
        return
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    console.print(render(result, terminal_width(console, sys.stdout), verbose, brief))


def table_text(result: CheckResult, brief: bool = False) -> str:
    """What ``print_result(result, "table")`` would write to stdout now (colour codes
    included where it would write them), to be written later: a batch draws the reports of
    its failed cases while its workers still run."""
    from rich.console import Console

    from gradcheck_cli.report import text as report_text

    console = Console(highlight=False, soft_wrap=True)
    lines = report_text.lines(result, terminal_width(console, sys.stdout), brief=brief)
    if console.color_system is None and not console.is_terminal:  # text as laid out
        plain = "\n".join("".join(text for text, _ in line) for line in lines) + "\n"
        if all(c == "\n" or c.isprintable() for c in set(plain)):
            return plain  # what rich writes without colour: no control code or tab to mend
    with console.capture() as captured:
        console.print(to_rich(lines))
    return captured.get()


def to_json(result: CheckResult) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False)


def plain_text(renderable: Any) -> str:
    """What rich writes for ``renderable`` to a file without colour, wrapping off (tests)."""
    from rich.console import Console

    buffer = io.StringIO()
    Console(
        file=buffer,
        width=40,  # not used: soft_wrap writes every line as laid out
        no_color=True,
        color_system=None,
        highlight=False,
        force_terminal=False,
        soft_wrap=True,
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
        from rich.console import Console

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

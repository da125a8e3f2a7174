"""Plain-text pieces of batch reports, and the progress bar's switch."""

import io

import rich.console
import rich.progress  # before Console is patched: it keeps rich's own

from gradcheck_cli.report import console as report
from gradcheck_cli.report.batch import count_line


def test_count_line_leaves_out_zero_counts_but_passed():
    assert count_line({"total": 14, "passed": 12, "failed": 1, "error": 1}) == (
        "12 passed, 1 failed, 1 error"
    )
    assert count_line({"total": 3, "passed": 0, "failed": 0, "error": 3}) == "0 passed, 3 errors"
    assert count_line({"total": 2, "passed": 2, "failed": 0, "error": 0}) == "2 passed"
    assert count_line({"total": 2, "passed": 1, "failed": 0, "error": 0, "kink": 1}) == (
        "1 passed, 1 kink"
    )


def test_progress_bar_only_when_enabled_and_slow(monkeypatch):
    clock = iter([0.0, 0.5, 2.0, 2.5]).__next__
    console = rich.console.Console  # imported by the bar where it is drawn
    monkeypatch.setattr(rich.console, "Console", lambda **kw: console(file=io.StringIO()))
    off = report.Progress(3, enabled=False, delay=0.0)
    off.advance()
    assert off._bar is None
    bar = report.Progress(3, enabled=True, delay=1.0)
    bar._clock, bar._start = clock, clock()
    bar.advance()  # 0.5 s: not yet
    assert bar._bar is None
    bar.advance()  # 2 s: shown
    assert bar._bar is not None
    bar.close()

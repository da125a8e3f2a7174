"""Batch results -> plain text lines, JSON, Markdown and JUnit cases. No rich here.

The report of a failed case in JUnit is ``report.text`` at the width it needs: never cut.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gradcheck_cli.batch.runner import BatchResult, CaseOutcome
from gradcheck_cli.report.junit import JUnitCase
from gradcheck_cli.report.text import text as report_text

_MD_ICON = {"pass": ":white_check_mark:", "fail": ":x:", "error": ":warning:"}


def status_word(outcome: CaseOutcome) -> str:
    return outcome.status.upper()


def case_line(outcome: CaseOutcome) -> str:
    """``PASS  tutorial[seed=1]  w*x+b  mse  float32`` (errors add their message)."""
    spec = outcome.spec
    parts = [f"{status_word(outcome):<5}", outcome.case, outcome.model, spec.loss, spec.dtype]
    if outcome.error:
        parts.append(outcome.error)
    elif outcome.result is not None and not outcome.ok:
        parts.append("; ".join(outcome.result.problems()))
    return "  ".join(parts)


def count_line(summary: Mapping[str, int]) -> str:
    """``12 passed, 1 failed, 1 error`` (zero counts other than ``passed`` left out)."""
    parts = [f"{summary.get('passed', 0)} passed"]
    for key, count in summary.items():
        if key not in ("total", "passed") and count:
            parts.append(f"{count} {key}{'s' if key == 'error' and count > 1 else ''}")
    return ", ".join(parts)


def to_json(batch: BatchResult) -> str:
    return json.dumps(batch.to_dict(), indent=2, allow_nan=False)


def to_jsonl_line(outcome: CaseOutcome) -> str:
    return json.dumps(outcome.to_dict(), allow_nan=False)


def _cell(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{_cell(text)}`" if "`" not in text else _cell(text)


def _detail(outcome: CaseOutcome) -> str:
    if outcome.result is None:
        return outcome.error
    grads = outcome.result.gradients
    bad = [g for g in grads if g.verdict != "pass"]
    if not bad:
        return f"{len(grads)} of {len(grads)} gradients agree"
    return "; ".join(
        f"{g.param}: {g.verdict}, abs error {g.abs_error:.3g} > tolerance {g.tolerance:.3g}"
        if g.verdict == "fail"
        else f"{g.param}: {g.verdict}"
        for g in bad
    )


def markdown(batch: BatchResult) -> str:
    """A summary table fit for a pull-request comment or ``$GITHUB_STEP_SUMMARY``."""
    lines = [
        f"### gradcheck: {count_line(batch.summary())}",
        "",
        "| status | case | model | loss | dtype | seed | detail |",
        "| --- | --- | --- | --- | --- | ---: | --- |",
    ]
    for o in batch.outcomes:
        icon = _MD_ICON.get(o.status, ":grey_question:")
        lines.append(
            f"| {icon} {o.status} | {_cell(o.case)} | {_code(o.model)} | "
            f"{_cell(o.spec.loss)} | {o.spec.dtype} | {o.seed} | "
            f"{_cell(_detail(o))} |"
        )
    return "\n".join(lines) + "\n"


def junit_cases(batch: BatchResult) -> list[JUnitCase]:
    """One JUnit test case per case and seed; failures carry the plain-text table."""
    cases = []
    for o in batch.outcomes:
        if o.result is None:
            outcome, message, text = "error", o.error, o.detail or o.error
        elif o.ok:
            outcome, message, text = "passed", "", ""
        else:
            outcome, message = "failed", _detail(o)
            text = report_text(o.result, brief=bool(o.spec.brief))  # whole: no width
        cases.append(
            JUnitCase(
                classname=o.source,
                name=o.case,
                time_s=o.time_s,
                outcome=outcome,
                message=message,
                text=text,
            )
        )
    return cases

"""What a batch worker sends: a passed case without its formulas, when no report reads them.

Printing a SymPy gradient (``str``: it orders every sum's terms) costs a worker about 0.4 ms a
gradient, a tenth of a small case; a table or a JUnit file shows only the failed cases'
reports, so the command line asks its workers for those formulas alone.
"""

from __future__ import annotations

from dataclasses import replace

from gradcheck_cli.results import CheckResult, GradientResult


def without_formulas(result: CheckResult) -> CheckResult:
    """``result`` with every gradient's expression dropped (reading a formula then raises)."""
    return replace(
        result,
        gradients=tuple(_bare(g) for g in result.gradients),
        hessian=tuple(replace(h, entry=_bare(h.entry)) for h in result.hessian),
    )


def _bare(gradient: GradientResult) -> GradientResult:
    forward = gradient.forward and _bare(gradient.forward)
    return replace(gradient, expression=None, forward=forward)

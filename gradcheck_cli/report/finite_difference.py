"""The ``--fd`` section: each gradient's central difference beside gradcheck's conclusion.
No rich here (``report.layout`` lays it out)."""

from __future__ import annotations

from gradcheck_cli.report.layout import BOLD, Cell, Column, Grid
from gradcheck_cli.report.sections import STYLE, number, short
from gradcheck_cli.results import CheckResult

LEGEND = (
    (
        "fd",
        "central difference (f(p+eps) - f(p-eps)) / 2eps in float64, as "
        "torch.autograd.gradcheck takes it; fd err: |fd - exact|",
    ),
    (
        "gradcheck",
        "what torch.autograd.gradcheck would say: pass when |float64 autograd - fd| <= "
        "atol + rtol * |fd|",
    ),
)


def grid(result: CheckResult) -> Grid | None:
    """The finite-difference table (None without ``--fd``)."""
    rows = [(g.param, g.finite_difference) for g in result.gradients if g.finite_difference]
    if not rows:
        return None
    first = rows[0][1]
    grid = Grid(
        f"Finite differences (torch.autograd.gradcheck: float64, eps {first.eps:g}, "
        f"atol {first.atol:g}, rtol {first.rtol:g})",
        [
            Column("param", False),
            Column("fd"),
            Column("fd err"),
            Column("float64 autograd"),
            Column("gradcheck", False),
        ],
        keys=1,
    )
    for name, fd in rows:
        said = "pass" if fd.torch_gradcheck_would_pass else "fail"
        grid.add(
            Cell(name, BOLD),
            number(fd.value),
            short(fd.abs_error),
            number(fd.autograd),
            Cell(said, STYLE[said]),
        )
    return grid

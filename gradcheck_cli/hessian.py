"""Second derivatives (``--order 2``): every d2 loss / d p_i d p_j against torch's double
backward, each pair once (i <= j).

Row i of the Hessian is the gradient of d loss / d p_i, so each row is a gradient problem of
its own (``row``): the SymPy second derivatives (``symbolic.gradients`` of the first), torch's
double backward (``autograd_modes.row_function``: the gradient taken with
``create_graph=True``, differentiated again) recorded, replayed and bounded by
``torch_side.Autograd`` and ``rounding.trace`` like any backward (the SymPy fallback where
the tape does not handle an op, and the note says so), the constants torch holds inexactly,
the float64 rung, the kinks of the row's gradient, and the verdict from ``verdict.decide``
through ``gradients.Gradients``. The exact values are certified by one compiled program for
every pair (``exact.program``, ``exact.certify``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from gradcheck_cli.gradients import Gradients
from gradcheck_cli.results import HessianResult


@dataclass(frozen=True)
class Second:
    """What order 2 needs of a prepared model, built once: a prepared problem per row of the
    Hessian, and the program certifying every second derivative."""

    rows: tuple[Any, ...]  # pipeline.Prepared of d loss / d p_i: grads = row i
    program: Any  # exact.program.Program: row 0's entries, then row 1's, ...


def prepare(prepared: Any) -> Second:
    """The rows of the Hessian of a prepared model (``pipeline.Prepared``)."""
    from gradcheck_cli import torch_side
    from gradcheck_cli.autograd_modes import row_function
    from gradcheck_cli.exact import program, symbolic

    params = prepared.roles.params
    n = len(params)
    rows = []
    for i, grad in enumerate(prepared.grads):
        second = symbolic.gradients(grad, params)
        engine = row_function(prepared.forward, n, i)
        rows.append(
            replace(
                prepared,
                sym=symbolic.Lazy.known(prepared.z_expr, grad, second),  # its loss: grad
                smooth=False,  # a gradient may hold a switch its model lacks: look for kinks
                autograd=torch_side.Autograd(engine, n, cache=not prepared.lowerings),
                constants=_constants(prepared.constants[i], params) if prepared.constants else (),
                program=None,
            )
        )
    compiled = program.compile_program([e for r in rows for e in r.grads])
    return Second(tuple(rows), compiled)


def _constants(first: Any, params: tuple[str, ...]) -> tuple[Any, ...]:
    """``pipeline``'s constant sensitivities of gradient i, one derivative further: per entry of
    the row, (the entry with the inexact constants as symbols, its derivative in each)."""
    from gradcheck_cli.exact import symbolic

    grad_c, sensitivities = first
    found = []
    for entry in symbolic.gradients(grad_c, params):
        each = tuple(
            (c, symbolic.sympy.diff(entry, symbolic.symbol(c.name))) for c, _ in sensitivities
        )
        found.append((entry, each))
    return tuple(found)


def results(
    second: Second, options: Any, point: Any, loss_problem: str
) -> tuple[HessianResult, ...]:
    """Each second derivative, i <= j, judged at ``point`` (``torch_side.Sample``)."""
    from gradcheck_cli.exact.certify import Job, certify

    n = len(second.rows)
    options = replace(options, expect=(), decimals=None)  # hand values are of gradients
    jobs = [Job(k, options.reduction, options.dtype) for k in range(n * n)]
    exact = certify(second.program, point.points, jobs)
    found = []
    for i, row in enumerate(second.rows):
        got, traced, reason = row.autograd.run(list(point.tensors))
        certified = tuple(exact[i * n : (i + 1) * n])
        step = Gradients(row, options, point, got, traced, reason, certified)
        params = row.roles.params
        found += [
            HessianResult((params[i], params[j]), step.result(j, loss_problem)) for j in range(i, n)
        ]
    return tuple(found)

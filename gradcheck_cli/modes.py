"""Forward mode (``--mode forward|both``): the gradients as forward-mode AD computes them,
judged as reverse mode's are.

Forward mode's values (``autograd_modes.ForwardAutograd``: dual numbers, one direction per
parameter) go through the same ``gradients.Gradients``: the same exact gradient (certified
once, shared with reverse mode), the rounding bound of the recorded forward-mode ops (the
SymPy fallback where the tape does not handle one, and the note says so), the float64 rung
of the precision ladder run in forward mode too, and ``verdict.decide``. A model with a
function torch has no forward-mode rule for (a custom ``autograd.Function`` without ``jvp``)
gets a note instead: ``--mode both`` keeps reverse mode's verdicts, ``--mode forward`` checks
reverse mode in its place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from gradcheck_cli.gradients import Gradients
from gradcheck_cli.results import GradientResult


def engine(prepared: Any) -> Any:
    """Forward mode for a prepared model (``pipeline.Prepared``): recorded once, replayed."""
    from gradcheck_cli.autograd_modes import ForwardAutograd

    n = len(prepared.roles.params)
    return ForwardAutograd(prepared.forward, n, cache=not prepared.lowerings)


def results(
    prepared: Any,
    options: Any,
    point: Any,
    certified: tuple[Any, ...],
    loss_problem: str,
    reverse: Callable[[], tuple[GradientResult, ...]],
) -> tuple[GradientResult, ...]:
    """The gradients of a run in ``options.mode``; ``reverse`` gives reverse mode's. Each
    result of forward and both carries forward mode's in ``forward``."""
    if options.mode == "reverse":
        return reverse()
    found, why = _forward(prepared, options, point, certified, loss_problem)
    if options.mode == "forward":
        if found is None:
            note = f"forward mode unavailable ({why}): reverse mode checked instead"
            return tuple(_noted(g, note) for g in reverse())
        return tuple(replace(g, forward=g) for g in found)
    both = reverse()
    if found is None:
        return tuple(_noted(g, f"forward mode unavailable ({why})") for g in both)
    return tuple(replace(g, forward=f) for g, f in zip(both, found, strict=True))


def _forward(
    prepared: Any, options: Any, point: Any, certified: tuple[Any, ...], loss_problem: str
) -> tuple[tuple[GradientResult, ...] | None, str]:
    """Forward mode's gradients, or None and why there are none."""
    fwd = prepared.forward_mode or engine(prepared)
    got, traced, reason = fwd.run(list(point.tensors))
    if got is None:
        return None, reason
    if options.mode == "both":  # hand values are judged once, with reverse mode's gradients
        options = replace(options, expect=(), decimals=None)
    step = Gradients(
        replace(prepared, autograd=fwd), options, point, got, traced, reason, certified
    )
    return tuple(step.result(i, loss_problem) for i in range(len(prepared.roles.params))), ""


def _noted(g: GradientResult, note: str) -> GradientResult:
    return replace(g, note="; ".join(n for n in (g.note, note) if n))

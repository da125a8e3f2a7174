"""The checks of a run's forward pass, judged as gradients are (``verdict``): hand values of the
loss and of the model output (``--expect loss=`` / ``z=`` / ``z[i]=``), and ``--impl``'s model
output at each sample against the specification's exact value."""

from __future__ import annotations

import math
from typing import Any

from gradcheck_cli.gradients import exact_or_undefined
from gradcheck_cli.options import Options, hand_decimals
from gradcheck_cli.roles import forward_sample


def forward_hands(prepared: Any, options: Options, points: Any, loss: Any) -> tuple[Any, ...]:
    """The verdicts on hand values of the forward pass (``--expect loss=`` / ``z=`` /
    ``z[i]=``), judged as a gradient's: the envelope of the loss over every sample, or of the
    model at sample i. A value whose exact counterpart is undefined is not judged (the check
    is undefined already)."""
    from gradcheck_cli.rounding import hand as handcalc
    from gradcheck_cli.verdict import judge_hand

    found = []
    for name, text in options.expect:
        forward = forward_sample(name, prepared.roles.params)
        if forward is None:
            continue
        if forward[0] == "loss":
            expr, at, exact = prepared.loss_expr, list(points), loss
        else:
            expr, at = prepared.z_expr, [points[forward[1]]]
            exact = exact_or_undefined(lambda e=expr: e, (at[0],), options)[0]
        if exact is None:
            continue
        decimals, answer, source = hand_decimals(text, name, options.decimals)
        reduction = options.reduction if forward[0] == "loss" else "sum"
        env = handcalc.envelope(expr, at, reduction, decimals, answer, exact.value, source)
        found.append(judge_hand(name, text, env))
    return tuple(found)


def impl_forward(
    prepared: Any, options: Options, points: Any, exact_z: Any, got_z: Any
) -> tuple[Any, ...]:
    """``--impl``: each sample's z from the user's function against the specification's exact
    value (``exact_z``, the run's own; NaN where undefined: the gradients' verdicts say so)."""
    from gradcheck_cli import verdict
    from gradcheck_cli.results import ForwardCheck
    from gradcheck_cli.rounding.bounds import sympy_bound

    checks = []
    for index, (point, exact, got) in enumerate(zip(points, exact_z, got_z, strict=True)):
        if not math.isfinite(float(exact)):
            continue
        bound = sympy_bound(prepared.z_expr, [point], "sum", options.dtype)
        note = "bound: the specification's rounding as written (SymPy sweep)"
        facts = verdict.Facts(exact, got, bound, options.dtype, rigorous=False, notes=(note,))
        d = verdict.decide(facts)
        checks.append(
            ForwardCheck(
                index, float(exact), got, d.abs_error, d.tolerance, str(d.verdict), d.reason
            )
        )
    return tuple(checks)

"""Entries outside the grammar: functions the losses build (``losses.py``)."""

from __future__ import annotations

from typing import Any

from gradcheck_cli.expr.catalog import numeric as n
from gradcheck_cli.expr.catalog.spec import FunctionSpec

BCE_EPSILON = "1e-12"  # torch's clamp of z*(1-z) in binary_cross_entropy's backward


def _bce(ctx: Any, z: Any, y: Any) -> Any:
    n.domain(n.decide(0 <= z) and z <= 1, "binary cross-entropy of a z outside [0, 1]")
    floor = ctx.mpf(-100)
    log_z = n.extreme(ctx, (ctx.log(z), floor), True) if n.decide(z > 0) else floor
    log_1mz = n.extreme(ctx, (ctx.log(1 - z), floor), True) if n.decide(z < 1) else floor
    return -(y * log_z + (1 - y) * log_1mz)


def _bce_definition(s: Any, z: Any, y: Any) -> Any:
    return -(y * s.Max(s.log(z), -100) + (1 - y) * s.Max(s.log(1 - z), -100))


ENTRIES = [
    FunctionSpec(
        "bce",
        "torch's binary_cross_entropy of one sample bce(z, y): -(y*max(log z, -100) + "
        "(1-y)*max(log(1-z), -100)); its derivative in z is torch's backward "
        "(z - y) / max(z*(1-z), 1e-12), the true derivative wherever no clamp is active",
        _bce,
        sympy="bce",
        derivatives=(
            lambda s, z, y: (z - y) / s.Max(z * (1 - z), s.Rational(BCE_EPSILON)),
            lambda s, z, y: s.Max(s.log(1 - z), -100) - s.Max(s.log(z), -100),
        ),
        definition=_bce_definition,
        arity=(2, 2),
        interval=True,
        torch_name="torch.nn.functional.binary_cross_entropy",
        aten=("binary_cross_entropy.default", "binary_cross_entropy_backward.default"),
    ),
]

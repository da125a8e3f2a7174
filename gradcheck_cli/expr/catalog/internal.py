"""Entries outside the grammar: functions the losses build (``losses.py``)."""

from __future__ import annotations

import struct
from typing import Any

from gradcheck_cli.expr.catalog import numeric as n
from gradcheck_cli.expr.catalog.spec import FunctionSpec

# torch's clamp of z*(1-z) in binary_cross_entropy's backward: 1e-12 held as a float32 (in
# float64 too: torch's float64 gradient at a clamped point is the exact one times
# 1e-12 / float32(1e-12) = 1 + 4.0e-9, measured), so the number itself, exactly
BCE_EPSILON = struct.unpack("f", struct.pack("f", 1e-12))[0]  # 9.999999960041972e-13
_EXACT_EPSILON = BCE_EPSILON.as_integer_ratio()


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
        "(z - y) / max(z*(1-z), float32(1e-12)), the true derivative wherever no clamp is active",
        _bce,
        sympy="bce",
        derivatives=(
            lambda s, z, y: (z - y) / s.Max(z * (1 - z), s.Rational(*_EXACT_EPSILON)),
            lambda s, z, y: s.Max(s.log(1 - z), -100) - s.Max(s.log(z), -100),
        ),
        definition=_bce_definition,
        arity=(2, 2),
        interval=True,
        torch_name="torch.nn.functional.binary_cross_entropy",
        aten=("binary_cross_entropy.default", "binary_cross_entropy_backward.default"),
    ),
]

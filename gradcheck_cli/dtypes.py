"""The floating-point formats gradcheck works in: one record per dtype, standard library only.

``DTYPES`` is the one table of supported dtypes; the ``--dtype`` choices come from its keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class DType:
    """One IEEE 754 binary format as torch implements it."""

    name: str  # as typed on the command line and in case files
    bits: int  # precision p: significand bits, the implicit leading bit included
    unit_roundoff: float  # u = 2**-p: the largest relative error of one rounding to nearest
    tiny: float  # the smallest positive subnormal
    max: float  # the largest finite value
    torch_name: str  # getattr(torch, torch_name) is the torch dtype


DTYPES: dict[str, DType] = {
    d.name: d
    for d in (
        DType("float32", 24, 2.0**-24, 2.0**-149, (2 - 2.0**-23) * 2.0**127, "float32"),
        DType("float64", 53, 2.0**-53, 2.0**-1074, (2 - 2.0**-52) * 2.0**1023, "float64"),
    )
}


def ulp(value: float, dtype: str) -> float:
    """The spacing of ``dtype`` floats at ``value`` (the subnormal spacing near zero)."""
    value = abs(value)
    if value == 0 or math.isinf(value):
        return DTYPES[dtype].tiny
    exponent = math.frexp(value)[1] - 1  # value = m * 2^exponent, 1 <= m < 2
    return max(2.0 ** (exponent - DTYPES[dtype].bits + 1), DTYPES[dtype].tiny)


def floats_between(a: float, b: float, dtype: str) -> int:
    """How many ``dtype`` values lie between a and b (0 when equal)."""
    import numpy

    kind, width = (
        (numpy.float32, numpy.int32) if dtype == "float32" else (numpy.float64, numpy.int64)
    )

    def ordinal(x: float) -> int:
        i = int(numpy.array(x, dtype=kind).view(width))
        return i if i >= 0 else -(i & (2 ** (8 * numpy.dtype(width).itemsize - 1) - 1))

    return abs(ordinal(a) - ordinal(b))
